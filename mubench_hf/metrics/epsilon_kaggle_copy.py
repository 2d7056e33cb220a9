"""``protocol="kaggle_copy"`` of :mod:`mubench_hf.metrics.epsilon_score`: the definition that module used
before, from a participant's copy of the Kaggle scorer, kept under that name only to compare with numbers
computed with it (it is not the challenge's definition): "unlearned above t" thresholds at the 2N outputs
plus a cross-validated logistic regression, delta 0.01, 13 bins scoring ``2 / 2**bin``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from mubench_hf.errors import MubenchError
from mubench_hf.metrics.epsilon_official import BUCKET_WIDTH

KAGGLE_COPY_DELTA = 0.01
KAGGLE_COPY_BINS = 13
KAGGLE_COPY_ATTACKS = ("threshold", "logistic")
#: The kaggle_copy logistic attack's cross-validation holds out 10 % of 2N outputs, at least one per kind.
MIN_MODELS_LOGISTIC = 10


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


def kaggle_copy_epsilons(
    u: np.ndarray, r: np.ndarray, attacks: Sequence[str], delta: float, seed: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    """kaggle_copy: per-example epsilons of outputs of shape ``(N, examples)`` and the attacks that ran
    (the logistic one only from ``MIN_MODELS_LOGISTIC`` models of each kind)."""
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
    return epsilons, used
