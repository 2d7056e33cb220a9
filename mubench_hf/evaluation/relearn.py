"""Relearn time: how many optimizer steps of fine-tuning on Df bring the forget accuracy back.

An unlearned model that only *hides* Df (its weights still hold it) relearns Df in a few steps; a model
that never learned it (the retrain reference, or a fresh one) needs many more. The measure: fine-tune a
copy of the model on Df alone with ``transformers.Trainer`` (AdamW, constant learning rate, no warmup,
no weight decay, seeded shuffling) and count the optimizer steps until the forget accuracy, checked every
``check_every`` steps on all of Df, is at least the original model's forget accuracy minus
``tolerance``. The fine-tuning is capped at ``max_steps``: a model that never gets there reports
``relearn_steps = max_steps`` with ``relearn_reached = 0`` (a censored value: "at least the cap"), so
the number stays numeric in every table. The model being scored is never changed (a copy is trained).

Defaults (``RELEARN_DEFAULTS``): learning rate 3e-4, batch size 32, cap 100 steps, a check after every
step, tolerance 0. Steps are counted at the check resolution (``check_every > 1`` rounds up).
Measured on digits del5 (62 forget rows, tiny ResNet, seed 0): a lightly unlearned model (grad ascent,
forget accuracy 1.0 -> 0.90) is back at 1.0 after 11 steps; a freshly initialised one needs 45-49 steps
(seeds 0, 1), and 31-35 steps at 1e-3, where memorising 62 rows is quick: the rate has to stay low for
the count to tell hidden knowledge from learning anew. Compare against the retrain model's count.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from torch import nn
from transformers import PrinterCallback, TrainerCallback, TrainingArguments

from ..errors import MubenchError
from ..rows import RowDataset
from ..training import MubenchTrainer
from .predictions import logits_of_model, predict_labels


@dataclass(frozen=True)
class RelearnSettings:
    """How the relearning is run (see the module docstring)."""

    learning_rate: float = 3e-4
    batch_size: int = 32
    max_steps: int = 100
    check_every: int = 1
    tolerance: float = 0.0

    def __post_init__(self) -> None:
        if not self.learning_rate > 0:
            raise MubenchError(f"relearn learning_rate must be > 0, got {self.learning_rate}")
        for name in ("batch_size", "max_steps", "check_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise MubenchError(f"relearn {name} must be a whole number >= 1, got {value!r}")
        if not 0.0 <= self.tolerance <= 1.0:
            raise MubenchError(f"relearn tolerance must be a share in [0, 1], got {self.tolerance}")


RELEARN_DEFAULTS = RelearnSettings()


@dataclass(frozen=True)
class RelearnResult:
    """Outcome of one relearning run."""

    steps: int  # optimizer steps until the target was reached; max_steps when it never was
    reached: bool
    target_accuracy: float  # the original model's forget accuracy minus the tolerance
    start_accuracy: float
    final_accuracy: float
    settings: RelearnSettings

    def as_metrics(self) -> dict[str, float]:
        """The report's keys: ``relearn_steps`` (censored at the cap), ``relearn_reached`` (1/0), ...."""
        return {
            "relearn_steps": float(self.steps),
            "relearn_reached": float(self.reached),
            "relearn_cap": float(self.settings.max_steps),
            "relearn_target_accuracy": self.target_accuracy,
            "relearn_final_forget_accuracy": self.final_accuracy,
        }


def fine_tuning_arguments(
    output_dir: str, steps: int, learning_rate: float, batch_size: int, *, seed: int, use_cpu: bool
) -> TrainingArguments:
    """Quiet ``TrainingArguments`` for a short fine-tuning of a copy (relearn time, the relearning attack):
    a constant learning rate without warm-up or weight decay, nothing saved, logged or evaluated."""
    return TrainingArguments(
        output_dir=output_dir,
        max_steps=steps,
        learning_rate=learning_rate,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=256,
        lr_scheduler_type="constant",
        warmup_steps=0,
        weight_decay=0.0,
        save_strategy="no",
        logging_strategy="no",
        eval_strategy="no",
        report_to="none",
        seed=seed,
        disable_tqdm=True,
        use_cpu=use_cpu,
    )


def as_settings(value: RelearnSettings | dict[str, Any] | bool | None) -> RelearnSettings | None:
    """``True`` → the defaults, a mapping → its fields over the defaults, ``None``/``False`` → off."""
    if value is None or value is False:
        return None
    if value is True:
        return RELEARN_DEFAULTS
    if isinstance(value, RelearnSettings):
        return value
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(asdict(RELEARN_DEFAULTS)))
        if unknown:
            raise MubenchError(
                f"unknown relearn setting(s) {unknown}; known: {sorted(asdict(RELEARN_DEFAULTS))}"
            )
        return RelearnSettings(**{**asdict(RELEARN_DEFAULTS), **value})
    raise MubenchError(f"relearn must be True, a RelearnSettings or a mapping of its fields, got {value!r}")


class _StopWhenRelearned(TrainerCallback):
    """Checks the forget accuracy every ``check_every`` steps and stops training once it is back."""

    def __init__(self, measure: Any, target: float, check_every: int) -> None:
        self.measure, self.target, self.check_every = measure, target, check_every
        self.reached_at: int | None = None
        self.last_accuracy: float | None = None

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if state.global_step % self.check_every == 0 or state.global_step >= state.max_steps:
            self.last_accuracy = self.measure()
            if self.last_accuracy >= self.target:
                self.reached_at = state.global_step
                control.should_training_stop = True
        return control


def relearn_steps(
    model: nn.Module,
    forget: Any,
    *,
    data_collator: Any,
    original_forget_accuracy: float,
    settings: RelearnSettings = RELEARN_DEFAULTS,
    seed: int = 42,
    use_cpu: bool = False,
) -> RelearnResult:
    """Fine-tune a copy of ``model`` on ``forget`` (rows with the task's transform attached, as the
    report scores them) until its forget accuracy is back to ``original_forget_accuracy`` (see the
    module docstring). ``model`` itself is not changed."""
    if not 0.0 <= float(original_forget_accuracy) <= 1.0:
        raise MubenchError(
            f"the original forget accuracy is a share in [0, 1], got {original_forget_accuracy}"
        )
    if forget is None or len(forget) == 0:
        raise MubenchError("relearn_steps needs a non-empty forget split")
    student = copy.deepcopy(model.get_base_model() if hasattr(model, "get_base_model") else model)
    student.requires_grad_(True)
    labels = predict_labels(forget)
    target = float(original_forget_accuracy) - settings.tolerance
    with tempfile.TemporaryDirectory() as scratch:
        args = fine_tuning_arguments(
            scratch,
            settings.max_steps,
            settings.learning_rate,
            settings.batch_size,
            seed=seed,
            use_cpu=use_cpu,
        )
        trainer = MubenchTrainer(
            model=student, args=args, train_dataset=RowDataset(forget), data_collator=data_collator
        )
        trainer.remove_callback(PrinterCallback)

        def accuracy() -> float:
            return float(
                np.mean(logits_of_model(trainer, trainer.model, forget, "forget").argmax(1) == labels)
            )

        start = accuracy()
        if start >= target:
            return RelearnResult(0, True, target, start, start, settings)
        stopper = _StopWhenRelearned(accuracy, target, settings.check_every)
        trainer.add_callback(stopper)
        trainer.train()
    final = stopper.last_accuracy if stopper.last_accuracy is not None else start
    if stopper.reached_at is None:
        return RelearnResult(settings.max_steps, False, target, start, final, settings)
    return RelearnResult(stopper.reached_at, True, target, start, final, settings)
