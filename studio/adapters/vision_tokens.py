"""Visual-token arithmetic of transformers' image processors, vectorised over many image sizes (numpy, no
transformers import): the budget counts 10,000 images for every catalog model without decoding an image.

Each function repeats the processor's arithmetic operation for operation (same float divisions, same
round-half-to-even), so the results are identical; tests compare them with the real processors.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def qwen_resized(
    widths, heights, factor: int, min_pixels: int, max_pixels: int
) -> tuple[np.ndarray, np.ndarray]:
    """(widths, heights) after transformers' Qwen2-VL ``smart_resize`` (also used by Qwen2.5-VL, Qwen3-VL and
    Qwen3.5). Raises `ValueError` for aspect ratios over 200, as the processor does."""
    w = np.asarray(widths, dtype=np.float64)
    h = np.asarray(heights, dtype=np.float64)
    if w.size and (np.maximum(w, h) / np.minimum(w, h) > 200).any():
        raise ValueError("absolute aspect ratio must be smaller than 200")
    h_bar = np.round(h / factor) * factor
    w_bar = np.round(w / factor) * factor
    too_big = h_bar * w_bar > max_pixels
    too_small = ~too_big & (h_bar * w_bar < min_pixels)
    if too_big.any():
        beta = np.sqrt((h * w) / max_pixels)
        h_bar = np.where(too_big, np.maximum(factor, np.floor(h / beta / factor) * factor), h_bar)
        w_bar = np.where(too_big, np.maximum(factor, np.floor(w / beta / factor) * factor), w_bar)
    if too_small.any():
        beta = np.sqrt(min_pixels / (h * w))
        h_bar = np.where(too_small, np.ceil(h * beta / factor) * factor, h_bar)
        w_bar = np.where(too_small, np.ceil(w * beta / factor) * factor, w_bar)
    return w_bar.astype(np.int64), h_bar.astype(np.int64)


def qwen_tokens(widths, heights, patch: int, merge: int, min_pixels: int, max_pixels: int) -> np.ndarray:
    """Image placeholder tokens per image: (resized / patch)^2 patches merged merge x merge."""
    w, h = qwen_resized(widths, heights, patch * merge, min_pixels, max_pixels)
    return (w // patch) * (h // patch) // (merge * merge)


@lru_cache(maxsize=32)
def _arrangements(min_tiles: int, max_tiles: int) -> tuple[tuple[int, int], ...]:
    """transformers' ``get_all_supported_aspect_ratios``: (columns, rows), sorted by tile count (stable)."""
    grids = [
        (c, r)
        for c in range(1, max_tiles + 1)
        for r in range(1, max_tiles + 1)
        if min_tiles <= c * r <= max_tiles
    ]
    return tuple(sorted(grids, key=lambda g: g[0] * g[1]))


def tile_grid(widths, heights, tile: int, min_tiles: int, max_tiles: int) -> tuple[np.ndarray, np.ndarray]:
    """(columns, rows) chosen by transformers' ``get_optimal_tiled_canvas`` (GotOcr2 / InternVL processors):
    the closest aspect ratio; on a tie, more tiles while the image covers over half of their area."""
    w = np.asarray(widths, dtype=np.float64)
    h = np.asarray(heights, dtype=np.float64)
    aspect = w / h
    area = w * h
    best_diff = np.full(w.shape, np.inf)
    cols = np.ones(w.shape, dtype=np.int64)
    rows = np.ones(w.shape, dtype=np.int64)
    for c, r in _arrangements(min_tiles, max_tiles):
        diff = np.abs(aspect - c / r)
        better = diff < best_diff
        tie = (diff == best_diff) & (area > 0.5 * tile * tile * c * r)
        take = better | tie
        best_diff = np.where(better, diff, best_diff)
        cols = np.where(take, c, cols)
        rows = np.where(take, r, rows)
    return cols, rows


def tile_count(widths, heights, tile: int, min_tiles: int, max_tiles: int, thumbnail: bool) -> np.ndarray:
    """Tiles the processor produces: the grid, plus one thumbnail when the grid has more than one tile."""
    if max_tiles <= 1:
        return np.ones(np.shape(widths), dtype=np.int64)
    cols, rows = tile_grid(widths, heights, tile, min_tiles, max_tiles)
    n = cols * rows
    return np.where(n > 1, n + (1 if thumbnail else 0), 1)


def anyres_tokens(widths, heights, tile: int, patch: int, pinpoints, base_tokens: int) -> np.ndarray:
    """LLaVA-NeXT's ``_get_number_of_features`` (default feature strategy): the canvas from
    ``select_best_resolution``, its patch grid with the padding rows or columns removed, one newline token per
    row, plus the base view."""
    w = np.asarray(widths, dtype=np.float64)
    h = np.asarray(heights, dtype=np.float64)
    best_h = np.zeros(w.shape, dtype=np.int64)
    best_w = np.zeros(w.shape, dtype=np.int64)
    max_effective = np.zeros(w.shape)
    min_wasted = np.full(w.shape, np.inf)
    for ph, pw in pinpoints:
        scale = np.minimum(pw / w, ph / h)
        effective = np.minimum(np.floor(w * scale) * np.floor(h * scale), w * h)
        wasted = pw * ph - effective
        take = (effective > max_effective) | ((effective == max_effective) & (wasted < min_wasted))
        max_effective = np.where(take, effective, max_effective)
        min_wasted = np.where(take, wasted, min_wasted)
        best_h = np.where(take, ph, best_h)
        best_w = np.where(take, pw, best_w)
    grid = tile // patch
    current_h = grid * (best_h // tile)
    current_w = grid * (best_w // tile)
    wider = w / h > current_w / current_h
    new_h = np.trunc(np.round(h * (current_w / w), 7)).astype(np.int64)
    new_w = np.trunc(np.round(w * (current_h / h), 7)).astype(np.int64)
    current_h = np.where(wider, current_h - 2 * ((current_h - new_h) // 2), current_h)
    current_w = np.where(wider, current_w, current_w - 2 * ((current_w - new_w) // 2))
    return current_h * current_w + current_h + base_tokens
