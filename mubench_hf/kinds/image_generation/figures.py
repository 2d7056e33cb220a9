"""The sample grid of a report: one row of generated images per shown concept (PIL only, no plotting library)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

#: images per row and the upscaling of each (8x8 digits are unreadable at their own size)
GRID_COLUMNS = 8
GRID_SCALE = 6


def sample_grid(
    images: torch.Tensor, labels: np.ndarray, shown: list[int], captions: list[str]
) -> Image.Image:
    """A grey or RGB image: for each concept in ``shown`` its caption and its first ``GRID_COLUMNS`` images."""
    rows = []
    for concept in shown:
        chosen = images[np.flatnonzero(labels == concept)[:GRID_COLUMNS]]
        pixels = ((chosen.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        rows.append(pixels)
    side, channels = rows[0].shape[1], rows[0].shape[3]
    cell = side * GRID_SCALE
    caption_width = 220
    mode = "L" if channels == 1 else "RGB"
    grid = Image.new(
        mode,
        (caption_width + GRID_COLUMNS * cell, len(rows) * cell),
        color=255 if mode == "L" else (255,) * 3,
    )
    draw = ImageDraw.Draw(grid)
    for r, (pixels, caption) in enumerate(zip(rows, captions)):
        draw.text((4, r * cell + cell // 3), caption, fill=0 if mode == "L" else (0, 0, 0))
        for c, image in enumerate(pixels):
            tile = Image.fromarray(image[..., 0] if channels == 1 else image, mode=mode).resize(
                (cell, cell), Image.NEAREST
            )
            grid.paste(tile, (caption_width + c * cell, r * cell))
    return grid


def save_sample_grid(
    images: torch.Tensor, labels: np.ndarray, shown: list[int], captions: list[str], path: Path
) -> Path:
    """Write :func:`sample_grid` as a PNG at ``path`` (atomically)."""
    tmp = path.with_suffix(".tmp.png")
    sample_grid(images, labels, shown, captions).save(tmp)
    tmp.replace(path)
    return path
