"""The NeurIPS 2023 machine-unlearning challenge score: per-example epsilon, bucketed, times utility.

Definition (``protocol="official"``, the default): the organisers' released scoring code,
github.com/google-deepmind/unlearning_evaluation, ``metric.py`` (``compute_forget_score_from_confs`` and
what it calls) and ``main.py`` (the final score), and the technical report its README links
(unlearning-challenge.github.io/assets/data/Machine_Unlearning_Metric.pdf; also Triantafillou et al.,
arXiv:2406.09073). Written here from that definition in NumPy (nothing copied). Given N unlearned and N
retrained models (512 of each in the competition), with outputs of shape ``(N, examples)``:

1. Statistic: the logit-scaled confidence of the true class, ``log p_y - log(1 - p_y)``, computed as
   ``z_y - logsumexp_{j != y} z_j`` (:func:`mubench_hf.metrics.ulira.logit_scaled_confidence`). The
   official code forms the softmax with a float32 ``exp`` and adds 1e-45 inside both logs: the two agree
   to about 1e-6 while ``|conf|`` stays below ~80; past that the official value saturates near 103.6.
2. Orientation: per example the "positive" sample is whichever of retrained / unlearned has the larger
   median (unlearned on a tie).
3. Peaky cap: if (smaller value range) / (larger value range) < 1 %, epsilon is the cap, 50.
4. Decision rules, each giving counts of false positives and false negatives over the N + N outputs:
   - single threshold: ``ceil(100 (max - min))`` thresholds from the smallest to the largest of the 2N
     outputs, both ends included; "positive" when the output is >= the threshold;
   - double threshold: the peakier sample (smaller range; on a tie the negative one) is "positive"
     inside ``[l, r]`` (ends included). With ``w`` its range and buffer 2: right ends ``r`` at
     ``ceil(100 ((max + 2) - (min + w - 2)))`` points from ``min + w - 2`` to ``max + 2``, and for each
     ``r`` 400 left ends from ``r - w - 2`` to ``r - w + 2`` (``min``/``max`` of the peakier sample).
5. Per rule: FPR = FNR = 0 gives infinity (perfect separation); exactly one of them 0 discards the rule;
   otherwise ``eps = max(0, log(1 - delta - FPR) - log(FNR), log(1 - delta - FNR) - log(FPR))`` with
   ``delta = 1e-5``, a term that is NaN (log of a negative) ignored and a rule with both NaN discarded.
   The example's epsilon is the largest over the kept rules, clipped to ``[0, 50]``.
6. Forget score: buckets of width 0.5 starting at 0, as many as end at or below
   ``ceil(log(N - 1))`` (natural log); bucket ``k`` (from 0) scores ``2**-k``, an epsilon past the last
   bucket scores 0; the mean over the forget set. (N = 2 has no bucket: the score is 0 by construction.)
7. Final score: ``forget score * (mean RA_U / mean RA_R) * (mean TA_U / mean TA_R)``.

Numerics, matched to the official code where it is well defined: outputs and the double-threshold grid
are float64 (the official builds that grid with ``numpy.linspace``, reproduced bit for bit); the single-
threshold grid is float32, as ``torch.linspace``'s default dtype makes it there (its two-sided formula:
within a float32 ulp of torch's, whose CPU lanes round by vector width); rates are float32 ``count / N``
and the epsilon formula runs in float32, as the official code's NumPy arithmetic on its float32
``torch.mean`` rates does (those can differ from ours by an ulp, so an epsilon may move by ~1e-6: a
bucket changes only for an epsilon that close to a multiple of 0.5). Epsilons are returned as float64.
Vectorised over the ~160,000 rules of an example (sorted outputs, ``searchsorted`` counts, a per-N
lookup of the logs); examples are looped.

One deviation: the released code asserts that some rule was kept (written as ``assert`` on a NumPy
array, which raises whenever more than one rule is kept); when none is kept (e.g. all 2N outputs equal)
the epsilon here is 0: no rule tells the samples apart.

``protocol="kaggle_copy"``: the definition this module used before, from a participant's copy of the
Kaggle scorer, kept under that name only to compare with numbers computed with it; it is not the
challenge's definition. Statistic ``-log max softmax`` (``statistic="predicted_ce"``), delta 0.01,
"unlearned above t" thresholds at the 2N outputs plus a cross-validated logistic regression, 13 bins via
``numpy.digitize`` scoring ``2 / 2**bin``.

Higher is better; 1 = indistinguishable from retraining at no utility cost. With N models the rates are
multiples of 1/N and the largest epsilon that can score is ``ceil(log(N - 1))``: an estimate, not a bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from mubench_hf.errors import MubenchError
from mubench_hf.metrics.ulira import logit_scaled_confidence

PROTOCOLS = ("official", "kaggle_copy")
# --- the official definition (google-deepmind/unlearning_evaluation, metric.py)
OFFICIAL_DELTA = 1e-5
EPSILON_CAP = 50.0
THRESHOLDS_PER_UNIT = 100
DOUBLE_THRESHOLD_BUFFER = 2.0
PEAKY_RATIO = 0.01
BUCKET_WIDTH = 0.5
DECISION_RULES = ("single_threshold", "double_threshold")
# --- the earlier definition, protocol="kaggle_copy" (a participant's copy of the Kaggle scorer)
KAGGLE_COPY_DELTA = 0.01
KAGGLE_COPY_BINS = 13
KAGGLE_COPY_ATTACKS = ("threshold", "logistic")
#: The kaggle_copy logistic attack's cross-validation holds out 10 % of 2N outputs, at least one per kind.
MIN_MODELS_LOGISTIC = 10
STATISTICS = ("logit_confidence", "predicted_ce", "loss")
DEFAULT_STATISTIC = {"official": "logit_confidence", "kaggle_copy": "predicted_ce"}


@dataclass(frozen=True)
class ForgettingQualityResult:
    """Forget score F and what it is made of.

    Attributes:
        forgetting_quality: the forget score (1 = best; see the module docstring for each protocol).
        epsilons: the per-example epsilon (shape ``(examples,)``; official: in ``[0, 50]``, 50 = capped or
            perfectly separable; kaggle_copy: ``inf`` = perfectly separable).
        attacks: the decision rules (official) or attacks (kaggle_copy) that ran.
        num_models: N, models of each kind.
        protocol: ``"official"`` or ``"kaggle_copy"``.
        peaky: per example, whether the peaky cap set its epsilon (official; all False for kaggle_copy).
    """

    forgetting_quality: float
    epsilons: np.ndarray
    attacks: tuple[str, ...]
    num_models: int
    protocol: str = "official"
    peaky: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class EpsilonScoreResult:
    """The challenge's final score ``F * retain ratio * test ratio`` and its parts."""

    score: float
    forgetting_quality: float
    retain_ratio: float
    test_ratio: float
    epsilons: np.ndarray = field(repr=False)
    attacks: tuple[str, ...] = ()
    num_models: int = 0
    protocol: str = "official"
    peaky: np.ndarray | None = field(default=None, repr=False)


