"""The NeurIPS 2023 unlearning challenge's official per-example epsilon and forget score
(``protocol="official"`` of :mod:`mubench_hf.metrics.epsilon_score`, whose docstring gives the definition
step by step and the numerics matched to the organisers' released code): orientation, the peaky cap, the
single- and double-threshold decision rules, the per-rule epsilon, and the buckets of the forget score."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from mubench_hf.errors import MubenchError

# google-deepmind/unlearning_evaluation, metric.py
OFFICIAL_DELTA = 1e-5
EPSILON_CAP = 50.0
THRESHOLDS_PER_UNIT = 100
DOUBLE_THRESHOLD_BUFFER = 2.0
PEAKY_RATIO = 0.01
BUCKET_WIDTH = 0.5
DECISION_RULES = ("single_threshold", "double_threshold")


def orient(unlearned: np.ndarray, retrained: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(positive, negative)`` outputs, shape ``(N, examples)``: per example the retrained outputs are
    positive when their median is strictly larger than the unlearned one's, else the unlearned are."""
    retrained_positive = np.median(retrained, axis=0) > np.median(unlearned, axis=0)
    return (
        np.where(retrained_positive, retrained, unlearned),
        np.where(retrained_positive, unlearned, retrained),
    )


def peaky(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """Per example, whether the smaller value range is under ``PEAKY_RATIO`` of the larger (epsilon is
    then the cap). Two constant samples (0 / 0) are not peaky, as in the official code's NaN test."""
    a = np.ptp(positive, axis=0)
    b = np.ptp(negative, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.minimum(a, b) / np.maximum(a, b) < PEAKY_RATIO


def single_threshold_grid(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """The single-threshold rule's thresholds for one example: ``ceil(100 (max - min))`` points from the
    smallest to the largest output, ends included, in float32 by ``torch.linspace``'s two-sided formula
    (start + i step up to the middle, end - (n - 1 - i) step after), the official grid's dtype."""
    lo = min(positive.min(), negative.min())
    hi = max(positive.max(), negative.max())
    n = int(np.ceil((hi - lo) * THRESHOLDS_PER_UNIT))
    start, end = np.float32(lo), np.float32(hi)
    if n <= 1:
        return np.full(n, start, dtype=np.float32)
    step = (end - start) / np.float32(n - 1)
    i = np.arange(n)
    lower = start + step * i.astype(np.float32)
    upper = end - step * (n - 1 - i).astype(np.float32)
    return np.where(i < n // 2, lower, upper).astype(np.float32)


def double_threshold_grid(peakier: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """The double-threshold rule's ``(left, right)`` interval ends for one example, both of shape
    ``(right ends, 400)``, float64 as ``numpy.linspace`` makes them (see ``epsilon_score``'s module docstring, step 4)."""
    buffer = DOUBLE_THRESHOLD_BUFFER
    lo = (peakier.min() + width) - buffer
    hi = peakier.max() + buffer
    right = np.linspace(lo, hi, int(np.ceil((hi - lo) * THRESHOLDS_PER_UNIT)))
    num_left = int(np.ceil(2 * buffer * THRESHOLDS_PER_UNIT))
    # one linspace per right end, all at once: numpy's arithmetic per row is that of the scalar call
    left = np.linspace((right - width) - buffer, (right - width) + buffer, num_left, axis=-1)
    return left, np.broadcast_to(right[:, None], left.shape)


def single_threshold_counts(positive: np.ndarray, negative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(false positives, false negatives)`` of every single threshold of one example (1-D outputs):
    negatives at or above the threshold, positives below it."""
    t = single_threshold_grid(positive, negative).astype(np.float64)  # compared in float64, exactly
    fp = negative.size - np.searchsorted(np.sort(negative), t, side="left")
    fn = np.searchsorted(np.sort(positive), t, side="left")
    return fp, fn


def double_threshold_counts(positive: np.ndarray, negative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(false positives, false negatives)`` of every double-threshold rule of one example, flattened:
    the other sample's outputs inside ``[l, r]``, the peakier sample's outside."""
    if np.ptp(positive) >= np.ptp(negative):
        peakier, other = negative, positive
    else:
        peakier, other = positive, negative
    peakier, other = np.sort(peakier), np.sort(other)
    left, right = double_threshold_grid(peakier, peakier[-1] - peakier[0])
    right = right[:, 0]  # one right end per row

    def inside(sorted_values: np.ndarray) -> np.ndarray:
        # an empty interval (l > r) holds nothing; otherwise count(<= r) - count(< l)
        up_to_right = np.searchsorted(sorted_values, right, "right")[:, None]
        count = up_to_right - np.searchsorted(sorted_values, left, "left")
        return np.maximum(count, 0).ravel()

    return inside(other), peakier.size - inside(peakier)


@lru_cache(maxsize=8)
def _log_tables(num_models: int, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """float32 ``log(k / N)`` and ``log(1 - delta - k / N)`` for ``k = 0..N`` (the epsilon formula's
    logs, in the official code's float32)."""
    rate = np.arange(num_models + 1, dtype=np.float32) / np.float32(num_models)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log(rate), np.log(np.float32(1.0 - delta) - rate)


def threshold_epsilons(
    false_positives: ArrayLike, false_negatives: ArrayLike, num_models: int, delta: float = OFFICIAL_DELTA
) -> np.ndarray:
    """Per rule, the epsilon of the official rule (``epsilon_score``'s module docstring, step 5) from its error counts out of
    ``num_models`` per side: ``inf`` for perfect separation, NaN for a discarded rule (float32)."""
    fp, fn = np.asarray(false_positives), np.asarray(false_negatives)
    log_rate, log_rest = _log_tables(int(num_models), float(delta))
    with np.errstate(invalid="ignore"):
        eps = np.fmax(log_rest[fp] - log_rate[fn], log_rest[fn] - log_rate[fp])  # NaN only if both are
    eps = np.where(eps < 0, np.float32(0), eps)  # the clip at 0, NaN kept
    eps = np.where((fp == 0) | (fn == 0), np.float32(np.nan), eps)
    return np.where((fp == 0) & (fn == 0), np.float32(np.inf), eps)


def example_epsilon(positive: ArrayLike, negative: ArrayLike, delta: float = OFFICIAL_DELTA) -> float:
    """The official epsilon of one example from its oriented outputs (1-D, N each; see :func:`orient`),
    the peaky cap included, clipped to ``[0, EPSILON_CAP]``."""
    pos, neg = np.ravel(np.asarray(positive, dtype=np.float64)), np.ravel(np.asarray(negative, np.float64))
    if pos.shape != neg.shape or pos.size < 2:
        raise MubenchError(f"give N >= 2 outputs of each kind, got {pos.size} and {neg.size}")
    if peaky(pos[:, None], neg[:, None])[0]:
        return EPSILON_CAP
    best = np.float32(np.nan)
    for counts in (single_threshold_counts, double_threshold_counts):
        eps = threshold_epsilons(*counts(pos, neg), pos.size, delta)
        if eps.size and not np.isnan(eps).all():
            best = np.fmax(best, np.nanmax(eps))
        if best == np.inf:
            break  # perfect separation: nothing scores higher
    if np.isnan(best):
        return 0.0  # no rule kept (see ``epsilon_score``'s module docstring: the deviation)
    return float(min(max(float(best), 0.0), EPSILON_CAP))


def bucket_points(num_models: int) -> np.ndarray:
    """The points of the forget score's buckets ``[0, 0.5), [0.5, 1), ...``: ``1, 1/2, 1/4, ...`` for as
    many buckets as end at or below ``ceil(log(N - 1))``; empty for N = 2."""
    if num_models < 2:
        raise MubenchError(f"the forget score needs N >= 2 models of each kind, got {num_models}")
    top = np.ceil(np.log(num_models - 1))
    count = int(np.floor(top / BUCKET_WIDTH)) if top > 0 else 0
    return 0.5 ** np.arange(count)


def forget_score(epsilons: ArrayLike, num_models: int) -> float:
    """Mean over examples of the bucket points of each epsilon (0 past the last bucket)."""
    eps = np.ravel(np.asarray(epsilons, dtype=np.float64))
    if eps.size == 0 or np.isnan(eps).any() or (eps < 0).any():
        raise MubenchError("epsilons must be a non-empty array of numbers >= 0")
    points = bucket_points(num_models)
    bucket = np.floor(eps / BUCKET_WIDTH)  # eps in [k w, (k + 1) w) -> bucket k; inf -> past the end
    scored = np.zeros_like(eps)
    inside = bucket < points.size
    scored[inside] = points[bucket[inside].astype(int)]
    return float(scored.mean())


def official_epsilons(
    unlearned: np.ndarray, retrained: np.ndarray, delta: float = OFFICIAL_DELTA
) -> tuple[np.ndarray, np.ndarray]:
    """Per-example official epsilons of outputs of shape ``(N, examples)`` and the peaky mask."""
    positive, negative = orient(unlearned, retrained)
    capped = peaky(positive, negative)
    epsilons = np.full(positive.shape[1], EPSILON_CAP)
    for j in np.flatnonzero(~capped):
        epsilons[j] = example_epsilon(positive[:, j], negative[:, j], delta)
    return epsilons, capped
