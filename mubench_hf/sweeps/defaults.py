"""Per-method hyper-parameters that make each method forget on digits in a few seconds on a CPU.

They are each method's ``quick_settings``, declared once in its ``register_method`` call (and checked
by ``tests/test_trainers_digits.py``); a grid file overrides them per method. They apply to the tasks
of :data:`QUICK_SETTINGS_TASKS` only: the offline tasks, whose tiny from-config models train at
learning rates of the same order as digits' tiny ResNet. A Hub task with a pretrained backbone gets
each method's own defaults (its trainer's arguments) unless the grid sets them.
"""

from __future__ import annotations

from typing import Any

#: Arguments every unlearning cell gets unless the grid overrides them.
UNLEARN_DEFAULTS: dict[str, Any] = dict(per_device_train_batch_size=32)
#: Tasks that get the declared quick settings: digits (where they were tuned), the offline tasks of the
#: other modalities (go_relations: all 12 methods finish on del5 and class0, every one but SSD at α = 8
#: lowering class 0's accuracy 0.783 -> 0.000-0.667) and the offline generation tasks (the generative methods' settings are tuned on tiny
#: LMs). Measured with ``mubench run --task <task> --methods all --ratios 5 --classes 0 --seeds 42``:
#: on spoken_keywords, moving_digits and digit_pairs every forgetting method takes the class-wise
#: config's forget accuracy from 0.77-1.0 to 0.00-0.22 (SSD with the settings below), though on the first
#: two finetune, grad_ascent, grad_diff, npo and scrub also pull retain accuracy far down
#: (over-forgetting: per-task settings would do better); without them a method runs with
#: TrainingArguments' defaults, a learning rate of 5e-5 meant for fine-tuning pretrained models.
QUICK_SETTINGS_TASKS = (
    "digits",
    "spoken_keywords",
    "moving_digits",
    "digit_pairs",
    "go_relations",
    "fictitious_authors",
    "fictitious_authors_small",
    "debian_summaries",
    "digits_t2i",
    "muse_manpages",
)


#: Per-task changes to the quick settings, measured on the class-wise config ``<task>_class0`` (seed 42).
#: SSD's selection weighting α is a threshold on Df importance ÷ D importance, and for a forgotten class
#: that ratio is at most about 1 / (the class's share of train): α must lie below it. Digits' α = 8
#: selected nothing on spoken_keywords and moving_digits (1/8 of moving_digits is one class) and α = 6
#: erases the class there (0.983 -> 0.000, 1.000 -> 0.000; moving_digits test accuracy 0.850 vs retrain's
#: 0.847); go_relations' classes are a fifth each: α = 4 (0.783 -> 0.567, test 0.877; α = 6 moves
#: nothing). On digit_pairs no α helps: class 0 is half the train rows and λ = 1 dampens a weight by at
#: most half at α = 1.5 (0.765 -> 0.759), and only α close to 1 selects the class's weights at all.
TASK_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "spoken_keywords": {"ssd": {"selection_weighting": 6.0}},
    "moving_digits": {"ssd": {"selection_weighting": 6.0}},
    "go_relations": {"ssd": {"selection_weighting": 4.0}},
    # a tiny text-to-image UNet learns at ~1e-3 (its base recipe: 2e-3); the classifiers' rates (finetune's
    # 2e-2) would wreck it. Forget-only methods see 4 batches of the 128 images of a digit per epoch.
    "digits_t2i": {
        "finetune": {"learning_rate": 1e-3, "num_train_epochs": 1},
        "grad_ascent": {"learning_rate": 2e-4, "num_train_epochs": 2},
        "grad_diff": {"learning_rate": 5e-4, "max_steps": 20, "pair_anchor": "forget"},
        "npo": {"learning_rate": 1e-3, "max_steps": 20},
        # SalUn's diffusion form (random_label.py): 5 epochs of forget batches as its script; α = 1 rather
        # than its 0.1 (class 3, seed 42: UA 1.00 both, IRA 0.82 vs 0.19 for salun)
        "random_label": {
            "learning_rate": 1e-3,
            "num_train_epochs": 5,
            "pair_anchor": "forget",
            "relabel_retain_weight": 1.0,
        },
        "salun": {
            "learning_rate": 1e-3,
            "num_train_epochs": 5,
            "pair_anchor": "forget",
            "relabel_retain_weight": 1.0,
        },
    },
}

#: Changes for the class-wise configs ``<task>_class<k>`` only, over TASK_SETTINGS (random deletion keeps
#: those). digit_pairs' class 0 is half of train, so I_Df / I_D is at most about 2: SSD needs α near 1 and
#: a strong dampening there (class 0, seed 42: α 1.2, λ 1 -> 0.765 -> 0.665; λ 0.1 -> 0.147 with test
#: 0.506, the retrain model's 0.500; λ 0.02 -> 0.086). The same α on the random del5 config selects most
#: weights and collapses the model (test 0.50 vs retrain 0.76), hence a class-wise-only setting.
CLASS_WISE_TASK_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "digit_pairs": {"ssd": {"selection_weighting": 1.2, "dampening_constant": 0.1}},
}


def digits_hyperparameters() -> dict[str, dict[str, Any]]:
    """Every registered method's declared quick settings (tuned on digits)."""
    from ..trainers import method_specs

    return {spec.name: dict(spec.quick_settings) for spec in method_specs() if spec.quick_settings}


def default_hyperparameters(task: str, class_wise: bool = False) -> dict[str, dict[str, Any]]:
    """The built-in per-method settings for ``task`` (empty for tasks without tuned defaults): the quick
    settings, with the task's own changes (``TASK_SETTINGS``) over them, and for a class-wise config
    (``class_wise``) ``CLASS_WISE_TASK_SETTINGS`` over those."""
    if task not in QUICK_SETTINGS_TASKS:
        return {}
    settings = digits_hyperparameters()
    layers = [TASK_SETTINGS.get(task, {})]
    if class_wise:
        layers.append(CLASS_WISE_TASK_SETTINGS.get(task, {}))
    for layer in layers:
        for method, changes in layer.items():
            settings[method] = {**settings.get(method, {}), **changes}
    return settings


#: Arguments that say how long a run trains; giving either one replaces both declared ones (``max_steps``
#: would otherwise override the ``num_train_epochs`` the user asked for).
LENGTH_ARGUMENTS = ("num_train_epochs", "max_steps")


def method_defaults(
    method: str, task: str, class_wise: bool = False, pretrained: bool = False
) -> dict[str, Any]:
    """What ``method`` runs with on ``task`` when nothing is given: the arguments every sweep cell gets
    (:data:`UNLEARN_DEFAULTS`), then the method's declared settings for the task
    (:func:`default_hyperparameters`; none for tasks without tuned defaults). A sweep cell and
    ``mubench unlearn`` without flags run the same settings. A model fine-tuned from a pretrained
    checkpoint (``pretrained``) gets no declared settings: they are tuned on the tasks' tiny from-config
    models, at learning rates 20-400x the 5e-5 of fine-tuning."""
    declared = {} if pretrained else default_hyperparameters(task, class_wise=class_wise).get(method, {})
    return {**UNLEARN_DEFAULTS, **declared}


def unset_defaults(defaults: dict[str, Any], given: set[str]) -> dict[str, Any]:
    """The entries of ``defaults`` that the names in ``given`` (arguments set explicitly) leave in force;
    an explicit training length (epochs or steps) replaces both declared ones."""
    drop = set(given)
    if drop & set(LENGTH_ARGUMENTS):
        drop |= set(LENGTH_ARGUMENTS)
    return {name: value for name, value in defaults.items() if name not in drop}
