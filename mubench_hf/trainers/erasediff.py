"""EraseDiff (Wu, Le, Hao, Li, Kim & Harandi, "EraseDiff: Erasing Data Influence in Diffusion Models",
arXiv:2401.05779, 2024).

Forgetting is cast as a constrained problem: keep the denoising loss on Dr minimal while the model's
prediction on Df is driven to a noise that does not belong to the forward process, ε̂ ~ U(0, 1) (uniform,
not Gaussian), so the forget prompts' trajectories no longer lead to their images. With the first-order
approximation of the bi-level problem the update follows

    L = L_denoise(Dr) + λ·‖ε_θ(x_t^f, c_f, t) − ε̂‖²

on paired batches, λ = ``erasediff_lambda``. The uniform noise is drawn per batch from torch's generator
(seeded by the run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import MubenchError
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import register_method


@dataclass
class EraseDiffConfig(UnlearnConfig):
    """``UnlearnConfig`` plus EraseDiff's weight of the forget term."""

    erasediff_lambda: float = field(
        default=1.0, metadata={"help": "λ >= 0: weight of the forget term (prediction to uniform noise)."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.erasediff_lambda < 0:
            raise MubenchError(f"erasediff_lambda must be >= 0, got {self.erasediff_lambda}")


def uniform_target_loss(prediction: torch.Tensor) -> torch.Tensor:
    """‖ε_θ − ε̂‖² averaged, with ε̂ ~ U(0, 1) of the prediction's shape."""
    target = torch.rand(prediction.shape, device=prediction.device, dtype=torch.float32)
    return (prediction.float() - target).pow(2).mean()


class EraseDiffTrainer(UnlearnTrainer):
    """Loss = denoising loss on Dr + λ·uniform-target loss on Df."""

    def forget_term(self, model: nn.Module, forget_outputs: Any, forget: dict[str, Any]) -> torch.Tensor:
        return uniform_target_loss(forget_outputs.prediction)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        forget, retain = inputs["forget"], inputs["retain"]
        forget_out, retain_out = self.objective.pair_outputs(model, inputs)
        forget_loss = self.forget_term(model, forget_out, forget)
        retain_loss = self.objective.loss(retain_out, retain)
        self.log_term("forget_loss", forget_loss)
        self.log_term("retain_loss", retain_loss)
        loss = retain_loss + self.args.erasediff_lambda * forget_loss
        return (loss, {"prediction": forget_out.prediction}) if return_outputs else loss


register_method(
    "erasediff",
    trainer=EraseDiffTrainer,
    config=EraseDiffConfig,
    data_use=DataUse.PAIRED,
    kinds=("image_generation",),
    citation='Wu et al., "EraseDiff: Erasing Data Influence in Diffusion Models", arXiv:2401.05779, 2024',
    quick_settings=dict(learning_rate=2e-3, num_train_epochs=3, pair_anchor="forget"),
)
