"""Per-method hyper-parameters that make each method forget on digits in a few seconds on a CPU.

They are the settings of ``tests/test_trainers_digits.py`` (where each is checked to lower forget
accuracy at a bounded test-accuracy cost). A grid file overrides them per method.
"""

from __future__ import annotations

from typing import Any

DIGITS_HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "finetune": dict(learning_rate=2e-2, num_train_epochs=2),
    "grad_ascent": dict(learning_rate=1e-3, num_train_epochs=2),
    "grad_diff": dict(learning_rate=1e-3, max_steps=15),
    "random_label": dict(learning_rate=2e-3, num_train_epochs=3),
    "salun": dict(learning_rate=3e-3, num_train_epochs=3),
    "bad_teaching": dict(learning_rate=1e-3, max_steps=10),
    "scrub": dict(learning_rate=5e-3, forget_steps_per_cycle=6, max_steps=50),
    "l1_sparse": dict(learning_rate=1e-2, num_train_epochs=2, l1_weight=5e-3),
    "delete": dict(learning_rate=1e-3, num_train_epochs=4),
    "npo": dict(learning_rate=1e-3, max_steps=15),
    # SSD dampens parameters important to the forget set; it was designed for class forgetting.
    "ssd": dict(selection_weighting=8.0),
}

#: Arguments every unlearning cell gets unless the grid overrides them.
UNLEARN_DEFAULTS: dict[str, Any] = dict(per_device_train_batch_size=32)


def default_hyperparameters(task: str) -> dict[str, dict[str, Any]]:
    """The built-in per-method settings for ``task`` (empty for tasks without tuned defaults)."""
    return {m: dict(h) for m, h in DIGITS_HYPERPARAMETERS.items()} if task == "digits" else {}
