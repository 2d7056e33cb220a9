"""Gap to retrain: how far the unlearned model is from the retrained gold standard.

SalUn (Fan et al. 2024, "SalUn: Empowering Machine Unlearning via Gradient-based Weight Saliency in
Both Image Classification and Generation") reports the "average gap": the mean absolute difference
between the unlearned and the retrained model over forget accuracy, retain accuracy, test accuracy
and MIA efficacy. Lower is better; 0 = indistinguishable from retraining on these four numbers.
Values here are fractions in [0, 1] (SalUn prints percentages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mubench_hf.errors import MubenchError

GAP_COMPONENTS: tuple[str, ...] = ("forget_accuracy", "retain_accuracy", "test_accuracy", "mia_efficacy")


def gap_to_retrain(
    unlearned: Mapping[str, float],
    retrain: Mapping[str, float],
    components: Sequence[str] = GAP_COMPONENTS,
) -> dict[str, float]:
    """Per-component absolute gaps and their mean.

    Args:
        unlearned: metric values of the unlearned model, keyed by name (e.g. ``"forget_accuracy"``).
        retrain: the same metrics of the retrained model.
        components: which metrics enter the average (SalUn's four by default).

    Returns:
        ``{"gap_to_retrain": mean, "gap_<component>": |unlearned - retrain|, ...}``.
    """
    if len(components) == 0:
        raise MubenchError("components must name at least one metric")
    gaps: dict[str, float] = {}
    for name in components:
        for side, values in (("unlearned", unlearned), ("retrain", retrain)):
            if name not in values:
                raise MubenchError(f"{side} metrics lack {name!r}; they have {sorted(values)}")
        gaps[f"gap_{name}"] = abs(float(unlearned[name]) - float(retrain[name]))
    return {"gap_to_retrain": sum(gaps.values()) / len(gaps), **gaps}
