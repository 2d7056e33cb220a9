"""MU-Bench overall score (Cheng & Amiri 2024) with MU-Bench's own zeroing rules.

Source of the definition: ``Evaluator.compute`` and ``harmonic_mean`` in ``mubench/evaluation.py`` of
``CLU-UML/MU-Bench``:

    closeness_test   = 1 - |Acc_Dt - Acc_Dt^orig|
    closeness_chance = 1 - |Acc_Df - chance|,   chance = 1/K
    score = harmonic_mean(closeness_test, closeness_chance)

and the score is set to 0 when

* test accuracy moved, in either direction, by more than 20 % of the original:
  ``|Acc_Dt - Acc_Dt^orig| / Acc_Dt^orig > 0.2`` (MU-Bench allows 0.4 for ``grad_ascent`` /
  ``neggrad``, which it expects to damage the model more), or
* forget accuracy is below chance by more than 20 % of chance:
  ``Acc_Df < chance and (chance - Acc_Df) / chance > 0.2``.

One deliberate difference: a value exactly on a boundary (a change of exactly 20 %, which happens
with accuracies that are ratios of counts) is scored; MU-Bench's float arithmetic can put it on either
side (``abs(0.64 - 0.8) / 0.8`` evaluates to 0.20000000000000004). MU-Bench also has a mode-connectivity
switch that skips the rules; it is not part of this score.

Caution (DESIGN §5): for random deletion the retrained gold-standard model classifies Df about as well
as test data, so this score rewards over-forgetting there; report it next to the gap to retrain.
"""

from __future__ import annotations

import numpy as np

from mubench_hf.errors import MubenchError
from mubench_hf.metrics._validate import check_fraction

# MU-Bench's allowed relative change of test accuracy, and the methods it allows more for.
DEFAULT_MAX_TEST_CHANGE = 0.2
LENIENT_METHODS: frozenset[str] = frozenset({"grad_ascent", "neggrad"})
LENIENT_MAX_TEST_CHANGE = 0.4
DEFAULT_MAX_BELOW_CHANCE = 0.2
_BOUNDARY_TOLERANCE = 1e-12


def max_test_change_for(method: str | None) -> float:
    """MU-Bench's allowed relative test-accuracy change for an unlearning method (None = the default)."""
    if method is not None and not isinstance(method, str):
        raise MubenchError(f"method must be an unlearning method name (str) or None; got {method!r}")
    return LENIENT_MAX_TEST_CHANGE if method in LENIENT_METHODS else DEFAULT_MAX_TEST_CHANGE


def mubench_score(
    *,
    test_accuracy: float,
    forget_accuracy: float,
    original_test_accuracy: float,
    num_labels: int,
    method: str | None = None,
    max_test_change: float | None = None,
    max_below_chance: float = DEFAULT_MAX_BELOW_CHANCE,
) -> float:
    """MU-Bench's overall score from accuracies, zeroed by MU-Bench's rules (module docstring).

    Args:
        test_accuracy: the unlearned model's accuracy on Dt.
        forget_accuracy: the unlearned model's accuracy on Df.
        original_test_accuracy: the original (pre-unlearning) model's accuracy on Dt, > 0; measure it,
            it is never assumed.
        num_labels: number of classes K (chance accuracy is 1/K).
        method: the unlearning method's name; ``"grad_ascent"`` and ``"neggrad"`` get MU-Bench's 40 %
            allowance for the test-accuracy change, every other name (and None) 20 %.
        max_test_change: overrides the allowance that ``method`` selects (a relative change in [0, 1]).
        max_below_chance: how far below chance Df accuracy may fall, relative to chance (MU-Bench: 0.2).

    Returns:
        Score in [0, 1]; 1 = test accuracy unchanged and Df at exactly chance.
    """
    test_accuracy = check_fraction(test_accuracy, "test_accuracy")
    forget_accuracy = check_fraction(forget_accuracy, "forget_accuracy")
    original_test_accuracy = check_fraction(original_test_accuracy, "original_test_accuracy")
    if original_test_accuracy == 0.0:
        raise MubenchError(
            "original_test_accuracy must be > 0: MU-Bench's rule measures the test-accuracy change "
            "relative to it"
        )
    if isinstance(num_labels, bool) or not isinstance(num_labels, (int, np.integer)) or num_labels < 2:
        raise MubenchError(f"num_labels must be an integer >= 2; got {num_labels!r}")
    allowed = max_test_change_for(method) if max_test_change is None else max_test_change
    allowed = check_fraction(allowed, "max_test_change")
    max_below_chance = check_fraction(max_below_chance, "max_below_chance")
    chance = 1.0 / num_labels
    if _zeroing_rule(
        test_accuracy, forget_accuracy, original_test_accuracy, chance, allowed, max_below_chance
    ):
        return 0.0
    closeness_test = 1.0 - abs(test_accuracy - original_test_accuracy)
    closeness_chance = 1.0 - abs(forget_accuracy - chance)
    if closeness_test + closeness_chance == 0.0:  # unreachable after the rules; MU-Bench would divide by 0
        return 0.0
    return 2.0 * closeness_test * closeness_chance / (closeness_test + closeness_chance)


def _zeroing_rule(
    test_accuracy: float,
    forget_accuracy: float,
    original_test_accuracy: float,
    chance: float,
    allowed: float,
    max_below_chance: float,
) -> str | None:
    """Which of MU-Bench's rules sets the score to 0, in words (``None``: neither)."""
    # Accuracies are ratios of counts; the tolerance keeps a value exactly on a boundary on the scored
    # side despite float rounding (see the module docstring).
    change = abs(test_accuracy - original_test_accuracy)
    if change > allowed * original_test_accuracy + _BOUNDARY_TOLERANCE:
        return (
            f"test accuracy moved from {original_test_accuracy:.3f} to {test_accuracy:.3f}, by "
            f"{change / original_test_accuracy:.0%} of the original (MU-Bench allows {allowed:.0%})"
        )
    if chance - forget_accuracy > max_below_chance * chance + _BOUNDARY_TOLERANCE:
        return (
            f"forget accuracy {forget_accuracy:.3f} is below chance ({chance:.3f}) by more than "
            f"{max_below_chance:.0%} of chance (over-forgetting)"
        )
    return None


def mubench_score_zero_reason(
    *,
    test_accuracy: float,
    forget_accuracy: float,
    original_test_accuracy: float,
    num_labels: int,
    method: str | None = None,
) -> str | None:
    """Why :func:`mubench_score` is 0 for these accuracies (the rule, with the numbers), or ``None`` when
    no zeroing rule applies. Arguments as for :func:`mubench_score`; they are not re-validated."""
    return _zeroing_rule(
        float(test_accuracy),
        float(forget_accuracy),
        float(original_test_accuracy),
        1.0 / int(num_labels),
        max_test_change_for(method),
        DEFAULT_MAX_BELOW_CHANCE,
    )
