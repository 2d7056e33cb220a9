"""Transposed kernels: swap the spatial axes of every convolution kernel, then fine-tune on Dr.

Each square convolution kernel is transposed in its two last (height, width) axes, which scrambles
the features the network learned while keeping the weights' statistics; then the whole model is
fine-tuned with cross-entropy on Dr, which recovers the retain behaviour but not, the entry bets, what
was specific to Df. A top entry of the NeurIPS 2023 Machine Unlearning Challenge on Kaggle (the
competition: Triantafillou et al., "Are we making progress in unlearning? Findings from the first
NeurIPS unlearning competition", arXiv 2406.09073, 2024), as DeepUnlearn implements it in
``munl/unlearning/kgltop5.py``, its "Kaggle top 5" (there: every ``Conv2d``, SGD at 1e-3 with momentum
0.9, weight decay 5e-4, cosine schedule, 3 epochs).

Here ``Conv2d`` and ``Conv3d`` kernels whose last two axes have equal length are transposed (a
non-square kernel would change shape and no longer fit its padding); a model without one (e.g. a
speech model's 1-D convolutions) is only fine-tuned. Optimizer and schedule are ``TrainingArguments``'.
"""

from __future__ import annotations

import torch
from torch import nn

from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import register_method


def transpose_kernels(model: nn.Module) -> int:
    """Swap the height and width axes of every square Conv2d/Conv3d kernel in place; returns how many."""
    count = 0
    with torch.no_grad():
        for module in model.modules():
            if (
                isinstance(module, (nn.Conv2d, nn.Conv3d))
                and module.weight.shape[-1] == module.weight.shape[-2]
            ):
                module.weight.copy_(module.weight.transpose(-1, -2).clone())
                count += 1
    return count


class TransposedKernelsTrainer(UnlearnTrainer):
    """Transpose the convolution kernels of θo, then the task loss on Dr."""

    def prepare_student(self, model: nn.Module, args: UnlearnConfig) -> nn.Module:
        self.transposed_kernels = transpose_kernels(model)
        return model


register_method(
    "transposed_kernels",
    trainer=TransposedKernelsTrainer,
    data_use=DataUse.RETAIN,
    citation="NeurIPS 2023 Machine Unlearning Challenge entry, as DeepUnlearn's kgltop5; "
    'Triantafillou et al., "Are we making progress in unlearning?", arXiv 2406.09073, 2024',
    quick_settings=dict(learning_rate=2e-2, num_train_epochs=2),
)
