#!/usr/bin/env bash
# The PNG sizes of the application icon, from the one SVG the window uses too (needs rsvg-convert: Debian librsvg2-bin).
set -euo pipefail
cd "$(dirname "$0")/.."
for size in 16 24 32 48 64 128 256 512; do
    out="packaging/icons/hicolor/${size}x${size}/apps"
    mkdir -p "$out"
    rsvg-convert -w "$size" -h "$size" studio/resources/icons/vlm-studio.svg -o "$out/io.github.vlmstudio.VLMStudio.png"
done
mkdir -p packaging/icons/hicolor/scalable/apps
cp studio/resources/icons/vlm-studio.svg packaging/icons/hicolor/scalable/apps/io.github.vlmstudio.VLMStudio.svg
