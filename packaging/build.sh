#!/usr/bin/env bash
# Build the one-folder application bundle DIST/vlm-studio/ (PyInstaller, packaging/vlm-studio.spec) and check it.
#
#   packaging/build.sh [--torch cpu|cuda|installed] [--dist DIR] [--work DIR] [--python PY]
#
#   --torch installed  bundle the Python environment that runs the build as it is (default; --python, else
#                      $VIRTUAL_ENV, else .venv/, else python3): it must have VLM Studio and PyInstaller installed
#                      (pip install -e '.[bundle]')
#   --torch cpu        make a build environment in WORK/env-cpu with the CPU-only torch (about 1 GB bundle)
#   --torch cuda       make a build environment in WORK/env-cuda with PyPI's CUDA torch (about 5 GB bundle)
#   --dist DIR         where the bundle goes (default: dist/); --work DIR: PyInstaller's work files (default: build/)
#
# The bundle needs no Python on the target machine: copy DIST/vlm-studio/ anywhere and run vlm-studio in it. Its
# executable takes the same commands as a pip install's (vlm-studio --help). After the build the script runs
# `vlm-studio models`, `vlm-studio sample` and `vlm-studio train SAMPLE --check` from the bundle, with an
# environment free of Python (no venv or PYTHONPATH, a fresh HOME), and prints the build time and the bundle's size.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TORCH=installed
DIST=$ROOT/dist
WORK=$ROOT/build
PYTHON=
while [ $# -gt 0 ]; do
    case $1 in
        --torch) TORCH=$2; shift 2 ;;
        --dist) DIST=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --python) PYTHON=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
case $TORCH in
    installed|cpu|cuda) ;;
    *) echo "build.sh: --torch takes cpu, cuda or installed, not $TORCH" >&2; exit 2 ;;
esac
DIST=$(mkdir -p "$DIST" && cd "$DIST" && pwd)
WORK=$(mkdir -p "$WORK" && cd "$WORK" && pwd)
started=$(date +%s)

case $TORCH in
    installed)
        if [ -z "$PYTHON" ]; then
            if [ -n "${VIRTUAL_ENV:-}" ]; then PYTHON=$VIRTUAL_ENV/bin/python
            elif [ -x "$ROOT/.venv/bin/python" ]; then PYTHON=$ROOT/.venv/bin/python
            else PYTHON=python3; fi
        fi ;;
    cpu|cuda)
        env=$WORK/env-$TORCH
        [ -x "$env/bin/python" ] || python3 -m venv "$env"
        PYTHON=$env/bin/python
        extra=()  # the CPU index's +cpu builds rank above PyPI's of the same version (as in the README)
        [ "$TORCH" = cpu ] && extra=(--extra-index-url https://download.pytorch.org/whl/cpu)
        "$PYTHON" -m pip install --upgrade pip
        "$PYTHON" -m pip install "$ROOT[bundle]" "${extra[@]}" ;;
esac

"$PYTHON" - <<'EOF'
import importlib.util, sys
missing = [name for name in ("studio", "PyInstaller", "torch") if importlib.util.find_spec(name) is None]
if missing:
    sys.exit(f"build.sh: {sys.executable} lacks {', '.join(missing)}: pip install -e '.[bundle]' into it first")
import torch
print(f"bundling torch {torch.__version__} ({'CUDA ' + torch.version.cuda if torch.version.cuda else 'CPU only'})")
EOF

rm -rf "$DIST/vlm-studio"
(cd "$ROOT" && "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK/pyinstaller" packaging/vlm-studio.spec)
built=$(date +%s)

# The desktop files travel with the bundle, for a user who wants it in the application menu (docs/packaging.md).
mkdir -p "$DIST/vlm-studio/share/applications" "$DIST/vlm-studio/share/metainfo" "$DIST/vlm-studio/share/mime/packages"
cp -r "$ROOT/packaging/icons" "$DIST/vlm-studio/share/"
cp "$ROOT"/packaging/linux/*.desktop "$DIST/vlm-studio/share/applications/"
cp "$ROOT"/packaging/linux/*.metainfo.xml "$DIST/vlm-studio/share/metainfo/"
cp "$ROOT/packaging/linux/io.github.vlmstudio.VLMStudio.mime.xml" \
    "$DIST/vlm-studio/share/mime/packages/io.github.vlmstudio.VLMStudio.xml"

# The check: the bundle alone, no venv on PATH, no PYTHONPATH, a fresh HOME (its own Python is inside).
app=$DIST/vlm-studio/vlm-studio
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
bare=(env -i HOME="$scratch/home" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen)
"${bare[@]}" "$app" models >/dev/null
"${bare[@]}" "$app" sample "$scratch/sample" --count 20
"${bare[@]}" "$app" train "$scratch/sample" --check
checked=$(date +%s)

echo "bundle: $DIST/vlm-studio ($(du -sh "$DIST/vlm-studio" | cut -f1)); built in $((built - started)) s," \
     "checked in $((checked - built)) s"