def output_statistic(
    logits: ArrayLike, labels: ArrayLike | None = None, statistic: str = "logit_confidence"
) -> np.ndarray:
    """The per-example number each model is reduced to, from logits of shape ``(..., examples, classes)``.

    ``"logit_confidence"`` (the official definition): ``log p_y - log(1 - p_y)`` at the true ``labels``;
    ``"predicted_ce"`` (kaggle_copy): cross-entropy against the model's own argmax, no labels needed;
    ``"loss"``: cross-entropy against the true ``labels``.
    """
    if statistic not in STATISTICS:
        raise MubenchError(f"statistic must be one of {list(STATISTICS)}, not {statistic!r}")
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim < 2 or z.shape[-1] < 2:
        raise MubenchError(f"logits must have shape (..., examples, classes>=2), got {z.shape}")
    if statistic == "predicted_ce":
        return logsumexp(z, axis=-1) - z.max(axis=-1)
    if labels is None:
        raise MubenchError(f"statistic={statistic!r} needs the true labels")
    y = np.asarray(labels)
    if y.shape != z.shape[-2:-1] or not np.issubdtype(y.dtype, np.integer):
        raise MubenchError(f"labels must be integer class ids of shape ({z.shape[-2]},), got {y.shape}")
    if statistic == "logit_confidence":
        return logit_scaled_confidence(z, y)
    index = np.broadcast_to(y[:, None], z.shape[:-1] + (1,))
    return logsumexp(z, axis=-1) - np.take_along_axis(z, index, axis=-1)[..., 0]


# ----------------------------------------------------------------------------------------------------
# The official definition


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
    ``(right ends, 400)``, float64 as ``numpy.linspace`` makes them (see the module docstring, step 4)."""
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
    """Per rule, the epsilon of the official rule (module docstring, step 5) from its error counts out of
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
        return 0.0  # no rule kept (see the module docstring's deviation)
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


