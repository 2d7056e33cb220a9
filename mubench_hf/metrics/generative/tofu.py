"""TOFU's forget quality and model utility (Maini et al. 2024; ``aggregate_eval_stat.py`` of
``locuslab/tofu``, and open-unlearning's ``ks_test`` and ``hm_aggregate`` handlers).

- Forget quality: the p-value of a two-sided two-sample Kolmogorov-Smirnov test
  (``scipy.stats.ks_2samp``) between the per-sample truth-ratio statistics on the forget set of the
  unlearned model and of the retrain model (fine-tuned without the forget set). High = the unlearned
  model treats the forget set like a model that never saw it.
- Model utility: the harmonic mean of, on each of retain / real authors / world facts, the answer
  probability (plain on retain, normalised against the perturbed answers on the other two), the ROUGE-L
  recall and the ``true_better`` truth ratio: nine numbers when all three splits are present. The
  harmonic mean is 0 as soon as one component is 0, so a model must keep all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import ks_2samp

from mubench_hf.errors import MubenchError
from mubench_hf.metrics.forget_quality import ForgetQualityResult
from mubench_hf.metrics.generative._arrays import as_vector

# The splits TOFU's model utility averages over (our split names), in TOFU's order.
UTILITY_SPLITS = ("retain", "real_authors", "world_facts")


def truth_ratio_forget_quality_test(
    unlearned_ratios: ArrayLike, retrain_ratios: ArrayLike
) -> ForgetQualityResult:
    """KS test between the unlearned and the retrain model's per-sample truth ratios on the forget set.

    Returns:
        :class:`ForgetQualityResult`: ``p_value`` (the forget quality) and ``ks_statistic``.
    """
    unlearned = as_vector(unlearned_ratios, "unlearned_ratios")
    retrain = as_vector(retrain_ratios, "retrain_ratios")
    result = ks_2samp(unlearned, retrain)
    return ForgetQualityResult(p_value=float(result.pvalue), ks_statistic=float(result.statistic))


def truth_ratio_forget_quality(unlearned_ratios: ArrayLike, retrain_ratios: ArrayLike) -> float:
    """TOFU's forget quality: the KS p-value in [0, 1] (see :func:`truth_ratio_forget_quality_test`)."""
    return truth_ratio_forget_quality_test(unlearned_ratios, retrain_ratios).p_value


def harmonic_mean(values: ArrayLike) -> float:
    """Harmonic mean of non-negative numbers; 0 when any of them is 0 (``scipy.stats.hmean``'s limit)."""
    v = as_vector(values, "values")
    if np.any(v < 0):
        raise MubenchError(f"the harmonic mean needs non-negative values; got {v.min()}")
    if np.any(v == 0):
        return 0.0
    return float(v.size / np.sum(1.0 / v))


def model_utility(components: Mapping[str, float] | Sequence[float]) -> float:
    """TOFU's model utility: the harmonic mean of its components (answer probability, ROUGE-L recall and
    truth ratio on each of retain / real authors / world facts that is present), in [0, 1].

    Args:
        components: the component values, as a ``{name: value}`` mapping (names are only for messages)
            or a plain sequence. ``None`` entries (not computed) are an error: leave them out instead.
    """
    if isinstance(components, Mapping):
        missing = [name for name, value in components.items() if value is None]
        if missing:
            raise MubenchError(
                f"model_utility components {missing} are None; leave out what was not computed"
            )
        values = list(components.values())
    else:
        values = list(components)
    if not values:
        raise MubenchError(
            "model_utility needs at least one component (answer probability, ROUGE-L or truth ratio on "
            f"one of {list(UTILITY_SPLITS)})"
        )
    bad = [v for v in values if not 0.0 <= float(v) <= 1.0]
    if bad:
        raise MubenchError(f"model_utility components must lie in [0, 1]; got {bad[0]}")
    return harmonic_mean(values)
