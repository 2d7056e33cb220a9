"""U-LiRA: the per-example likelihood-ratio attack on unlearning of Hayes et al. 2024.

Source of the definition: J. Hayes, I. Shumailov, E. Triantafillou, A. Khalifa, N. Papernot, "Inexact
Unlearning Needs More Careful Evaluations to Avoid a False Sense of Privacy" (arXiv:2403.01218), which
adapts LiRA (Carlini et al. 2022, "Membership Inference Attacks From First Principles") to unlearning:

* shadow models come in two kinds for the same target examples: models that were trained on them and
  then *unlearned* them (the method under test), and models *retrained* without them;
* the statistic of a model on an example is LiRA's logit-scaled confidence of the true class,
  ``phi = log(p_y / (1 - p_y))`` (computed from the logits without forming ``p``:
  ``z_y - logsumexp_{j != y} z_j``);
* for every example the attacker fits one Gaussian to ``phi`` over the unlearned shadows and one over
  the retrained shadows, and calls a model "unlearned" on that example when the likelihood ratio
  ``N(phi; mu_u, sd_u) / N(phi; mu_r, sd_r)`` exceeds 1;
* the attack's success is its accuracy at telling unlearned from retrained models on the target
  examples (0.5 = the unlearning is indistinguishable from retraining), and the ROC AUC of its log
  likelihood ratio.

Here the target models are the shadows themselves, one at a time (leave-one-out): the Gaussians of
example ``j`` for held-out pair ``k`` are fitted on the other ``K - 1`` unlearned and retrained models,
so ``K`` shadow pairs give ``2 K`` scored models per example without spending any on fitting alone.
With few shadows LiRA's own advice applies: one variance per side shared by all examples
(``fixed_variance=True``, the default) instead of one per example.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp
from scipy.stats import rankdata

from mubench_hf.errors import MubenchError

#: The smallest standard deviation a Gaussian fit may have (phi is in logit units): shadows that agree
#: exactly on an example would otherwise give an infinite likelihood ratio.
MIN_STD = 1e-3


@dataclass(frozen=True)
class ULiRAResult:
    """Outcome of U-LiRA over ``num_shadows`` unlearned/retrained pairs and ``num_examples`` targets.

    Attributes:
        accuracy: share of (model, example) verdicts that are right, over the ``2 K`` held-out models
            (half unlearned, half retrained) and every example; 0.5 = indistinguishable from retraining.
        auc: ROC AUC of the log likelihood ratio at separating unlearned (positive) from retrained.
        per_example_accuracy: ``accuracy`` of each example alone (shape ``(num_examples,)``): how
            unevenly the examples are protected.
        log_ratio_unlearned, log_ratio_retrained: the log likelihood ratios of the held-out models,
            shape ``(num_shadows, num_examples)``.
    """

    accuracy: float
    auc: float
    per_example_accuracy: np.ndarray
    log_ratio_unlearned: np.ndarray
    log_ratio_retrained: np.ndarray
    num_shadows: int
    num_examples: int
    fixed_variance: bool


def logit_scaled_confidence(logits: ArrayLike, labels: ArrayLike) -> np.ndarray:
    """LiRA's statistic ``log(p_y / (1 - p_y))`` of softmax(``logits``) at the true class ``labels``.

    ``logits`` has shape ``(..., samples, classes)`` and ``labels`` ``(samples,)``; the result has
    the shape of ``logits`` without the class axis. Stable for saturated logits (no ``p`` is formed).
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    if z.ndim < 2:
        raise MubenchError(f"logits must have shape (..., samples, classes), got {z.shape}")
    if y.shape != z.shape[-2:-1]:
        raise MubenchError(f"labels must have shape ({z.shape[-2]},) to match the logits, got {y.shape}")
    if z.shape[-1] < 2:
        raise MubenchError("logit-scaled confidence needs at least 2 classes")
    if not np.issubdtype(y.dtype, np.integer) or (y < 0).any() or (y >= z.shape[-1]).any():
        raise MubenchError(f"labels must be integer class ids in [0, {z.shape[-1]})")
    true = np.take_along_axis(z, np.broadcast_to(y[:, None], z.shape[:-1] + (1,)), axis=-1)[..., 0]
    others = z.copy()
    np.put_along_axis(others, np.broadcast_to(y[:, None], z.shape[:-1] + (1,)), -np.inf, axis=-1)
    return true - logsumexp(others, axis=-1)


