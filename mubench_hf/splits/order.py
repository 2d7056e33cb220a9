"""Deletion orders: a seeded permutation of the train indices, or an imported MU-Bench index list."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import MubenchError

# Documented generator: NumPy's default_rng (PCG64) seeded with the build seed, one permutation of
# range(num_train), truncated to the length needed.
ORDER_GENERATOR = "numpy.random.default_rng(seed).permutation(num_train)"


def seeded_order(num_train: int, length: int, seed: int) -> np.ndarray:
    """The first ``length`` entries of a seeded permutation of ``range(num_train)``."""
    return np.random.default_rng(seed).permutation(num_train)[:length].astype(np.int64)


def read_order_file(path: str | os.PathLike, num_train: int, needed: int) -> np.ndarray:
    """Read an order file (one train index per line, MU-Bench's format) and check it.

    Blank lines are ignored. Duplicates, non-integers, indices outside ``[0, num_train)`` and a file
    shorter than ``needed`` are errors that name the line.
    """
    path = Path(path)
    if path.is_dir():
        raise MubenchError(f"order file {path} is a folder; give a text file with one train index per line")
    if not path.is_file():
        raise MubenchError(
            f"order file {path} does not exist; give a text file with one train index per line"
        )
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise MubenchError(
            f"order file {path} is not UTF-8 text; give a text file with one train index per line"
        ) from None
    indices: list[int] = []
    seen: dict[int, int] = {}
    for line_no, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            index = int(text)
        except ValueError:
            raise MubenchError(
                f"order file {path}, line {line_no}: {text!r} is not an integer train index"
            ) from None
        if not 0 <= index < num_train:
            raise MubenchError(
                f"order file {path}, line {line_no}: index {index} is out of range [0, {num_train})"
            )
        if index in seen:
            raise MubenchError(f"order file {path}, line {line_no}: index {index} repeats line {seen[index]}")
        seen[index] = line_no
        indices.append(index)
    if not indices:
        raise MubenchError(
            f"order file {path} is empty; give one train index per line (the largest ratio needs {needed})"
        )
    if len(indices) < needed:
        raise MubenchError(
            f"order file {path} lists {len(indices)} indices but the largest ratio needs {needed}"
        )
    return np.asarray(indices, dtype=np.int64)
