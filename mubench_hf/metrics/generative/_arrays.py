"""Input checks and ragged-to-padded conversion shared by the generative metrics.

Per-token quantities (log-probabilities of the target tokens, their vocabulary mean and variance,
predicted ids) differ in length from sample to sample. The metrics take them either as a list of
1-D sequences (one per sample) or as a padded 2-D array with a boolean ``mask`` (True = a real token,
real tokens first in each row), and work on the padded form so that every per-sample reduction is one
vectorised NumPy call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from mubench_hf.errors import MubenchError


def as_vector(values: ArrayLike, name: str, *, allow_empty: bool = False) -> np.ndarray:
    """``values`` as a finite 1-D float64 array (one number per sample)."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise MubenchError(f"{name} must be one number per sample; could not convert it: {err}") from err
    if array.ndim != 1:
        raise MubenchError(f"{name} must be 1-D (one number per sample); got shape {array.shape}")
    if array.size == 0 and not allow_empty:
        raise MubenchError(f"{name} is empty: the split has no samples, so no metric can be computed on it")
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise MubenchError(
            f"{name} holds a non-finite value (NaN or inf) at index {bad}; a diverged model cannot be scored"
        )
    return array


def padded(
    values: ArrayLike | Sequence[ArrayLike], name: str, *, mask: ArrayLike | None = None, dtype=np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """``(array, mask)``: ``values`` as a padded (samples, tokens) array and its boolean token mask.

    ``values`` is a list of per-sample sequences (ragged) or, with ``mask``, an already padded 2-D array.
    Masked-out entries of the returned array are 0.
    """
    if mask is not None:
        array = np.asarray(values, dtype=dtype)
        keep = np.asarray(mask, dtype=bool)
        if array.ndim != 2 or keep.shape != array.shape:
            raise MubenchError(
                f"{name} must be a 2-D (samples, tokens) array with a mask of the same shape; got "
                f"{array.shape} and mask {keep.shape}"
            )
        if np.any(~keep[:, :-1] & keep[:, 1:]):
            raise MubenchError(f"{name}: the mask must mark each row's real tokens first (right padding)")
    else:
        try:
            rows = [np.asarray(row, dtype=dtype).ravel() for row in values]
        except (TypeError, ValueError) as err:
            raise MubenchError(f"{name} must be one sequence of numbers per sample: {err}") from err
        if not rows:
            raise MubenchError(
                f"{name} is empty: the split has no samples, so no metric can be computed on it"
            )
        lengths = np.array([row.size for row in rows])
        width = max(int(lengths.max()), 1)
        keep = np.arange(width)[None, :] < lengths[:, None]
        array = np.zeros((len(rows), width), dtype=dtype)
        array[keep] = np.concatenate(rows) if lengths.sum() else []
    if array.shape[0] == 0:
        raise MubenchError(f"{name} is empty: the split has no samples, so no metric can be computed on it")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array[keep])):
        raise MubenchError(f"{name} holds non-finite values (NaN or inf); a diverged model cannot be scored")
    return np.where(keep, array, 0), keep


def check_same_rows(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    """Two per-sample inputs must describe the same samples."""
    if a.shape[0] != b.shape[0]:
        raise MubenchError(
            f"{a_name} has {a.shape[0]} samples but {b_name} has {b.shape[0]}; they must describe the same "
            "samples in the same order"
        )
