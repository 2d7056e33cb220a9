"""Boundary shrink: relabel each forget sample as the class its nearest decision boundary leads to.

For a forget batch, an FGSM step on the frozen original model θo finds a nearby input across a decision
boundary: x' = x + ε·sign(∇x CE(θo(x), y)); its label y' = argmax θo(x') is the "nearest other class".
The student then minimises CE(θ(x), y') on Df: the forget samples move across the boundary into their
neighbouring classes. Chen, Gao, Huang & Wu, "Boundary Unlearning: Rapid Forgetting of Deep Networks
via Shifting the Decision Space", CVPR 2023; as in OPTML-Group/Unlearn-Saliency's
``Classification/unlearn/boundary_sh.py`` (ε = 0.1, hard-coded there).

The step is taken on every floating-point input of the batch (pixel values, waveforms, video frames),
in the model's own input units: the peer clamps to [0, 1] and rounds to 1/255 because its images
are unnormalised; a processor's normalised inputs have no such range, so neither is done here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import MubenchError
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import LABEL_KEYS, DataUse
from .registry import Needs, register_method


@dataclass
class BoundaryShrinkConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the FGSM step size."""

    fgsm_bound: float = field(
        default=0.1, metadata={"help": "ε > 0: size of the FGSM step that finds the neighbouring class."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.fgsm_bound <= 0:
            raise MubenchError(f"fgsm_bound must be > 0, got {self.fgsm_bound}")


def continuous_inputs(batch: dict[str, Any]) -> list[str]:
    """The keys of the batch's floating-point input tensors (what an FGSM step can move)."""
    return [
        key
        for key, value in batch.items()
        if key not in LABEL_KEYS and isinstance(value, torch.Tensor) and value.is_floating_point()
    ]


class BoundaryShrinkTrainer(UnlearnTrainer):
    """Loss = CE(θ(x), argmax θo(x + ε·sign ∇x CE(θo(x), y))) on Df."""

    @torch.no_grad()
    def neighbour_labels(self, batch: dict[str, Any]) -> torch.Tensor:
        """y' = argmax θo(x'), x' one FGSM step of size ε from x against θo."""
        keys = continuous_inputs(batch)
        if not keys:
            raise MubenchError(
                "boundary_shrink takes an FGSM step on the inputs and needs a floating-point input "
                f"(pixel values, waveforms); this batch has only {sorted(batch)}"
            )
        with torch.enable_grad():
            moved = {**batch, **{k: batch[k].detach().clone().requires_grad_(True) for k in keys}}
            loss = self.objective.loss(self.objective.outputs(self.original_model, moved), moved)
            grads = torch.autograd.grad(loss, [moved[k] for k in keys])
        shifted = {**batch, **{k: batch[k] + self.args.fgsm_bound * g.sign() for k, g in zip(keys, grads)}}
        return self.objective.outputs(self.original_model, shifted).argmax(dim=-1)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        targets = self.neighbour_labels(inputs)
        logits = self.objective.outputs(model, inputs)
        loss = self.objective.loss(logits, {**inputs, "labels": targets})
        return (loss, {"logits": logits}) if return_outputs else loss


register_method(
    "boundary_shrink",
    trainer=BoundaryShrinkTrainer,
    config=BoundaryShrinkConfig,
    data_use=DataUse.FORGET,
    needs=(Needs.ORIGINAL,),
    citation='Chen, Gao, Huang & Wu, "Boundary Unlearning", CVPR 2023 (boundary shrink)',
    quick_settings=dict(learning_rate=1e-3, num_train_epochs=4),
)
