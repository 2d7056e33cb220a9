"""ℓ1-sparse unlearning: fine-tune on Dr with a decaying ℓ1 penalty that sparsifies the weights.

Loss at optimizer step t of T: CE(θ; Dr) + γ_t·‖θ‖₁ with γ_t = γ·(1 − t/T), decaying linearly to 0
(the penalty drives weights to zero early and then lets fine-tuning recover accuracy). ‖θ‖₁ sums
over the trainable weights. Jia, Liu, Ram, Yao, Liu, Liu, Sharma & Liu, "Model Sparsity Can Simplify
Machine Unlearning", NeurIPS 2023 ("ℓ1-sparse MU"; γ = 5e-4 is the order of their released scripts;
the right value depends on the model size, since ‖θ‖₁ grows with it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..search_space import DEFAULT_SPACE, Range
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import register_method


@dataclass
class L1SparseConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the initial ℓ1 weight."""

    l1_weight: float = field(
        default=5e-4, metadata={"help": "γ: ℓ1 weight at step 0, decaying linearly to 0."}
    )


class L1SparseTrainer(UnlearnTrainer):
    """Loss = CE(Dr) + γ·(1 − t/T)·‖θ‖₁."""

    def l1_weight_now(self) -> float:
        """γ_t for the current optimizer step."""
        total = max(self.state.max_steps, 1)
        return self.args.l1_weight * max(0.0, 1.0 - self.state.global_step / total)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        logits = self.objective.outputs(model, inputs)
        loss = self.objective.loss(logits, inputs)
        weight = self.l1_weight_now()
        if weight > 0:
            params = [p for p in model.parameters() if p.requires_grad]
            loss = loss + weight * torch.stack(torch._foreach_norm(params, 1)).sum()
        return (loss, {"logits": logits}) if return_outputs else loss


register_method(
    "l1_sparse",
    trainer=L1SparseTrainer,
    config=L1SparseConfig,
    data_use=DataUse.RETAIN,
    citation='Jia et al., "Model Sparsity Can Simplify Machine Unlearning", NeurIPS 2023',
    quick_settings=dict(learning_rate=1e-2, num_train_epochs=2, l1_weight=5e-3),
    search_space={**DEFAULT_SPACE, "l1_weight": Range(0.1, 10.0, log=True, relative=True)},
)
