"""SSD: selective synaptic dampening, a retrain-free method.

Importance of each weight is the diagonal of the Fisher information, estimated as the mean over
batches of the squared gradient of the batch's mean cross-entropy: I_Df on the forget set and I_D on
all training data (Df ∪ Dr). Weights that matter far more for Df than overall, I_Df > α·I_D, are
multiplied by β = min(λ·I_D / I_Df, 1); every other weight is left as it is. Foster, Schoepf & Brintrup,
"Fast Machine Unlearning Without Retraining Through Selective Synaptic Dampening", AAAI 2024
(selection weighting α = 10 and dampening constant λ = 1 for their CIFAR experiments; a larger α
changes fewer weights, a larger λ dampens them less).

There is no optimizer loop: ``train()`` estimates the importances (in eval mode, batches shared out
across processes and the sums reduced), edits the weights once and returns a ``TrainOutput`` with
``global_step`` 0 and the share of dampened weights in its metrics.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import ConcatDataset, DataLoader, Dataset
from transformers.trainer_utils import TrainOutput, speed_metrics

from ..errors import MubenchError
from ..rows import RowDataset
from ..search_space import Range
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import register_method


@dataclass
class SSDConfig(UnlearnConfig):
    """``UnlearnConfig`` plus SSD's selection weighting α and dampening constant λ."""

    selection_weighting: float = field(
        default=10.0,
        metadata={"help": "α: dampen weights whose Df importance exceeds α × their importance on all data."},
    )
    dampening_constant: float = field(
        default=1.0, metadata={"help": "λ: a selected weight is multiplied by min(λ·I_D / I_Df, 1)."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.selection_weighting <= 0 or self.dampening_constant <= 0:
            raise MubenchError("selection_weighting and dampening_constant must be > 0")


class SSDTrainer(UnlearnTrainer):
    """Dampen the weights that are far more important for Df than for all training data."""

    makes_gradient_steps = False  # it scales weights in place: no optimizer, nothing for LoRA to learn

    def importances(self, dataset: Dataset) -> dict[str, torch.Tensor]:
        """Mean over batches of the squared gradient of each batch's mean cross-entropy."""
        model = self.accelerator.unwrap_model(self.model)
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        totals = {n: torch.zeros_like(p) for n, p in named}
        loader = DataLoader(
            dataset,
            batch_size=self.args.per_device_train_batch_size,
            collate_fn=self._get_collator_with_removed_columns(self.data_collator, "importance"),
        )
        rank, world = self.args.process_index, self.args.world_size
        was_training = model.training
        model.eval()
        try:
            for index, batch in enumerate(loader):
                if index % world != rank:  # each process takes every world-th batch
                    continue
                batch = self._prepare_inputs(batch)
                loss = self.objective.loss(self.objective.outputs(model, batch), batch)
                grads = torch.autograd.grad(loss, [p for _, p in named], allow_unused=True)
                for (name, _), grad in zip(named, grads):
                    if grad is not None:
                        totals[name] += grad.pow(2)
        finally:
            model.train(was_training)
        for name in totals:
            if world > 1:
                totals[name] = self.accelerator.reduce(totals[name], reduction="sum")
            totals[name] /= max(len(loader), 1)
        return totals

    @torch.no_grad()
    def dampen(
        self, forget_importance: dict[str, torch.Tensor], full_importance: dict[str, torch.Tensor]
    ) -> float:
        """Apply SSD's update in place; returns the share of weights that were dampened."""
        model = self.accelerator.unwrap_model(self.model)
        changed, total = 0, 0
        for name, param in model.named_parameters():
            if name not in forget_importance:
                continue
            i_forget, i_full = forget_importance[name], full_importance[name]
            selected = i_forget > self.args.selection_weighting * i_full
            # i_forget > 0 wherever selected, so the division is safe where it is used.
            beta = (
                self.args.dampening_constant * i_full / i_forget.clamp_min(torch.finfo(i_forget.dtype).tiny)
            ).clamp(max=1.0)
            param.mul_(torch.where(selected, beta, torch.ones_like(beta)))
            changed += int(selected.sum())
            total += selected.numel()
        return changed / max(total, 1)

    def planned_steps(self) -> int:
        """None: SSD dampens weights in one pass over the data, without optimisation steps."""
        return 0

    def train(
        self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any
    ) -> TrainOutput:
        start = time.time()
        everything = ConcatDataset([RowDataset(self.forget_dataset), RowDataset(self.retain_dataset)])
        forget_importance = self.importances(RowDataset(self.forget_dataset))
        full_importance = self.importances(everything)
        share = self.dampen(forget_importance, full_importance)
        metrics = speed_metrics(
            "train", start, num_samples=len(self.forget_dataset) + len(everything), num_steps=0
        )
        metrics["dampened_fraction"] = share
        self.log(metrics)
        return TrainOutput(self.state.global_step, 0.0, metrics)


register_method(
    "ssd",
    trainer=SSDTrainer,
    config=SSDConfig,
    data_use=DataUse.SEPARATE,
    citation='Foster, Schoepf & Brintrup, "Selective Synaptic Dampening", AAAI 2024',
    # SSD dampens parameters important to the forget set; it was designed for class forgetting.
    quick_settings=dict(selection_weighting=8.0),
    # no gradient steps: α (selection weighting) and λ (dampening constant) are all it has to tune
    search_space={
        "selection_weighting": Range(0.25, 4.0, log=True, relative=True),
        "dampening_constant": Range(0.1, 10.0, log=True),
    },
)
