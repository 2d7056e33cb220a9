"""Scissorhands (Wu & Harandi, "Scissorhands: Scrub Data Influence via Connection Sensitivity in Networks",
ECCV 2024), for text-to-image models.

1. **Trim**: the connection sensitivity of every weight to the forget set, SNIP's |θ ⊙ ∇_θ L(Df)| (the
   gradient of the denoising loss averaged over Df, at θo), ranks the weights; the top ``scissorhands_sparsity``
   share (one global threshold) is re-initialised: set to the values of a fresh initialisation of the same
   architecture (seeded by the run), i.e. drawn from the weights' initial distribution.
2. **Repair**: the trimmed model is trained with EraseDiff's objective (denoising loss on Dr + λ·the forget
   prediction pulled to uniform noise), which stands in for the paper's min-max with gradient projection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ..errors import MubenchError
from .data import DataUse
from .diffusion_parts import unwrap
from .erasediff import EraseDiffConfig, EraseDiffTrainer
from .registry import register_method
from .salun import SalUnTrainer, top_fraction_mask


@dataclass
class ScissorhandsConfig(EraseDiffConfig):
    """``EraseDiffConfig`` plus the share of weights Scissorhands re-initialises."""

    scissorhands_sparsity: float = field(
        default=0.1,
        metadata={"help": "Share (0, 1) of weights, the most Df-sensitive by SNIP, re-initialised."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 < self.scissorhands_sparsity < 1.0:
            raise MubenchError(f"scissorhands_sparsity must be in (0, 1), got {self.scissorhands_sparsity}")


class ScissorhandsTrainer(EraseDiffTrainer):
    """Trim the most Df-sensitive weights (before training), then repair with EraseDiff's loss."""

    # the gradient of the forget loss averaged over Df, at θo (the sign does not matter under |.|)
    forget_gradients = SalUnTrainer.forget_gradients

    def trim(self) -> dict[str, torch.Tensor]:
        """Re-initialise the top-sensitivity weights in place; returns the masks of the trimmed weights."""
        model = unwrap(self.accelerator.unwrap_model(self.model))
        params = dict(model.named_parameters())
        sensitivity = {
            name: (grad * params[name].detach()).abs() for name, grad in self.forget_gradients().items()
        }
        masks = top_fraction_mask(sensitivity, self.args.scissorhands_sparsity)
        fresh = dict(model.fresh_copy(int(self.args.seed)).named_parameters())
        with torch.no_grad():
            for name, mask in masks.items():
                keep = mask.bool()
                params[name][keep] = fresh[name].detach().to(params[name].device)[keep]
        return masks

    def before_unlearning(self) -> None:
        self.trimmed = self.trim()


register_method(
    "scissorhands",
    trainer=ScissorhandsTrainer,
    config=ScissorhandsConfig,
    data_use=DataUse.PAIRED,
    kinds=("image_generation",),
    citation='Wu & Harandi, "Scissorhands: Scrub Data Influence via Connection Sensitivity in Networks", ECCV 2024',
    quick_settings=dict(learning_rate=2e-3, num_train_epochs=3, pair_anchor="forget"),
)
