"""CF-k (catastrophic forgetting of the last k layers): fine-tune only the last k blocks and the head on Dr.

Every other weight is frozen; the trainable ones minimise CE(θ; Dr) + (λ/2)·‖θ − θ_start‖² (θ_start:
the weights as training starts, here θo). Goel, Prabhu, Sanyal, Lim, Torr & Kumaraguru, "Towards
Adversarial Evaluation of Machine Unlearning" (arXiv 2201.06640, 2022); defaults from DeepUnlearn's
``munl/unlearning/catastrophic_forgetting_k.py`` and its ``fk_finetune`` (k = 1 block plus the
classifier, λ = 0.1 as its ``sgda_weight_decay``). What "block" means for a Hugging Face model is in
``blocks.py`` (a ResNet's stage, a transformer's layer).

Left to ``TrainingArguments`` as for every method: the optimizer and schedule (DeepUnlearn runs SGD
with the rate cut ×0.1 at 50/80/90 % of the epochs, in eval mode). The weights frozen here get their
``requires_grad`` back when ``train()`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from transformers.trainer_utils import TrainOutput

from ..errors import MubenchError
from .base import UnlearnTrainer
from .blocks import last_k_parameter_names
from .config import UnlearnConfig
from .data import DataUse
from .proximal import proximal_penalty, trainable_snapshot
from .registry import register_method


@dataclass
class LastKConfig(UnlearnConfig):
    """``UnlearnConfig`` plus how many blocks to retrain and the proximal weight."""

    num_blocks: int = field(
        default=1, metadata={"help": "k: the last k blocks of the backbone (and the head) are trained."}
    )
    proximal_weight: float = field(
        default=0.1, metadata={"help": "λ >= 0: adds (λ/2)·‖θ − θ_start‖² over the trained weights."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_blocks < 0:
            raise MubenchError(f"num_blocks must be >= 0, got {self.num_blocks}")
        if self.proximal_weight < 0:
            raise MubenchError(f"proximal_weight must be >= 0, got {self.proximal_weight}")


@dataclass
class CFkConfig(LastKConfig):
    """CF-k's config (``LastKConfig``)."""


class CFkTrainer(UnlearnTrainer):
    """Loss = CE(Dr) + (λ/2)·‖θ − θ_start‖², with only the last k blocks and the head trainable."""

    def prepare_student(self, model: nn.Module, args: UnlearnConfig) -> nn.Module:
        trained = set(last_k_parameter_names(model, args.num_blocks))
        self.frozen_names = [n for n, p in model.named_parameters() if p.requires_grad and n not in trained]
        for name, param in model.named_parameters():
            if name in self.frozen_names:
                param.requires_grad_(False)
        self.reinitialise(model, sorted(trained), args.seed)
        self.anchor = trainable_snapshot(model)
        return model

    def reinitialise(self, model: nn.Module, names: list[str], seed: int) -> None:
        """CF-k keeps the weights it trains; EU-k re-initialises them first."""

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        logits = self.objective.outputs(model, inputs)
        loss = self.objective.loss(logits, inputs)
        if self.args.proximal_weight:
            unwrapped = self.accelerator.unwrap_model(model)
            loss = loss + proximal_penalty(unwrapped, self.anchor, self.args.proximal_weight)
        return (loss, {"logits": logits}) if return_outputs else loss

    def train(
        self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any
    ) -> TrainOutput:
        try:
            return super().train(resume_from_checkpoint=resume_from_checkpoint, trial=trial, **kwargs)
        finally:  # hand the model back as trainable as it came
            frozen = set(self.frozen_names)
            for name, param in self.accelerator.unwrap_model(self.model).named_parameters():
                if name in frozen:
                    param.requires_grad_(True)


register_method(
    "cf_k",
    trainer=CFkTrainer,
    config=CFkConfig,
    data_use=DataUse.RETAIN,
    citation='Goel et al., "Towards Adversarial Evaluation of Machine Unlearning", 2022 (CF-k)',
    # Without the proximal term: under Adam it holds the class-3 logit of a digits model in place (its
    # gradient on Dr is tiny), and CF-k then forgets nothing of a class in two epochs (measured).
    quick_settings=dict(learning_rate=2e-2, num_train_epochs=2, proximal_weight=0.0),
)
