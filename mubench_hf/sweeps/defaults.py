"""Per-method hyper-parameters that make each method forget on digits in a few seconds on a CPU.

They are each method's ``quick_settings``, declared once in its ``register_method`` call (and checked
by ``tests/test_trainers_digits.py``); a grid file overrides them per method.
"""

from __future__ import annotations

from typing import Any

#: Arguments every unlearning cell gets unless the grid overrides them.
UNLEARN_DEFAULTS: dict[str, Any] = dict(per_device_train_batch_size=32)
#: Tasks on which the declared quick settings were tuned.
#: (the offline generation tasks use them too: the generative methods' settings are tuned on tiny LMs)
QUICK_SETTINGS_TASKS = ("digits", "fictitious_authors", "debian_summaries")


def digits_hyperparameters() -> dict[str, dict[str, Any]]:
    """Every registered method's declared quick settings (tuned on digits)."""
    from ..trainers import method_specs

    return {spec.name: dict(spec.quick_settings) for spec in method_specs() if spec.quick_settings}


def default_hyperparameters(task: str) -> dict[str, dict[str, Any]]:
    """The built-in per-method settings for ``task`` (empty for tasks without tuned defaults)."""
    return digits_hyperparameters() if task in QUICK_SETTINGS_TASKS else {}
