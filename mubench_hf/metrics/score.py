"""MU-Bench overall score (Cheng & Amiri 2024): one number that rewards keeping test accuracy while
pushing forget-set accuracy to chance.

    closeness_test   = 1 - |Acc_Dt - Acc_Dt^orig|
    closeness_chance = 1 - |Acc_Df - 1/K|
    score = harmonic_mean(closeness_test, closeness_chance)

and the score is 0 when the model collapsed:

* test accuracy dropped by more than ``max_test_drop`` relative to the original model
  (``Acc_Dt < (1 - max_test_drop) * Acc_Dt^orig``; default 20 %), or
* forget accuracy fell far below chance (``Acc_Df < chance_floor / K``; default half of chance) —
  an anti-classifier on Df still encodes the forgotten labels (it knows which class to avoid).

Caution (DESIGN §5): for random deletion the retrained gold-standard model classifies Df about as well
as test data, so this score rewards over-forgetting there; report it next to the gap to retrain.
"""

from __future__ import annotations

import numpy as np

from mubench_hf.metrics._validate import check_fraction

_BOUNDARY_TOLERANCE = 1e-12


def mubench_score(
    *,
    test_accuracy: float,
    forget_accuracy: float,
    original_test_accuracy: float,
    num_labels: int,
    max_test_drop: float = 0.2,
    chance_floor: float = 0.5,
) -> float:
    """MU-Bench's overall score from accuracies.

    Args:
        test_accuracy: the unlearned model's accuracy on Dt.
        forget_accuracy: the unlearned model's accuracy on Df.
        original_test_accuracy: the original (pre-unlearning) model's accuracy on Dt; measure it, it is
            never assumed.
        num_labels: number of classes K (chance accuracy is 1/K).
        max_test_drop: largest allowed relative drop of test accuracy before the score is zeroed.
        chance_floor: the score is zeroed when ``forget_accuracy < chance_floor / K``.

    Returns:
        Score in [0, 1]; 1 = test accuracy unchanged and Df at exactly chance.
    """
    test_accuracy = check_fraction(test_accuracy, "test_accuracy")
    forget_accuracy = check_fraction(forget_accuracy, "forget_accuracy")
    original_test_accuracy = check_fraction(original_test_accuracy, "original_test_accuracy")
    max_test_drop = check_fraction(max_test_drop, "max_test_drop")
    if isinstance(num_labels, bool) or not isinstance(num_labels, (int, np.integer)) or num_labels < 2:
        raise ValueError(f"num_labels must be an integer >= 2; got {num_labels!r}")
    if not (0.0 <= chance_floor <= 1.0):
        raise ValueError(
            f"chance_floor must be in [0, 1] (a fraction of chance accuracy); got {chance_floor}"
        )
    chance = 1.0 / num_labels
    # Accuracies are ratios of counts; the tolerance keeps a value exactly on a boundary (a drop of
    # exactly 20 %) on the scored side despite float rounding (0.8 * 0.8 != 0.64 in binary).
    if test_accuracy < (1.0 - max_test_drop) * original_test_accuracy - _BOUNDARY_TOLERANCE:
        return 0.0
    if forget_accuracy < chance_floor * chance - _BOUNDARY_TOLERANCE:
        return 0.0
    closeness_test = 1.0 - abs(test_accuracy - original_test_accuracy)
    closeness_chance = 1.0 - abs(forget_accuracy - chance)
    if closeness_test + closeness_chance == 0.0:
        return 0.0
    return 2.0 * closeness_test * closeness_chance / (closeness_test + closeness_chance)
