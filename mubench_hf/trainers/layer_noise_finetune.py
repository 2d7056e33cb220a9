"""Reset the head, then retrain a few random layers per epoch with noise added to them, then fine-tune
every layer on Dr.

The classifier head is re-initialised (seeded by ``args.seed``); training is cross-entropy on Dr, and
what may move changes every epoch e of the E = ``num_train_epochs``:

* e < E − ``fine_tune_epochs``: ``layers_per_epoch`` weight tensors are drawn at random (normalisation
  layers' weights always train with them); only those train this epoch. From epoch ``head_reset_epochs``
  on, int(``noise_ratio`` · ``layers_per_epoch``) of the drawn tensors also get Gaussian noise,
  W ← W + ``noise_std`` · N(0, 1), unless an earlier epoch drew them already;
* the last ``fine_tune_epochs`` epochs: every weight trains, without noise.

Retraining a random part of the network at a time, shaken by noise, leaves it to Dr alone to decide what
each part holds. A top entry of the NeurIPS 2023 Machine Unlearning Challenge on Kaggle (the
competition: Triantafillou et al., "Are we making progress in unlearning?", arXiv 2406.09073, 2024), as
DeepUnlearn implements it in ``munl/unlearning/kgltop7.py`` (9 epochs, the last 4 fine-tuning; 9 tensors
an epoch, 70 % of them noised with σ = 0.04 from the second epoch; SGD at 2e-4 with momentum 0.9 and
weight decay 5e-4, fine-tuning at 2e-4, 2e-4, 2e-4, 1e-3).

Where this differs from that file: it starts a fresh SGD optimizer every epoch, at the learning rates
above; here one optimizer and schedule (``TrainingArguments``) run through, and a tensor that does not
train in an epoch keeps its momentum for later. The peer recognises normalisation weights by "bn" in
their name; here by their module (batch, layer, group or instance norm). The draws use a NumPy
``RandomState`` and a torch generator seeded by ``args.seed``, in the peer's order. Selecting by
``requires_grad`` assumes one process (a DistributedDataParallel model expects every weight to train).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers.trainer_utils import TrainOutput

from ..errors import MubenchError
from ..search_space import DEFAULT_SPACE, Range
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import register_method
from .reset_distill import head_modules, reset_modules

NORMALISATION = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)


@dataclass
class LayerNoiseFinetuneConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the per-epoch layer draw and its noise."""

    layers_per_epoch: int = field(
        default=9, metadata={"help": "Weight tensors drawn to train in each epoch before the fine-tuning."}
    )
    noise_ratio: float = field(
        default=0.7, metadata={"help": "Share of layers_per_epoch that get noise when drawn (rounded down)."}
    )
    noise_std: float = field(
        default=0.04, metadata={"help": "σ of the Gaussian noise added to a drawn tensor."}
    )
    head_reset_epochs: int = field(
        default=1, metadata={"help": "Epochs at the start (after the head reset) that add no noise."}
    )
    fine_tune_epochs: int = field(
        default=4, metadata={"help": "Epochs at the end that train every weight, without noise."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.layers_per_epoch < 1 or min(self.head_reset_epochs, self.fine_tune_epochs) < 0:
            raise MubenchError("layers_per_epoch must be >= 1, head_reset_epochs and fine_tune_epochs >= 0")
        if not 0.0 <= self.noise_ratio <= 1.0 or self.noise_std < 0:
            raise MubenchError(
                f"noise_ratio must be in [0, 1] and noise_std >= 0, got {self.noise_ratio}, {self.noise_std}"
            )


def normalisation_names(model: nn.Module) -> set[str]:
    """Names of the weights that belong to normalisation layers."""
    return {
        f"{module_name}.{name}" if module_name else name
        for module_name, module in model.named_modules()
        if isinstance(module, NORMALISATION)
        for name, _ in module.named_parameters(recurse=False)
    }


class LayerNoiseFinetuneTrainer(UnlearnTrainer):
    """Head reset; random layers train (and get noise) per epoch; then every layer fine-tunes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = self.accelerator.unwrap_model(self.model)
        reset_modules(head_modules(model, self.method), self.args.seed)
        self.choices = np.random.RandomState(self.args.seed)
        self.noise_generator = torch.Generator().manual_seed(self.args.seed)
        # Only weights that train at all take part (LoRA's frozen base weights stay frozen).
        self.trainable = [name for name, p in model.named_parameters() if p.requires_grad]
        self.already_drawn: set[str] = set()
        self.noised: list[str] = []  # tensors noised in the current epoch
        self.current_epoch = -1

    def draw_epoch(self, epoch: int, epochs: int) -> list[str]:
        """Decide which weights train in ``epoch`` of ``epochs`` (adding the noise); returns their names."""
        model = self.accelerator.unwrap_model(self.model)
        everything = dict(model.named_parameters())
        params = {name: everything[name] for name in self.trainable}
        self.noised = []
        if epoch >= epochs - self.args.fine_tune_epochs:
            chosen = sorted(params)
        else:
            norms = normalisation_names(model)
            drawable = [name for name in params if name not in norms]
            count = min(self.args.layers_per_epoch, len(drawable))
            drawn = self.choices.choice(drawable, count, replace=False).tolist() if count else []
            chosen = sorted(set(drawn) | (norms & set(params)))
            if epoch >= self.args.head_reset_epochs:
                self.add_noise(params, [name for name in chosen if name not in norms])
        for name, param in params.items():
            param.requires_grad_(name in chosen)
        self.already_drawn |= set(chosen)
        return chosen

    def add_noise(self, params: dict[str, nn.Parameter], candidates: list[str]) -> None:
        count = min(int(self.args.noise_ratio * self.args.layers_per_epoch), len(candidates))
        picked = sorted(self.choices.choice(candidates, count, replace=False).tolist()) if count else []
        with torch.no_grad():
            for name in picked:
                param = params[name]
                noise = torch.randn(param.shape, generator=self.noise_generator, dtype=param.dtype)
                if (
                    name in self.already_drawn
                ):  # as the peer: a tensor drawn in an earlier epoch is not noised
                    continue
                param.add_(noise.to(param.device) * self.args.noise_std)
                self.noised.append(name)

    def training_step(
        self, model: nn.Module, inputs: dict[str, Any], *args: Any, **kwargs: Any
    ) -> torch.Tensor:
        epoch = math.floor((self.state.epoch or 0.0) + 1e-9)
        if epoch != self.current_epoch:
            self.draw_epoch(epoch, math.ceil(self.state.num_train_epochs))
            self.current_epoch = epoch
        return super().training_step(model, inputs, *args, **kwargs)

    def train(
        self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any
    ) -> TrainOutput:
        try:
            return super().train(resume_from_checkpoint=resume_from_checkpoint, trial=trial, **kwargs)
        finally:  # the model leaves with the weights trainable that came trainable
            params = dict(self.accelerator.unwrap_model(self.model).named_parameters())
            for name in self.trainable:
                params[name].requires_grad_(True)


register_method(
    "layer_noise_finetune",
    trainer=LayerNoiseFinetuneTrainer,
    config=LayerNoiseFinetuneConfig,
    data_use=DataUse.RETAIN,
    citation="NeurIPS 2023 Machine Unlearning Challenge entry, as DeepUnlearn's kgltop7; "
    'Triantafillou et al., "Are we making progress in unlearning?", arXiv 2406.09073, 2024',
    quick_settings=dict(learning_rate=2e-2, num_train_epochs=4, fine_tune_epochs=1, layers_per_epoch=6),
    search_space={**DEFAULT_SPACE, "noise_std": Range(0.01, 0.2, log=True)},
)
