"""Fine-tuning on the retain set only.

Continues training θo with cross-entropy on Dr; forgetting of Df comes only from catastrophic
forgetting. The standard baseline of Golatkar, Achille & Soatto, "Eternal Sunshine of the Spotless
Net: Selective Forgetting in Deep Networks", CVPR 2020, and of Warnecke et al., "Machine Unlearning of
Features and Labels", NDSS 2023.
"""

from __future__ import annotations

from .base import UnlearnTrainer
from .data import DataUse
from .registry import register_method


class FinetuneTrainer(UnlearnTrainer):
    """The task loss on Dr, starting from θo (the loss is the base class's)."""


register_method(
    "finetune",
    trainer=FinetuneTrainer,
    data_use=DataUse.RETAIN,
    kinds=("classification", "generation", "image_generation"),
    citation="Golatkar, Achille & Soatto, CVPR 2020; Warnecke et al., NDSS 2023",
    quick_settings=dict(learning_rate=2e-2, num_train_epochs=2),
)
