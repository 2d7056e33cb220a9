"""EU-k (exact unlearning of the last k layers): re-initialise the last k blocks and the head, then
train only them on Dr.

As CF-k (``cf_k.py``: frozen backbone below, CE(Dr) + (λ/2)·‖θ − θ_start‖²) but the trained weights
first get a fresh, seeded initialisation, so nothing of Df is left in them; θ_start is that
initialisation. Goel, Prabhu, Sanyal, Lim, Torr & Kumaraguru, "Towards Adversarial Evaluation of Machine
Unlearning", 2022; defaults from DeepUnlearn's ``munl/unlearning/exact_unlearning_k.py`` (k = 1, λ = 0.1).
The re-initialisation is each module's own ``reset_parameters`` (PyTorch's default scheme; batch-norm
statistics are reset too), or the model's ``_init_weights`` for a module without one; DeepUnlearn uses
Kaiming (convolutions) and Xavier (linear) initialisations instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import MubenchError
from .blocks import modules_owning
from .cf_k import CFkTrainer, LastKConfig
from .data import DataUse
from .registry import register_method


@dataclass
class EUkConfig(LastKConfig):
    """EU-k's config (``LastKConfig``)."""


class EUkTrainer(CFkTrainer):
    """CF-k on freshly initialised last-k blocks and head."""

    def reinitialise(self, model: nn.Module, names: list[str], seed: int) -> None:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)
            for module in modules_owning(model, names):
                if callable(getattr(module, "reset_parameters", None)):
                    module.reset_parameters()
                elif callable(getattr(model, "_init_weights", None)):
                    model._init_weights(module)
                else:
                    raise MubenchError(
                        f"eu_k cannot re-initialise a {type(module).__name__}: it has no reset_parameters() "
                        "and the model no _init_weights()"
                    )


register_method(
    "eu_k",
    trainer=EUkTrainer,
    config=EUkConfig,
    data_use=DataUse.RETAIN,
    citation='Goel et al., "Towards Adversarial Evaluation of Machine Unlearning", 2022 (EU-k)',
    quick_settings=dict(learning_rate=1e-2, num_train_epochs=3),
)
