"""Stem noise and class-balanced fine-tuning: perturb the first convolution, fine-tune on Dr with a
class-balanced loss, perturb it slightly again before the last epoch.

1. The model's first convolution (its stem) gets Gaussian noise: W ← W + N(0, σ_start²) per weight;
2. the model is fine-tuned on Dr with the cross-entropy scaled by the batch's mean class weight,
   loss = CE_batch · mean_{rows} w_{y}, with "balanced" weights w_c = n / (C · n_c) over Dr's labels
   (n rows, C classes present, n_c rows of class c);
3. before the last epoch the stem gets noise again, N(0, σ_final²), "to make the model more robust".

A top entry of the NeurIPS 2023 Machine Unlearning Challenge on Kaggle (the competition: Triantafillou
et al., "Are we making progress in unlearning?", arXiv 2406.09073, 2024), as DeepUnlearn implements it
in ``munl/unlearning/kgltop3.py`` (σ_start = 0.6, σ_final = 0.005; SGD at 7e-4, momentum 0.9, weight
decay 5e-4, cosine schedule, 4 epochs). The loss is that file's as written (its ``CustomCrossEntropyLoss``
multiplies the batch-mean CE by the per-row weights and averages, so the weights scale the batch's loss
rather than each row's); its weights are indexed by label position among the classes present, which
shifts them when a class is missing from Dr (class-wise forgetting), so here each class gets its own.
The stem is the first ``Conv1d``/``Conv2d``/``Conv3d`` of the model (DeepUnlearn: a ResNet's ``conv1``);
the noise is seeded by ``args.seed``; a model without a convolution is only fine-tuned (as the peer's
confuser, which looks for children named "conv", leaves such a model alone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import MubenchError
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse, read_labels
from .registry import register_method

CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


@dataclass
class ConvNoiseFinetuneConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the two noise levels of the stem."""

    start_noise_std: float = field(default=0.6, metadata={"help": "σ of the noise added to the stem first."})
    final_noise_std: float = field(
        default=0.005, metadata={"help": "σ of the noise added to the stem before the last epoch."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.start_noise_std < 0 or self.final_noise_std < 0:
            raise MubenchError("start_noise_std and final_noise_std must be >= 0")


def stem_of(model: nn.Module) -> nn.Module | None:
    """The first convolution of ``model`` (None without one)."""
    for module in model.modules():
        if isinstance(module, CONVOLUTIONS):
            return module
    return None


def balanced_class_weights(labels: np.ndarray, num_labels: int) -> torch.Tensor:
    """w_c = n / (C · n_c) for the C classes present; 0 for a class absent from ``labels``."""
    counts = np.bincount(labels, minlength=num_labels).astype(np.float64)
    present = counts > 0
    weights = np.zeros(num_labels)
    weights[present] = len(labels) / (present.sum() * counts[present])
    return torch.tensor(weights, dtype=torch.float32)


class ConvNoiseFinetuneTrainer(UnlearnTrainer):
    """Noise on the stem, then CE(Dr) · mean class weight, with a little noise again before the last epoch."""

    def prepare_student(self, model: nn.Module, args: UnlearnConfig) -> nn.Module:
        self.add_stem_noise(model, args.start_noise_std, args.seed)
        self.final_noise_done = False
        return model

    @staticmethod
    def add_stem_noise(model: nn.Module, std: float, seed: int) -> None:
        stem = stem_of(model)
        if stem is None:  # as the peer's confuser, which finds no "conv" child: nothing to perturb
            return
        weight = stem.weight
        generator = torch.Generator().manual_seed(seed)
        noise = torch.randn(weight.shape, generator=generator, dtype=weight.dtype) * std
        with torch.no_grad():
            weight.add_(noise.to(weight.device))

    def class_weights(self, device: torch.device) -> torch.Tensor:
        if not hasattr(self, "_class_weights"):
            labels = read_labels(self.retain_dataset, "the retain set")
            self._class_weights = balanced_class_weights(labels, self.num_labels)
        return self._class_weights.to(device)

    def maybe_add_final_noise(self, model: nn.Module) -> bool:
        """Adds the final noise once, at the first step of the last epoch (the peer: after epoch
        num_epochs − 2); returns whether it did now."""
        epochs = self.state.num_train_epochs
        if self.final_noise_done or epochs <= 1 or (self.state.epoch or 0.0) < epochs - 1 - 1e-9:
            return False
        self.add_stem_noise(
            self.accelerator.unwrap_model(model), self.args.final_noise_std, self.args.seed + 1
        )
        self.final_noise_done = True
        return True

    def training_step(
        self, model: nn.Module, inputs: dict[str, Any], *args: Any, **kwargs: Any
    ) -> torch.Tensor:
        self.maybe_add_final_noise(model)
        return super().training_step(model, inputs, *args, **kwargs)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        logits = self.objective.outputs(model, inputs)
        weight = self.class_weights(logits.device)[inputs["labels"]].mean()
        loss = self.objective.loss(logits, inputs) * weight
        return (loss, {"logits": logits}) if return_outputs else loss


register_method(
    "conv_noise_finetune",
    trainer=ConvNoiseFinetuneTrainer,
    config=ConvNoiseFinetuneConfig,
    data_use=DataUse.RETAIN,
    citation="NeurIPS 2023 Machine Unlearning Challenge entry, as DeepUnlearn's kgltop3; "
    'Triantafillou et al., "Are we making progress in unlearning?", arXiv 2406.09073, 2024',
    quick_settings=dict(learning_rate=2e-2, num_train_epochs=2),
)
