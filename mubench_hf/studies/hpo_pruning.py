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

import torch
from torch.utils.data import DataLoader
from transformers import TrainerCallback


def split_accuracy(trainer: Any, dataset: Any) -> float:
    """Share of ``dataset``'s rows whose argmax class is their label, for the trainer's current model."""
    from ..rows import RowDataset

    model = trainer.accelerator.unwrap_model(trainer.model)
    loader = DataLoader(
        RowDataset(dataset),
        batch_size=trainer.args.per_device_eval_batch_size,
        collate_fn=trainer._get_collator_with_removed_columns(trainer.data_collator, "hpo pruning"),
    )
    correct = total = 0
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in loader:
                batch = trainer._prepare_inputs(batch)
                logits = trainer.objective.outputs(model, batch)
                correct += int((logits.argmax(-1) == batch["labels"]).sum())
                total += int(batch["labels"].numel())
    finally:
        model.train(was_training)
    return correct / max(total, 1)


class GapReporter(TrainerCallback):
    """Report the validation gap to retrain to ``trial`` every ``every`` steps; prune when told."""

    def __init__(self, trainer: Any, trial: Any, every: int, retrain: tuple[float, float]) -> None:
        self.trainer, self.trial, self.every = trainer, trial, every
        self.retrain_forget, self.retrain_validation = retrain
        self.reported: list[tuple[int, float]] = []

    def gap(self) -> float:
        forget = split_accuracy(self.trainer, self.trainer.forget_dataset)
        validation = split_accuracy(self.trainer, self.trainer.eval_dataset_raw)
        return abs(forget - self.retrain_forget) + abs(validation - self.retrain_validation)

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
