"""Forget quality in the style of TOFU (Maini et al. 2024, "TOFU: A Task of Fictitious Unlearning for LLMs").

A two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``, two-sided) compares the distribution
of a per-sample statistic on Df under the unlearned model with its distribution under the retrained
model. Forget quality is the test's p-value: high = the two distributions cannot be told apart (the
unlearned model treats Df like a model that never saw it), low = they differ.

Statistic: the per-sample cross-entropy loss ``-log p(label)`` on Df (TOFU uses its "truth ratio";
the loss is the classification analogue and the quantity membership attacks read). The KS test
ignores that both samples come from the same Df rows; that is TOFU's convention.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import ks_2samp

from mubench_hf.errors import MubenchError
from mubench_hf.metrics._validate import as_logits, check_reference_shape
from mubench_hf.metrics.outputs import SplitOutputs, split_outputs


@dataclass(frozen=True)
class ForgetQualityResult:
    """``p_value`` is the forget quality; ``ks_statistic`` the largest CDF gap (0 = identical)."""

    p_value: float
    ks_statistic: float


def forget_quality_from_losses(unlearned_losses: ArrayLike, retrain_losses: ArrayLike) -> ForgetQualityResult:
    """KS two-sample test between the unlearned and the retrained model's per-sample Df losses."""
    unlearned = np.asarray(unlearned_losses, dtype=np.float64).ravel()
    retrain = np.asarray(retrain_losses, dtype=np.float64).ravel()
    if unlearned.size == 0 or retrain.size == 0:
        raise MubenchError("unlearned_losses and retrain_losses must both be non-empty")
    result = ks_2samp(unlearned, retrain)
    return ForgetQualityResult(p_value=float(result.pvalue), ks_statistic=float(result.statistic))


def forget_quality_from_outputs(unlearned: SplitOutputs, retrain: SplitOutputs) -> ForgetQualityResult:
    """Same as :func:`forget_quality_from_losses` on already computed split outputs."""
    return forget_quality_from_losses(unlearned.loss, retrain.loss)


def forget_quality_test(
    forget_logits: ArrayLike, forget_labels: ArrayLike, retrain_forget_logits: ArrayLike
) -> ForgetQualityResult:
    """KS test of the unlearned against the retrained model's per-sample losses on Df.

    Args:
        forget_logits: the unlearned model's logits on Df, shape (samples, classes).
        forget_labels: labels of Df, shape (samples,).
        retrain_forget_logits: the retrained model's logits on the same Df samples, same shape.

    Returns:
        :class:`ForgetQualityResult` with the p-value (the forget quality) and the KS statistic.
    """
    unlearned = split_outputs(forget_logits, forget_labels, name="forget_logits", labels_name="forget_labels")
    retrain_logits = as_logits(retrain_forget_logits, "retrain_forget_logits")
    check_reference_shape(retrain_logits, "retrain_forget_logits", unlearned.log_probs.shape, "forget")
    retrain = SplitOutputs.from_arrays(retrain_logits, unlearned.labels)
    return forget_quality_from_outputs(unlearned, retrain)


def forget_quality(
    forget_logits: ArrayLike, forget_labels: ArrayLike, retrain_forget_logits: ArrayLike
) -> float:
    """Forget quality: the KS p-value in [0, 1] (higher = closer to the retrained model on Df).

    Arguments as :func:`forget_quality_test`, which also returns the KS statistic.
    """
    return forget_quality_test(forget_logits, forget_labels, retrain_forget_logits).p_value
