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

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from mubench_hf.errors import MubenchError
from mubench_hf.metrics.epsilon_kaggle_copy import (
    KAGGLE_COPY_ATTACKS,
    KAGGLE_COPY_BINS,
    KAGGLE_COPY_DELTA,
    MIN_MODELS_LOGISTIC,
    fit_logistic_1d,
    kaggle_copy_bin_scores,
    kaggle_copy_epsilon,
    kaggle_copy_epsilons,
    kaggle_copy_logistic_rates,
    kaggle_copy_threshold_rates,
)
from mubench_hf.metrics.epsilon_official import (
    BUCKET_WIDTH,
    DECISION_RULES,
    DOUBLE_THRESHOLD_BUFFER,
    EPSILON_CAP,
    OFFICIAL_DELTA,
    PEAKY_RATIO,
    THRESHOLDS_PER_UNIT,
    bucket_points,
    double_threshold_counts,
    double_threshold_grid,
    example_epsilon,
    forget_score,
    official_epsilons,
    orient,
    peaky,
    single_threshold_counts,
    single_threshold_grid,
    threshold_epsilons,
)
from mubench_hf.metrics.ulira import logit_scaled_confidence

# The pieces of both protocols live in epsilon_official / epsilon_kaggle_copy; importable from here too.
__all__ = [
    "BUCKET_WIDTH",
    "DECISION_RULES",
    "DEFAULT_STATISTIC",
    "DOUBLE_THRESHOLD_BUFFER",
    "EPSILON_CAP",
    "KAGGLE_COPY_ATTACKS",
    "KAGGLE_COPY_BINS",
    "KAGGLE_COPY_DELTA",
    "MIN_MODELS_LOGISTIC",
    "OFFICIAL_DELTA",
    "PEAKY_RATIO",
    "PROTOCOLS",
    "STATISTICS",
    "THRESHOLDS_PER_UNIT",
    "EpsilonScoreResult",
    "ForgettingQualityResult",
    "bucket_points",
    "double_threshold_counts",
    "double_threshold_grid",
    "epsilon_score",
    "example_epsilon",
    "fit_logistic_1d",
    "forget_score",
    "forgetting_quality",
    "kaggle_copy_bin_scores",
    "kaggle_copy_epsilon",
    "kaggle_copy_epsilons",
    "kaggle_copy_logistic_rates",
    "kaggle_copy_threshold_rates",
    "official_epsilons",
    "orient",
    "output_statistic",
    "peaky",
    "single_threshold_counts",
    "single_threshold_grid",
    "threshold_epsilons",
]

PROTOCOLS = ("official", "kaggle_copy")
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
        epsilons, used = kaggle_copy_epsilons(
            u, r, KAGGLE_COPY_ATTACKS if attacks is None else attacks, delta, seed
        )
        return ForgettingQualityResult(
            forgetting_quality=float(kaggle_copy_bin_scores(epsilons).mean()),
            epsilons=epsilons,
            attacks=used,
            num_models=n_models,
            protocol="kaggle_copy",
            peaky=np.zeros(n_examples, dtype=bool),
        )
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
