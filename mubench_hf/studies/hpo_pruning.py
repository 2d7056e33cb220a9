"""Pruning a search trial while it trains: the validation gap to retrain every N optimizer steps.

:class:`GapReporter` is a ``TrainerCallback``: every ``every`` steps it measures the model's accuracy on
the forget set and on the validation split (never the test split), reports
``|Acc_Df − Acc_Df(retrain)| + |Acc_val − Acc_val(retrain)|`` to the Optuna trial at that step, and stops
the run with ``optuna.TrialPruned`` when the study's pruner says the trial is worse than its peers were
at the same step. It applies to classification tasks (the accuracy is an argmax over class logits); a
method that takes no optimizer steps (SSD) reports nothing and is never pruned.
"""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

from ..trainers.curves import split_accuracy, validation_gap


class GapReporter(TrainerCallback):
    """Report the validation gap to retrain to ``trial`` every ``every`` steps; prune when told."""

    def __init__(self, trainer: Any, trial: Any, every: int, retrain: tuple[float, float]) -> None:
        self.trainer, self.trial, self.every = trainer, trial, every
        self.retrain_forget, self.retrain_validation = retrain
        self.reported: list[tuple[int, float]] = []
        self._batches: dict[str, Any] = {}  # prepared rows kept between evaluations (split_accuracy)

    def gap(self) -> float:
        # the measurement of the unlearning curve (trainers/curves.py): gathered across processes
        forget = split_accuracy(self.trainer, self.trainer.forget_dataset, "forget", self._batches)
        validation = split_accuracy(self.trainer, self.trainer.eval_dataset_raw, "validation", self._batches)
        return validation_gap(forget, validation, (self.retrain_forget, self.retrain_validation))

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        import optuna

        step = state.global_step
        if step % self.every or step >= state.max_steps:  # the last step is scored by the full report
            return
        value = self.gap()
        self.reported.append((step, value))
        self.trial.report(value, step)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"validation gap {value:.4f} at step {step}")


def add_gap_reporter(trainer: Any, trial: Any, every: int, retrain: tuple[float, float]) -> None:
    """Attach a :class:`GapReporter` when it can measure something (a classification task with a
    validation split and ``every`` > 0)."""
    if every <= 0 or trainer.objective.kind != "classification" or trainer.eval_dataset_raw is None:
        return
    trainer.add_callback(GapReporter(trainer, trial, every, retrain))
