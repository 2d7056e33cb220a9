"""Input checks shared by every metric: clear ``ValueError`` messages that name the argument.

Metrics are computed on model outputs gathered from several splits; the usual mistakes are mixing up
splits (lengths that disagree), logits from a different head (class count that disagrees), labels
that were never mapped to ids, and NaN/inf from a diverged unlearning run. Catching them here keeps
the arithmetic modules free of defensive code and the messages uniform.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mubench_hf.errors import MubenchError


def _float_dtype(array: np.ndarray) -> np.dtype:
    # float32 logits (what models emit) stay float32: the metrics are means of bounded quantities
    # and float32 halves memory and time on large forget sets and teacher stacks. Anything else is
    # computed in float64.
    if array.dtype == np.float32 or array.dtype == np.float16:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _as_array(values: ArrayLike, name: str) -> np.ndarray:
    try:
        array = np.asarray(values)
    except ValueError as err:  # ragged nested lists
        raise MubenchError(f"{name} must be a rectangular array; could not convert it: {err}") from err
    if array.dtype == object:
        raise MubenchError(f"{name} must hold numbers; got an array of Python objects (ragged rows or None?)")
    return array


def as_logits(values: ArrayLike, name: str) -> np.ndarray:
    """``values`` as a finite, non-empty, 2-D float array of shape (samples, classes)."""
    array = _as_array(values, name)
    if array.ndim in (1, 2) and array.shape[0] == 0:
        raise MubenchError(f"{name} is empty: the split has no samples, so no metric can be computed on it")
    if array.ndim != 2:
        raise MubenchError(
            f"{name} must be 2-D with shape (samples, classes); got shape {array.shape}. "
            "Pass the model's raw logits, one row per sample."
        )
    if array.shape[1] < 2:
        raise MubenchError(f"{name} must have at least 2 columns (classes); got shape {array.shape}")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise MubenchError(f"{name} must be numeric; got dtype {array.dtype}")
    array = array.astype(_float_dtype(array), copy=False)
    finite = np.isfinite(array)
    if not finite.all():
        bad_rows = np.flatnonzero(~finite.all(axis=1))
        raise MubenchError(
            f"{name} contains non-finite values (NaN or inf) in {bad_rows.size} row(s), first at row "
            f"{bad_rows[0]}; a diverged model cannot be scored"
        )
    return array


def as_labels(
    values: ArrayLike, name: str, *, num_labels: int, num_rows: int, logits_name: str
) -> np.ndarray:
    """``values`` as a 1-D int64 array of class ids in ``[0, num_labels)`` with ``num_rows`` entries."""
    array = _as_array(values, name)
    if array.ndim != 1:
        raise MubenchError(f"{name} must be 1-D (one class id per sample); got shape {array.shape}")
    if array.shape[0] != num_rows:
        raise MubenchError(
            f"{name} has {array.shape[0]} labels but {logits_name} has {num_rows} rows; "
            "they must describe the same samples in the same order"
        )
    if np.issubdtype(array.dtype, np.floating):
        # Labels that went through a float container (Arrow, pandas) are fine if they are whole numbers.
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise MubenchError(f"{name} must hold integer class ids; got non-integer values")
    elif not (np.issubdtype(array.dtype, np.integer) or array.dtype == bool):
        raise MubenchError(f"{name} must hold integer class ids; got dtype {array.dtype}")
    array = array.astype(np.int64, copy=False)
    outside = (array < 0) | (array >= num_labels)
    if outside.any():
        first = int(np.flatnonzero(outside)[0])
        raise MubenchError(
            f"{name} must lie in [0, {num_labels}) (num_labels={num_labels}); found {array[first]} at index "
            f"{first}. Map string labels to ids first; -100 style padding is not a valid label here"
        )
    return array


def check_num_labels(num_labels: int | None, logits: np.ndarray, name: str) -> int:
    """The class count: ``num_labels`` if given (checked against the logits), else the logits' width."""
    width = int(logits.shape[1])
    if num_labels is None:
        return width
    if isinstance(num_labels, bool) or not isinstance(num_labels, (int, np.integer)) or num_labels < 2:
        raise MubenchError(f"num_labels must be an integer >= 2; got {num_labels!r}")
    if width != num_labels:
        raise MubenchError(f"{name} has {width} classes (columns) but num_labels={num_labels}")
    return int(num_labels)


def check_same_width(logits: np.ndarray, name: str, reference: np.ndarray, reference_name: str) -> None:
    """Every split must come from the same classification head."""
    if logits.shape[1] != reference.shape[1]:
        raise MubenchError(
            f"{name} has {logits.shape[1]} classes but {reference_name} has {reference.shape[1]}; "
            "every split must be scored by the same classifier head"
        )


def check_reference_shape(logits: np.ndarray, name: str, expected: tuple[int, ...], split: str) -> None:
    """A reference model's (retrain, teacher) outputs must cover the same samples and classes."""
    if tuple(logits.shape) != tuple(expected):
        raise MubenchError(
            f"{name} has shape {tuple(logits.shape)} but the unlearned model's {split} logits have shape "
            f"{tuple(expected)}: the reference model looks like it was evaluated on a different task or "
            f"deletion config (the {split} split must have the same samples and classes)"
        )


def as_teacher_logits(values: ArrayLike, name: str, *, expected: tuple[int, int]) -> np.ndarray:
    """Random-teacher logits as a 3-D stack (teachers, samples, classes); a single 2-D array is one teacher."""
    array = _as_array(values, name)
    if array.ndim == 2:
        array = array[np.newaxis]
    if array.ndim != 3:
        raise MubenchError(
            f"{name} must have shape (samples, classes) or (teachers, samples, classes); got {array.shape}"
        )
    if array.shape[0] == 0:
        raise MubenchError(f"{name} holds no teachers (leading axis of length 0)")
    check_reference_shape(array[0], name, expected, "forget")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise MubenchError(f"{name} must be numeric; got dtype {array.dtype}")
    # Finiteness is checked by the ZRF computation block by block (a NaN or inf in the logits makes that
    # block's divergence non-finite), which saves a full extra pass over a possibly very large stack.
    return array.astype(_float_dtype(array), copy=False)


def check_fraction(value: float, name: str) -> float:
    """A rate or accuracy in [0, 1]."""
    value = float(value)
    if not (0.0 <= value <= 1.0):
        raise MubenchError(f"{name} must be in [0, 1]; got {value}")
    return value
