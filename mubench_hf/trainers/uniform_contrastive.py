"""Uniform outputs on Df, then a contrastive push of Df away from Dr's outputs, with cross-entropy on Dr.

Training reads paired batches (a forget half f and a retain half r) in two phases, counted in
optimizer steps:

1. the first ``uniform_epochs`` passes over Df: KL(u ‖ softmax(θ(x_f))), u the uniform distribution
   over the classes, so the model stops preferring any class on the forget rows;
2. every later step: w · L_con + CE(θ(x_r), y_r), where the contrastive term treats the output vectors
   as embeddings, s_ij = θ(x_f,i) · θ(x_r,j) / T with the retain side held fixed (no gradient), and
   L_con = −mean_{i,j} log softmax_j(s_ij): each forget row is pulled to be equally similar to every
   retain row, i.e. to no retained class in particular.

A top entry of the NeurIPS 2023 Machine Unlearning Challenge on Kaggle (the competition:
Triantafillou et al., "Are we making progress in unlearning?", arXiv 2406.09073, 2024), as DeepUnlearn
implements it in ``munl/unlearning/kgltop1.py`` (T = 1.15; the uniform pass with SGD at 5e-3; then 8
epochs of a "forget round", the contrastive loss at 3e-4 with a cosine schedule, followed by a "retain
round", a full pass of CE on Dr at 1e-3 · batch/64 with weight decay 1e-2; batches of 256).

Where this differs from that file: the peer alternates the two rounds with three optimizers; here each
paired batch carries both terms under one optimizer and schedule (``TrainingArguments``), and w (default
0.075 = 3e-4 / (1e-3 · 256 / 64)) keeps the peer's ratio of the two rounds' step sizes. Both halves go
through one forward pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import MubenchError
from ..search_space import DEFAULT_SPACE, Range
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import register_method


@dataclass
class UniformContrastiveConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the uniform phase's length, the temperature and the contrastive weight."""

    uniform_epochs: float = field(
        default=1.0, metadata={"help": "Passes over Df at the start that pull its outputs to uniform."}
    )
    contrast_temperature: float = field(
        default=1.15, metadata={"help": "T dividing the forget-retain output similarities."}
    )
    contrast_weight: float = field(
        default=0.075, metadata={"help": "w: weight of the contrastive term beside CE on Dr."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.uniform_epochs < 0 or self.contrast_temperature <= 0 or self.contrast_weight < 0:
            raise MubenchError(
                "uniform_epochs and contrast_weight must be >= 0 and contrast_temperature > 0, got "
                f"{self.uniform_epochs}, {self.contrast_weight} and {self.contrast_temperature}"
            )


def contrastive_loss(
    forget_logits: torch.Tensor, retain_logits: torch.Tensor, temperature: float
) -> torch.Tensor:
    """−mean_{i,j} log softmax_j(f_i · r_j / T), the retain side fixed."""
    similarities = forget_logits @ retain_logits.detach().T / temperature
    return -F.log_softmax(similarities, dim=-1).mean()


class UniformContrastiveTrainer(UnlearnTrainer):
    """KL to uniform on Df, then w · contrastive(Df, Dr) + CE(Dr) on paired batches."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        step_rows = self.args.per_device_train_batch_size * self.args.gradient_accumulation_steps
        step_rows *= self.args.world_size
        self.uniform_steps = math.ceil(self.args.uniform_epochs * len(self.forget_dataset) / step_rows)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        objective, forget, retain = self.objective, inputs["forget"], inputs["retain"]
        if self.state.global_step < self.uniform_steps:
            forget_logits = objective.outputs(model, forget)
            uniform = torch.full_like(forget_logits, 1.0 / forget_logits.shape[-1])
            loss = objective.kl_to_distribution(forget_logits, uniform, forget)
            self.log_term("uniform_kl", loss)
            outputs = {"forget_logits": forget_logits}
        else:
            forget_logits, retain_logits = objective.pair_outputs(model, inputs)
            contrast = contrastive_loss(forget_logits, retain_logits, self.args.contrast_temperature)
            retain_ce = objective.loss(retain_logits, retain)
            loss = self.args.contrast_weight * contrast + retain_ce
            self.log_term("contrastive_loss", contrast)
            self.log_term("retain_loss", retain_ce)
            outputs = {"forget_logits": forget_logits, "retain_logits": retain_logits}
        return (loss, outputs) if return_outputs else loss


register_method(
    "uniform_contrastive",
    trainer=UniformContrastiveTrainer,
    config=UniformContrastiveConfig,
    data_use=DataUse.PAIRED,
    citation="NeurIPS 2023 Machine Unlearning Challenge entry, as DeepUnlearn's kgltop1; "
    'Triantafillou et al., "Are we making progress in unlearning?", arXiv 2406.09073, 2024',
    quick_settings=dict(learning_rate=2e-2, num_train_epochs=2, contrast_weight=0.5),
    search_space={**DEFAULT_SPACE, "contrast_weight": Range(0.1, 10.0, log=True, relative=True)},
)
