"""The NeurIPS 2023 machine-unlearning challenge score: per-example epsilon, binned, times utility.

Source of the definition: E. Triantafillou et al., "Are we making progress in unlearning? Findings
from the first NeurIPS unlearning competition" (arXiv:2406.09073), and the competition's evaluation
document and scoring code (Kaggle, 2023). Given N unlearned and N retrained models (different seeds
of the whole pipeline; 512 of each on the competition's leaderboard):

1. every model is reduced to one number per forget example: the cross-entropy of the model's logits
   against its own predicted class, ``-log max softmax`` (the scoring code's ``cross_entropy_f``,
   which needs no labels; ``statistic="loss"`` uses the true class instead);
2. for each example, attacks try to tell the N unlearned numbers (positives) from the N retrained ones
   (negatives): every single threshold (predict "unlearned" above it) and a logistic regression
   scored by 2-split stratified shuffle cross-validation; each gives a false-positive rate FPR and a
   false-negative rate FNR;
3. each attack gives ``epsilon = max(log(1 - delta - FPR) - log(FNR), log(1 - delta - FNR) - log(FPR))``
   with ``delta = 0.01``; an attack with FPR = FNR = 0 separates perfectly (epsilon = inf), one with
   only one of them 0 is discarded; the example's epsilon is the largest over attacks;
4. epsilons are binned (13 bin edges 0, 0.5, ..., 6; ``numpy.digitize``), bin ``n`` (from 1) scores
   ``2 / 2**n``: 1 for epsilon < 0.5, halving with every bin; the forgetting quality F is the mean over
   the forget set;
5. the final score is ``F * (RA_U / RA_R) * (TA_U / TA_R)``: retain and test accuracies of the
   unlearned models (mean over the N) over those of the retrained models.

Higher is better; 1 = indistinguishable from retraining at no utility cost. With few models the
attacks' rates are coarse (multiples of 1/N), so epsilon is noisy: it is an estimate, not a bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from mubench_hf.errors import MubenchError

COMPETITION_DELTA = 0.01
BIN_WIDTH = 0.5
NUM_BINS = 13
ATTACKS = ("threshold", "logistic")
STATISTICS = ("predicted_ce", "loss")
#: The logistic attack's cross-validation holds out 10 % of 2N outputs, at least one per kind.
MIN_MODELS_LOGISTIC = 10


@dataclass(frozen=True)
class ForgettingQualityResult:
    """Forgetting quality F and what it is made of.

    Attributes:
        forgetting_quality: mean over the forget set of ``2 / 2**bin(epsilon)`` (1 = best).
        epsilons: the per-example epsilon (shape ``(examples,)``; ``inf`` = perfectly separable).
        attacks: the attacks that ran (``logistic`` is left out below ``MIN_MODELS_LOGISTIC`` models).
    """

    forgetting_quality: float
    epsilons: np.ndarray
    attacks: tuple[str, ...]
    num_models: int


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


def output_statistic(
    logits: ArrayLike, labels: ArrayLike | None = None, statistic: str = "predicted_ce"
) -> np.ndarray:
    """The per-example number each model is reduced to, from logits of shape ``(..., examples, classes)``.

    ``"predicted_ce"``: cross-entropy against the model's own argmax (the competition's choice);
    ``"loss"``: cross-entropy against the true ``labels``.
    """
    if statistic not in STATISTICS:
        raise MubenchError(f"statistic must be one of {list(STATISTICS)}, not {statistic!r}")
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim < 2 or z.shape[-1] < 2:
        raise MubenchError(f"logits must have shape (..., examples, classes>=2), got {z.shape}")
    log_norm = logsumexp(z, axis=-1)
    if statistic == "predicted_ce":
        return log_norm - z.max(axis=-1)
    if labels is None:
        raise MubenchError("statistic='loss' needs the true labels")
    y = np.asarray(labels)
    if y.shape != z.shape[-2:-1] or not np.issubdtype(y.dtype, np.integer):
        raise MubenchError(f"labels must be integer class ids of shape ({z.shape[-2]},), got {y.shape}")
    index = np.broadcast_to(y[:, None], z.shape[:-1] + (1,))
    return log_norm - np.take_along_axis(z, index, axis=-1)[..., 0]


def threshold_attack_rates(unlearned: ArrayLike, retrained: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """FPR and FNR of every single-threshold attack "unlearned when the output is above t", one threshold
    at each of the 2N outputs of one example (the competition's best-threshold attack)."""
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


def logistic_attack_rates(
    unlearned: ArrayLike, retrained: ArrayLike, *, n_splits: int = 2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """FPR and FNR of a logistic regression on the 1-D outputs, averaged over ``n_splits``
    ``StratifiedShuffleSplit`` splits (scikit-learn's defaults: 10 % held out), as the competition's
    attack does. ``unlearned`` and ``retrained`` have shape ``(N, examples)``; one attack per example
    (its own fit), the same splits for all of them (they depend on the labels and the seed only)."""
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


def example_epsilon(fpr: ArrayLike, fnr: ArrayLike, delta: float = COMPETITION_DELTA) -> float:
    """The epsilon of one example from its attacks' rates (see step 3 of the module docstring)."""
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
        return float("inf")  # as the scoring code counts such an attack
    return float(max(0.0, both.max()))  # the scoring code starts its maximum at 0


def bin_scores(epsilons: ArrayLike, *, bin_width: float = BIN_WIDTH, num_bins: int = NUM_BINS) -> np.ndarray:
    """``2 / 2**n`` with ``n = numpy.digitize(epsilon, [0, w, 2w, ...])``: 1 below ``w``, halving per bin."""
    eps = np.asarray(epsilons, dtype=np.float64)
    if (eps < 0).any() or np.isnan(eps).any():
        raise MubenchError("epsilons must be >= 0 (inf allowed)")
    n = np.digitize(eps, np.arange(num_bins) * bin_width)
    return 2.0 / 2.0**n


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
    attacks: Sequence[str] = ATTACKS,
    delta: float = COMPETITION_DELTA,
    seed: int = 0,
) -> ForgettingQualityResult:
    """F from per-example outputs of shape ``(N, examples)`` of N unlearned and N retrained models
    (e.g. :func:`output_statistic` of each model's forget-set logits, stacked). The logistic attack
    needs ``N >= MIN_MODELS_LOGISTIC`` and is left out below that (``result.attacks`` says which ran)."""
    u, r = _outputs(unlearned, "unlearned"), _outputs(retrained, "retrained")
    if u.shape != r.shape:
        raise MubenchError(
            f"unlearned and retrained outputs must have the same shape (models, examples), got {u.shape} "
            f"and {r.shape}: give as many models of each kind, on the same forget examples"
        )
    unknown = [a for a in attacks if a not in ATTACKS]
    if unknown or not attacks:
        raise MubenchError(f"attacks must be a non-empty subset of {list(ATTACKS)}, got {list(attacks)}")
    if not 0 <= delta < 1:
        raise MubenchError(f"delta must be in [0, 1), got {delta}")
    n_models, n_examples = u.shape
    if n_models < 2 or n_examples == 0:
        raise MubenchError(
            f"the epsilon score needs at least 2 unlearned and 2 retrained models and one example, got "
            f"{n_models} of each and {n_examples} examples (the competition used 512 of each)"
        )
    used = tuple(a for a in attacks if a != "logistic" or n_models >= MIN_MODELS_LOGISTIC)
    if not used:
        raise MubenchError(
            f"the logistic attack needs at least {MIN_MODELS_LOGISTIC} models of each kind, got {n_models}; "
            "add the 'threshold' attack or more models"
        )
    logistic = logistic_attack_rates(u, r, seed=seed) if "logistic" in used else None
    epsilons = np.empty(n_examples)
    for j in range(n_examples):
        fprs, fnrs = [], []
        if "threshold" in used:
            fpr, fnr = threshold_attack_rates(u[:, j], r[:, j])
            fprs.append(fpr)
            fnrs.append(fnr)
        if logistic is not None:
            fprs.append(logistic[0][j : j + 1])
            fnrs.append(logistic[1][j : j + 1])
        epsilons[j] = example_epsilon(np.concatenate(fprs), np.concatenate(fnrs), delta)
    return ForgettingQualityResult(
        forgetting_quality=float(bin_scores(epsilons).mean()),
        epsilons=epsilons,
        attacks=used,
        num_models=n_models,
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
    attacks: Sequence[str] = ATTACKS,
    delta: float = COMPETITION_DELTA,
    seed: int = 0,
) -> EpsilonScoreResult:
    """The challenge's final score (step 5 of the module docstring); accuracies are one per model."""
    quality = forgetting_quality(unlearned, retrained, attacks=attacks, delta=delta, seed=seed)
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
    )