def _scores(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise MubenchError(f"{name} must have shape (models, examples), got {array.shape}")
    if not np.isfinite(array).all():
        raise MubenchError(f"{name} holds non-finite values (NaN or inf)")
    return array


def gaussian_log_ratio(
    x: ArrayLike, mean_in: ArrayLike, std_in: ArrayLike, mean_out: ArrayLike, std_out: ArrayLike
) -> np.ndarray:
    """``log N(x; mean_in, std_in) - log N(x; mean_out, std_out)``, elementwise."""
    x = np.asarray(x, dtype=np.float64)
    std_in, std_out = np.asarray(std_in, dtype=np.float64), np.asarray(std_out, dtype=np.float64)
    z_in = (x - mean_in) / std_in
    z_out = (x - mean_out) / std_out
    return -0.5 * (z_in**2 - z_out**2) - np.log(std_in) + np.log(std_out)


def _leave_one_out_fit(
    scores: np.ndarray, fixed_variance: bool, min_std: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of every example over all models but ``k``, for every ``k``
    (both of shape ``(models, examples)``), from running sums: no loop over the held-out model."""
    k = scores.shape[0]
    total = scores.sum(axis=0, keepdims=True)
    mean = (total - scores) / (k - 1)
    if fixed_variance:
        # one variance per held-out model: pooled over examples, each centred on its own mean
        centred = scores[None, :, :] - mean[:, None, :]  # (held-out, model, example)
        mask = ~np.eye(k, dtype=bool)[:, :, None]
        dof = (k - 2) * scores.shape[1]  # K - 1 values per example, one mean each
        var = np.where(mask, centred**2, 0.0).sum(axis=(1, 2)) / dof
        std = np.broadcast_to(np.sqrt(var)[:, None], scores.shape)
    else:
        squares = (scores**2).sum(axis=0, keepdims=True) - scores**2
        var = (squares - (k - 1) * mean**2) / (k - 2)  # unbiased over the K - 1 others
        std = np.sqrt(np.clip(var, 0.0, None))
    return mean, np.maximum(std, min_std)


def roc_auc(positive: ArrayLike, negative: ArrayLike) -> float:
    """ROC AUC of ``positive`` scores against ``negative`` ones (Mann-Whitney; ties count half)."""
    pos, neg = np.ravel(positive), np.ravel(negative)
    if pos.size == 0 or neg.size == 0:
        raise MubenchError("the AUC needs at least one positive and one negative score")
    ranks = rankdata(np.concatenate([pos, neg]))
    return float((ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size))


def ulira(
    unlearned: ArrayLike,
    retrained: ArrayLike,
    *,
    fixed_variance: bool = True,
    min_std: float = MIN_STD,
) -> ULiRAResult:
    """U-LiRA on per-example statistics of ``K`` unlearned and ``K`` retrained models.

    ``unlearned`` and ``retrained`` have shape ``(K, examples)``: row ``k`` holds one model's
    :func:`logit_scaled_confidence` on the target examples (the forget set), column ``j`` the same
    example in every row. Leave-one-out (see the module docstring); needs ``K >= 3``.
    """
    u = _scores(unlearned, "unlearned")
    r = _scores(retrained, "retrained")
    if u.shape != r.shape:
        raise MubenchError(
            f"unlearned and retrained statistics must have the same shape (models, examples), got "
            f"{u.shape} and {r.shape}: score the same target examples with as many models of each kind"
        )
    k, n = u.shape
    if k < 3 or n == 0:
        # leave-one-out keeps K - 1 models per side for the fit: two at least, or no spread is seen
        raise MubenchError(
            f"U-LiRA needs at least 3 unlearned and 3 retrained models and one example; got {k} of each "
            f"and {n} examples: train more shadows (e.g. --shadows 4)"
        )
    if not min_std > 0:
        raise MubenchError(f"min_std must be > 0, got {min_std}")
    mean_u, std_u = _leave_one_out_fit(u, fixed_variance, min_std)
    mean_r, std_r = _leave_one_out_fit(r, fixed_variance, min_std)
    # held-out pair k is scored with Gaussians fitted on the other K - 1 pairs
    ratio_u = gaussian_log_ratio(u, mean_u, std_u, mean_r, std_r)
    ratio_r = gaussian_log_ratio(r, mean_u, std_u, mean_r, std_r)
    right_u, right_r = ratio_u > 0, ratio_r <= 0
    per_example = (right_u.sum(axis=0) + right_r.sum(axis=0)) / (2 * k)
    return ULiRAResult(
        accuracy=float(per_example.mean()),
        auc=roc_auc(ratio_u, ratio_r),
        per_example_accuracy=per_example,
        log_ratio_unlearned=ratio_u,
        log_ratio_retrained=ratio_r,
        num_shadows=k,
        num_examples=n,
        fixed_variance=fixed_variance,
    )


def ulira_from_logits(
    unlearned_logits: ArrayLike,
    retrained_logits: ArrayLike,
    labels: ArrayLike,
    *,
    fixed_variance: bool = True,
    min_std: float = MIN_STD,
) -> ULiRAResult:
    """:func:`ulira` on raw forget-set logits of shape ``(K, examples, classes)`` of each kind."""
    return ulira(
        logit_scaled_confidence(unlearned_logits, labels),
        logit_scaled_confidence(retrained_logits, labels),
        fixed_variance=fixed_variance,
        min_std=min_std,
    )
