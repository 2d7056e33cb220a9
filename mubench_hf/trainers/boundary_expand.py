"""Boundary expand: add a shadow class, push every forget sample into it, then remove it.

Before training, the classifier's last linear layer (K outputs) gets a (K+1)-th, freshly initialised
output, the shadow class; the model is trained with CE(θ(x), K) on Df, i.e. every forget sample is
labelled with the shadow class, which pulls the features of Df away from their true classes; after
training the shadow output is removed and the model has its K classes again. Chen, Gao, Huang & Wu,
"Boundary Unlearning: Rapid Forgetting of Deep Networks via Shifting the Decision Space", CVPR 2023
(the shadow neuron is pruned after fine-tuning there); the loss and the expansion as in
OPTML-Group/Unlearn-Saliency's ``Classification/unlearn/boundary_ex.py`` (whose evaluation keeps the
shadow output; removing it is the paper's procedure and keeps the model a K-class model for the rest of
the benchmark). The shadow output's weights are PyTorch's ``nn.Linear`` initialisation, seeded by
``args.seed``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers.trainer_utils import TrainOutput

from ..errors import MubenchError
from .base import UnlearnTrainer
from .data import DataUse
from .registry import register_method


def last_linear(model: nn.Module, out_features: int) -> tuple[str, nn.Linear]:
    """The last ``nn.Linear`` of ``model`` with ``out_features`` outputs (its classifier layer)."""
    found = [
        (n, m)
        for n, m in model.named_modules()
        if isinstance(m, nn.Linear) and m.out_features == out_features
    ]
    if not found:
        raise MubenchError(
            f"boundary_expand needs a classifier layer: an nn.Linear with {out_features} outputs "
            f"(the number of classes); {type(model).__name__} has none"
        )
    return found[-1]


def replace_module(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, module)


def resized_linear(layer: nn.Linear, out_features: int) -> nn.Linear:
    """A copy of ``layer`` with ``out_features`` outputs: the shared rows copied, new rows freshly initialised."""
    new = nn.Linear(
        layer.in_features,
        out_features,
        bias=layer.bias is not None,
        device=layer.weight.device,
        dtype=layer.weight.dtype,
    )
    rows = min(out_features, layer.out_features)
    with torch.no_grad():
        new.weight[:rows] = layer.weight[:rows]
        if layer.bias is not None:
            new.bias[:rows] = layer.bias[:rows]
    return new


class BoundaryExpandTrainer(UnlearnTrainer):
    """Loss = CE(θ(x), shadow class K) on Df, with a (K+1)-output classifier during training."""

    shadow_layer: str | None = None

    def before_unlearning(self) -> None:
        model = self.accelerator.unwrap_model(self.model)
        name, layer = last_linear(model, self.num_labels)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.args.seed)
            replace_module(model, name, resized_linear(layer, self.num_labels + 1))
        self.shadow_layer = name

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        logits = self.objective.outputs(model, inputs)
        shadow = torch.full_like(inputs["labels"], logits.shape[-1] - 1)
        loss = self.objective.loss(logits, {**inputs, "labels": shadow})
        return (loss, {"logits": logits}) if return_outputs else loss

    def remove_shadow_class(self) -> None:
        """Back to K outputs: the shadow row of the classifier is dropped."""
        if self.shadow_layer is None:
            return
        model = self.accelerator.unwrap_model(self.model)
        layer = model.get_submodule(self.shadow_layer)
        replace_module(model, self.shadow_layer, resized_linear(layer, self.num_labels))
        self.shadow_layer = None

    def train(
        self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any
    ) -> TrainOutput:
        try:
            return super().train(resume_from_checkpoint=resume_from_checkpoint, trial=trial, **kwargs)
        finally:
            self.remove_shadow_class()
            self._unlearning_prepared = False  # a second train() expands again


register_method(
    "boundary_expand",
    trainer=BoundaryExpandTrainer,
    data_use=DataUse.FORGET,
    citation='Chen, Gao, Huang & Wu, "Boundary Unlearning", CVPR 2023 (boundary expanding)',
    quick_settings=dict(learning_rate=1e-3, num_train_epochs=4),
)
