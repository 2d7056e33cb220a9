"""Prune, re-initialise, retrain matching θo's entropy, and round to half precision.

1. Global magnitude pruning: of all weights and biases of the model's convolutions and linear layers
   together, the ``prune_amount`` share with the smallest |value| becomes 0;
2. every pruned (zero) weight of those layers is re-drawn uniformly from ±√(1/fan_in) (PyTorch's default
   range for them); pruned biases stay 0;
3. training on Dr: class-weighted cross-entropy (w_c = n_c^−0.1 for the n_c rows of class c in Dr, as a
   weighted mean Σ w_y·CE / Σ w_y) plus the mean squared difference between the entropy of the model's
   output distribution and θo's on the same row, MSE(H(θ(x)), H(θo(x)));
4. after training every floating-point weight is rounded to half precision and back.

Most of what the network held is erased by the pruning; Dr's labels and θo's per-row confidence (its
entropy, not its prediction) rebuild a model that is as sure of itself on retained data as θo was. A top
entry of the NeurIPS 2023 Machine Unlearning Challenge on Kaggle ("PRMQ: prune, retrain, mask, quantize";
the competition: Triantafillou et al., "Are we making progress in unlearning?", arXiv 2406.09073, 2024),
as DeepUnlearn implements it in ``munl/unlearning/kgltop4.py`` (99 % pruned, SGD at 5e-4 with momentum
0.9 and weight decay 5e-4, 3.2 epochs, batches of 64).

Here ``Conv1d``/``Conv2d``/``Conv3d`` and ``Linear`` layers count (the peer: ``Conv2d`` and ``Linear``);
fan_in is the weight's per-output size (in-channels per group × kernel); the draws come from a generator
seeded by ``args.seed``; a class absent from Dr gets weight 0 (the peer indexes its weights by position
among the present classes, which shifts them when a class is missing). Optimizer and schedule are
``TrainingArguments``'.
"""

from __future__ import annotations

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
from .conv_noise_finetune import CONVOLUTIONS
from .data import DataUse, read_labels
from .registry import Needs, register_method

PRUNED_LAYERS = (*CONVOLUTIONS, nn.Linear)


@dataclass
class PruneReinitEntropyConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the pruned share, the class-weight exponent and the final rounding."""

    prune_amount: float = field(
        default=0.99,
        metadata={
            "help": "Share of all convolution and linear weights and biases zeroed, smallest |value| first."
        },
    )
    class_weight_exponent: float = field(
        default=-0.1, metadata={"help": "Class c's cross-entropy weight is (its rows in Dr) ** this."}
    )
    round_to_half: bool = field(
        default=True, metadata={"help": "Round every floating-point weight to half precision after training."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.prune_amount < 1.0:
            raise MubenchError(f"prune_amount must be in [0, 1), got {self.prune_amount}")


def prune_and_reinit(model: nn.Module, amount: float, seed: int) -> int:
    """Zero the ``amount`` share of smallest-magnitude weights and biases of the pruned layers (one global
    threshold), then re-draw the zero weights from U(±√(1/fan_in)); returns how many entries were pruned."""
    layers = [m for m in model.modules() if isinstance(m, PRUNED_LAYERS)]
    tensors = [t for m in layers for t in (m.weight, m.bias) if t is not None]
    if not tensors:
        return 0
    flat = torch.cat([t.detach().abs().flatten() for t in tensors])
    count = round(amount * flat.numel())
    pruned = torch.zeros_like(flat, dtype=torch.bool)
    if count:
        pruned[torch.topk(flat, count, largest=False).indices] = True
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        start = 0
        for tensor in tensors:
            tensor[pruned[start : start + tensor.numel()].view_as(tensor)] = 0.0
            start += tensor.numel()
        for layer in layers:
            bound = (1.0 / layer.weight[0].numel()) ** 0.5
            draw = (torch.rand(layer.weight.shape, generator=generator) - 0.5) * 2 * bound
            zero = layer.weight == 0
            layer.weight[zero] = draw.to(layer.weight)[zero]
    return count


def count_weights(labels: np.ndarray, num_labels: int, exponent: float) -> torch.Tensor:
    """w_c = n_c ** exponent for the classes present in ``labels``; 0 for an absent class."""
    counts = np.bincount(labels, minlength=num_labels).astype(np.float64)
    weights = np.zeros(num_labels)
    weights[counts > 0] = counts[counts > 0] ** exponent
    return torch.tensor(weights, dtype=torch.float32)


class PruneReinitEntropyTrainer(UnlearnTrainer):
    """Prune and re-draw, then weighted CE + entropy matching to θo on Dr, then half-precision rounding."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only now: the base has copied θo (the entropy target) from the weights as given.
        model = self.accelerator.unwrap_model(self.model)
        self.pruned_entries = prune_and_reinit(model, self.args.prune_amount, self.args.seed)

    def class_weights(self, device: torch.device) -> torch.Tensor:
        if not hasattr(self, "_class_weights"):
            labels = read_labels(self.retain_dataset, "the retain set")
            self._class_weights = count_weights(labels, self.num_labels, self.args.class_weight_exponent)
        return self._class_weights.to(device)

    def entropy(self, logits: torch.Tensor, inputs: dict[str, Any]) -> torch.Tensor:
        log_probs, _ = self.objective.output_log_probs(logits, inputs)
        return -(log_probs.exp() * log_probs).sum(-1)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        logits = self.objective.outputs(model, inputs)
        with torch.no_grad():
            target_entropy = self.entropy(self.objective.outputs(self.original_model, inputs), inputs)
        weights = self.class_weights(logits.device)[inputs["labels"]]
        ce = (weights * self.objective.per_sample_loss(logits, inputs)).sum() / weights.sum()
        entropy_gap = (self.entropy(logits, inputs) - target_entropy).pow(2).mean()
        self.log_term("entropy_gap", entropy_gap)
        loss = ce + entropy_gap
        return (loss, {"logits": logits}) if return_outputs else loss

    def train(
        self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any
    ) -> TrainOutput:
        output = super().train(resume_from_checkpoint=resume_from_checkpoint, trial=trial, **kwargs)
        if self.args.round_to_half:
            round_to_half(self.accelerator.unwrap_model(self.model))
        return output


def round_to_half(model: nn.Module) -> None:
    """Every float32 weight and buffer rounded to float16 and back (the entry's "quantize" step)."""
    with torch.no_grad():
        for tensor in [*model.parameters(), *model.buffers()]:
            if tensor.dtype == torch.float32:
                tensor.copy_(tensor.half().float())


register_method(
    "prune_reinit_entropy",
    trainer=PruneReinitEntropyTrainer,
    config=PruneReinitEntropyConfig,
    data_use=DataUse.RETAIN,
    needs=(Needs.ORIGINAL,),
    citation='NeurIPS 2023 Machine Unlearning Challenge entry ("PRMQ"), as DeepUnlearn\'s kgltop4; '
    'Triantafillou et al., "Are we making progress in unlearning?", arXiv 2406.09073, 2024',
    quick_settings=dict(learning_rate=2e-2, num_train_epochs=3, prune_amount=0.9),
    search_space={**DEFAULT_SPACE, "prune_amount": Range(0.5, 0.995)},
)