# ----------------------------------------------------------------------------------------------------
# protocol="kaggle_copy": the earlier definition (a participant's copy of the Kaggle scorer)


def kaggle_copy_threshold_rates(unlearned: ArrayLike, retrained: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """kaggle_copy: FPR and FNR of every single-threshold attack "unlearned when the output is above t",
    one threshold at each of the 2N outputs of one example."""
    u, r = np.sort(np.ravel(unlearned)), np.sort(np.ravel(retrained))
    thresholds = np.concatenate([r, u])
    fpr = (r.size - np.searchsorted(r, thresholds, side="right")) / r.size  # retrained above t
    fnr = np.searchsorted(u, thresholds, side="right") / u.size  # unlearned at or below t
    return fpr, fnr


def fit_logistic_1d(
    x: np.ndarray, y: np.ndarray, *, c: float = 1.0, iterations: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """Weight and intercept of an L2-regularised logistic regression on one feature, for many problems
    at once: ``x`` has shape ``(problems, n)``, ``y`` (0/1) shape ``(n,)``. It minimises what
    ``sklearn.linear_model.LogisticRegression(C=c)`` minimises (log-loss summed over rows plus
    ``w**2 / (2 c)``, intercept not penalised) by damped Newton steps, vectorised over the problems:
    a fit per example and split with scikit-learn costs milliseconds each, thousands of times over."""
    w = np.zeros(x.shape[0])
    b = np.zeros(x.shape[0])
    yf = y.astype(np.float64)[None, :]
    for _ in range(iterations):
        margin = w[:, None] * x + b[:, None]
        p = 0.5 * (1.0 + np.tanh(0.5 * margin))  # the logistic function, without overflow
        weight = p * (1.0 - p)
        grad_w = ((p - yf) * x).sum(axis=1) + w / c
        grad_b = (p - yf).sum(axis=1)
        h_ww = (weight * x * x).sum(axis=1) + 1.0 / c
        h_wb = (weight * x).sum(axis=1)
        h_bb = weight.sum(axis=1) + 1e-12
        det = h_ww * h_bb - h_wb**2
        step_w = (h_bb * grad_w - h_wb * grad_b) / det
        step_b = (h_ww * grad_b - h_wb * grad_w) / det
        # damping: a saturated fit (separable outputs) has a tiny curvature and would jump far
        scale = np.minimum(
            1.0, 10.0 / np.maximum(np.abs(step_w) * np.abs(x).max(axis=1) + np.abs(step_b), 1e-300)
        )
        w -= scale * step_w
        b -= scale * step_b
    return w, b


def kaggle_copy_logistic_rates(
    unlearned: ArrayLike, retrained: ArrayLike, *, n_splits: int = 2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """kaggle_copy: FPR and FNR of a logistic regression on the 1-D outputs, averaged over ``n_splits``
    ``StratifiedShuffleSplit`` splits (scikit-learn's defaults: 10 % held out). ``unlearned`` and
    ``retrained`` have shape ``(N, examples)``; one fit per example, the same splits for all of them."""
    from sklearn.model_selection import StratifiedShuffleSplit

    u, r = (
        np.atleast_2d(np.asarray(unlearned, dtype=np.float64).T),
        np.atleast_2d(np.asarray(retrained, dtype=np.float64).T),
    )  # (examples, N)
    x = np.concatenate([r, u], axis=1)
    y = np.concatenate([np.zeros(r.shape[1], dtype=int), np.ones(u.shape[1], dtype=int)])
    fprs, fnrs = [], []
    for train, test in StratifiedShuffleSplit(n_splits=n_splits, random_state=seed).split(x[0][:, None], y):
        w, b = fit_logistic_1d(x[:, train], y[train])
        predicted = (w[:, None] * x[:, test] + b[:, None]) > 0
        truth = y[test]
        fprs.append(predicted[:, truth == 0].mean(axis=1))
        fnrs.append((~predicted[:, truth == 1]).mean(axis=1))
    return np.mean(fprs, axis=0), np.mean(fnrs, axis=0)


def kaggle_copy_epsilon(fpr: ArrayLike, fnr: ArrayLike, delta: float = KAGGLE_COPY_DELTA) -> float:
    """kaggle_copy: the epsilon of one example from its attacks' rates: the official formula, but
    perfect attacks give ``inf``, an attack with both terms NaN counts as ``inf``, nothing is capped."""
    fpr, fnr = np.ravel(np.asarray(fpr, dtype=np.float64)), np.ravel(np.asarray(fnr, dtype=np.float64))
    if fpr.shape != fnr.shape:
        raise MubenchError(
            f"fpr and fnr must have one entry per attack each, got {fpr.shape} and {fnr.shape}"
        )
    if ((fpr < 0) | (fpr > 1) | (fnr < 0) | (fnr > 1)).any():
        raise MubenchError("false-positive and false-negative rates must lie in [0, 1]")
    if ((fpr == 0) & (fnr == 0)).any():
        return float("inf")  # a perfect attack
    keep = (fpr > 0) & (fnr > 0)  # an attack with one rate 0 (and the other not) is discarded
    if not keep.any():
        return 0.0
    fpr, fnr = fpr[keep], fnr[keep]
    with np.errstate(invalid="ignore", divide="ignore"):
        eps1 = np.log(1.0 - delta - fpr) - np.log(fnr)
        eps2 = np.log(1.0 - delta - fnr) - np.log(fpr)
    both = np.fmax(eps1, eps2)  # NaN only where both rates exceed 1 - delta
    if np.isnan(both).any():
        return float("inf")
    return float(max(0.0, both.max()))


def kaggle_copy_bin_scores(epsilons: ArrayLike, *, bin_width: float = BUCKET_WIDTH) -> np.ndarray:
    """kaggle_copy: ``2 / 2**n`` with ``n = numpy.digitize(epsilon, [0, w, ..., 12 w])``: 1 below ``w``,
    halving per bin, the 13th bin for everything from ``12 w`` up (``inf`` included)."""
    eps = np.asarray(epsilons, dtype=np.float64)
    if (eps < 0).any() or np.isnan(eps).any():
        raise MubenchError("epsilons must be >= 0 (inf allowed)")
    n = np.digitize(eps, np.arange(KAGGLE_COPY_BINS) * bin_width)
    return 2.0 / 2.0**n


def _kaggle_copy_quality(
    u: np.ndarray, r: np.ndarray, attacks: Sequence[str], delta: float, seed: int
) -> ForgettingQualityResult:
    unknown = [a for a in attacks if a not in KAGGLE_COPY_ATTACKS]
    if unknown or not attacks:
        raise MubenchError(
            f"attacks must be a non-empty subset of {list(KAGGLE_COPY_ATTACKS)}, got {list(attacks)}"
        )
    n_models, n_examples = u.shape
    used = tuple(a for a in attacks if a != "logistic" or n_models >= MIN_MODELS_LOGISTIC)
    if not used:
        raise MubenchError(
            f"the logistic attack needs at least {MIN_MODELS_LOGISTIC} models of each kind, got {n_models}; "
            "add the 'threshold' attack or more models"
        )
    logistic = kaggle_copy_logistic_rates(u, r, seed=seed) if "logistic" in used else None
    epsilons = np.empty(n_examples)
    for j in range(n_examples):
        fprs, fnrs = [], []
        if "threshold" in used:
            fpr, fnr = kaggle_copy_threshold_rates(u[:, j], r[:, j])
            fprs.append(fpr)
            fnrs.append(fnr)
        if logistic is not None:
            fprs.append(logistic[0][j : j + 1])
            fnrs.append(logistic[1][j : j + 1])
        epsilons[j] = kaggle_copy_epsilon(np.concatenate(fprs), np.concatenate(fnrs), delta)
    return ForgettingQualityResult(
        forgetting_quality=float(kaggle_copy_bin_scores(epsilons).mean()),
        epsilons=epsilons,
        attacks=used,
        num_models=n_models,
        protocol="kaggle_copy",
        peaky=np.zeros(n_examples, dtype=bool),
    )


# ----------------------------------------------------------------------------------------------------
# Both protocols


def _outputs(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise MubenchError(f"{name} must have shape (models, examples), got {array.shape}")
    if not np.isfinite(array).all():
        raise MubenchError(f"{name} holds non-finite values (NaN or inf)")
    return array


def forgetting_quality(
    unlearned: ArrayLike,
    retrained: ArrayLike,
    *,
    protocol: str = "official",
    attacks: Sequence[str] | None = None,
    delta: float | None = None,
    seed: int = 0,
) -> ForgettingQualityResult:
    """The forget score F from per-example outputs of shape ``(N, examples)`` of N unlearned and N
    retrained models (e.g. :func:`output_statistic` of each model's forget-set logits, stacked).

    ``protocol="official"`` (default) is the organisers' definition; its decision rules are fixed, so
    ``attacks`` must be left out. ``delta`` defaults to the protocol's (1e-5 official, 0.01 kaggle_copy).
    ``attacks`` and ``seed`` are the kaggle_copy attacks (default both) and its cross-validation seed.
    """
    if protocol not in PROTOCOLS:
        raise MubenchError(f"protocol must be one of {list(PROTOCOLS)}, not {protocol!r}")
    u, r = _outputs(unlearned, "unlearned"), _outputs(retrained, "retrained")
    if u.shape != r.shape:
        raise MubenchError(
            f"unlearned and retrained outputs must have the same shape (models, examples), got {u.shape} "
            f"and {r.shape}: give as many models of each kind, on the same forget examples"
        )
    n_models, n_examples = u.shape
    if n_models < 2 or n_examples == 0:
        raise MubenchError(
            f"the epsilon score needs at least 2 unlearned and 2 retrained models and one example, got "
            f"{n_models} of each and {n_examples} examples (the competition used 512 of each)"
        )
    if delta is None:
        delta = OFFICIAL_DELTA if protocol == "official" else KAGGLE_COPY_DELTA
    if not 0 <= delta < 1:
        raise MubenchError(f"delta must be in [0, 1), got {delta}")
    if protocol == "kaggle_copy":
        return _kaggle_copy_quality(u, r, KAGGLE_COPY_ATTACKS if attacks is None else attacks, delta, seed)
    if attacks is not None:
        raise MubenchError(
            f"attacks={list(attacks)} choose the kaggle_copy protocol's attacks; the official protocol's "
            f"decision rules are fixed ({', '.join(DECISION_RULES)}): pass protocol='kaggle_copy' or no attacks"
        )
    epsilons, capped = official_epsilons(u, r, delta)
    return ForgettingQualityResult(
        forgetting_quality=forget_score(epsilons, n_models),
        epsilons=epsilons,
        attacks=DECISION_RULES,
        num_models=n_models,
        protocol="official",
        peaky=capped,
    )


def _ratio(unlearned: ArrayLike, retrained: ArrayLike, name: str) -> float:
    u, r = (
        np.ravel(np.asarray(unlearned, dtype=np.float64)),
        np.ravel(np.asarray(retrained, dtype=np.float64)),
    )
    if u.size == 0 or r.size == 0:
        raise MubenchError(f"{name} accuracies of the unlearned and the retrained models are needed")
    if ((u < 0) | (u > 1) | (r < 0) | (r > 1)).any():
        raise MubenchError(f"{name} accuracies must be shares in [0, 1]")
    if r.mean() == 0:
        raise MubenchError(f"the retrained models' mean {name} accuracy is 0: the ratio is undefined")
    return float(u.mean() / r.mean())


def epsilon_score(
    unlearned: ArrayLike,
    retrained: ArrayLike,
    *,
    retain_accuracy_unlearned: ArrayLike,
    retain_accuracy_retrained: ArrayLike,
    test_accuracy_unlearned: ArrayLike,
    test_accuracy_retrained: ArrayLike,
    protocol: str = "official",
    attacks: Sequence[str] | None = None,
    delta: float | None = None,
    seed: int = 0,
) -> EpsilonScoreResult:
    """The challenge's final score ``F * (mean RA_U / mean RA_R) * (mean TA_U / mean TA_R)``, as the
    official ``main.py`` forms it; accuracies are one per model. Arguments as :func:`forgetting_quality`."""
    quality = forgetting_quality(
        unlearned, retrained, protocol=protocol, attacks=attacks, delta=delta, seed=seed
    )
    retain = _ratio(retain_accuracy_unlearned, retain_accuracy_retrained, "retain")
    test = _ratio(test_accuracy_unlearned, test_accuracy_retrained, "test")
    return EpsilonScoreResult(
        score=quality.forgetting_quality * retain * test,
        forgetting_quality=quality.forgetting_quality,
        retain_ratio=retain,
        test_ratio=test,
        epsilons=quality.epsilons,
        attacks=quality.attacks,
        num_models=quality.num_models,
        protocol=quality.protocol,
        peaky=quality.peaky,
    )
