"""Extraction strength (Carlini et al. 2021's extractable memorisation in the form open-unlearning uses,
``extraction_strength`` in ``src/evals/metrics/memorization.py``).

Teacher-forced on the prompt and the answer ``y``, the model predicts each answer token by argmax.
Extraction strength is ``1 - k*/|y|`` with ``k*`` the smallest prefix length from which every remaining
token is predicted correctly: the share of the answer at its end that the model would complete by itself.
Equivalently, the length of the longest correctly predicted suffix divided by ``|y|``. 1 = every token
predicted, 0 = even the last token is wrong.

open-unlearning's loop stops at ``k = |y| - 1``, so an answer whose last token is mispredicted scores
``1/|y|`` there instead of 0; here the empty suffix (``k = |y|``) is allowed, as the definition says.
:func:`extraction_strengths_open_unlearning` is open-unlearning's variant (its loop, exactly), reported as
``extraction_strength_open_unlearning`` so that numbers can stand next to its tables. The two differ only on
rows whose last answer token is mispredicted.

:func:`exact_memorizations` is open-unlearning's ``exact_memorization``: the share of answer tokens the
model's argmax predicts, teacher-forced (rows without answer tokens are left out of the mean, as there).
The report drops the final end-of-sequence token before scoring all three, as open-unlearning does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from mubench_hf.errors import MubenchError
from mubench_hf.metrics.generative._arrays import padded


def extraction_strengths(
    predicted_ids: ArrayLike | Sequence[ArrayLike],
    target_ids: ArrayLike | Sequence[ArrayLike],
    mask: ArrayLike | None = None,
) -> np.ndarray:
    """Per-sample extraction strength in [0, 1]; a sample without answer tokens scores 0.

    Args:
        predicted_ids: argmax token ids at each answer position (teacher-forced), one sequence per sample
            or a padded 2-D array with ``mask``.
        target_ids: the answer's token ids, same shape.
        mask: with padded inputs, True where a real answer token is (real tokens first in each row).
    """
    pred, keep = padded(predicted_ids, "predicted_ids", mask=mask, dtype=np.int64)
    target, keep_t = padded(target_ids, "target_ids", mask=mask, dtype=np.int64)
    if pred.shape != target.shape or not np.array_equal(keep, keep_t):
        raise MubenchError("predicted_ids and target_ids must have the same number of tokens per sample")
    lengths = keep.sum(axis=1)
    wrong = keep & (pred != target)
    # index of each row's last mispredicted token (-1 when none): the correct suffix starts right after it
    positions = np.arange(pred.shape[1])[None, :]
    last_wrong = np.where(wrong, positions, -1).max(axis=1)
    suffix = lengths - 1 - last_wrong
    return np.where(lengths > 0, suffix / np.maximum(lengths, 1), 0.0)


def extraction_strength(
    predicted_ids: ArrayLike | Sequence[ArrayLike],
    target_ids: ArrayLike | Sequence[ArrayLike],
    mask: ArrayLike | None = None,
) -> float:
    """Mean extraction strength over the samples (see :func:`extraction_strengths`)."""
    return float(extraction_strengths(predicted_ids, target_ids, mask).mean())


def extraction_strengths_open_unlearning(
    predicted_ids: ArrayLike | Sequence[ArrayLike],
    target_ids: ArrayLike | Sequence[ArrayLike],
    mask: ArrayLike | None = None,
) -> np.ndarray:
    """Per-sample extraction strength as open-unlearning's loop computes it: the search for the shortest
    prefix ``k`` stops at ``|y| - 1``, so a row whose last token is wrong scores ``1/|y|``, not 0 (the only
    difference from :func:`extraction_strengths`). A sample without answer tokens scores 0, as there."""
    ours = extraction_strengths(predicted_ids, target_ids, mask)
    _, keep = padded(target_ids, "target_ids", mask=mask, dtype=np.int64)
    lengths = keep.sum(axis=1)
    # ours is 0 exactly when the last token is wrong; open-unlearning then stops at k = |y| - 1
    return np.where((lengths > 0) & (ours == 0.0), 1.0 / np.maximum(lengths, 1), ours)


def extraction_strength_open_unlearning(
    predicted_ids: ArrayLike | Sequence[ArrayLike],
    target_ids: ArrayLike | Sequence[ArrayLike],
    mask: ArrayLike | None = None,
) -> float:
    """Mean of :func:`extraction_strengths_open_unlearning` over the samples."""
    return float(extraction_strengths_open_unlearning(predicted_ids, target_ids, mask).mean())


def exact_memorizations(
    predicted_ids: ArrayLike | Sequence[ArrayLike],
    target_ids: ArrayLike | Sequence[ArrayLike],
    mask: ArrayLike | None = None,
) -> np.ndarray:
    """Per-sample exact memorisation (open-unlearning's ``exact_memorization``): the share of answer tokens
    whose teacher-forced argmax is the answer's token; NaN for a sample without answer tokens (open-unlearning
    marks it None and leaves it out of the mean)."""
    pred, keep = padded(predicted_ids, "predicted_ids", mask=mask, dtype=np.int64)
    target, keep_t = padded(target_ids, "target_ids", mask=mask, dtype=np.int64)
    if pred.shape != target.shape or not np.array_equal(keep, keep_t):
        raise MubenchError("predicted_ids and target_ids must have the same number of tokens per sample")
    lengths = keep.sum(axis=1)
    hits = (keep & (pred == target)).sum(axis=1)
    return np.where(lengths > 0, hits / np.maximum(lengths, 1), np.nan)


def exact_memorization(
    predicted_ids: ArrayLike | Sequence[ArrayLike],
    target_ids: ArrayLike | Sequence[ArrayLike],
    mask: ArrayLike | None = None,
) -> float | None:
    """Mean exact memorisation over the samples with answer tokens (``None`` when no sample has any)."""
    values = exact_memorizations(predicted_ids, target_ids, mask)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else None
