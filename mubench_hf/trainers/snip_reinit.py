"""Re-initialise the convolution weights a forget-vs-retain gradient barely touches, then fine-tune on Dr
with the kept weights' gradients damped.

At θo, one gradient g = Σ_batches ∇ CE(Dr') − Σ_batches ∇ CE(Df) is summed over a seeded random subset
Dr' of Dr as large as Df and over Df (each batch's loss a mean; SNIP-style sensitivity). In every
convolution the ``reinit_fraction`` share of weights with the smallest |g| gets fresh values drawn from
Kaiming's normal (fan-out mode, ReLU gain: N(0, 2 / fan_out)); the others keep θo's. Training is then
cross-entropy on Dr, with the gradient of every kept convolution weight multiplied by ``kept_grad_scale``
(the re-initialised ones learn at full rate), so the network rebuilds the reset weights from Dr while
its other weights move little.

A top entry of the NeurIPS 2023 Machine Unlearning Challenge on Kaggle (the competition:
Triantafillou et al., "Are we making progress in unlearning?", arXiv 2406.09073, 2024), as DeepUnlearn
implements it in ``munl/unlearning/kgltop2.py`` (``re_init_model_snip_ver2_little_grad``: 30 % of each
``Conv2d``, gradient factor 0.1 through its ``MaskConv2d``; SGD at 1e-3, momentum 0.9, weight decay 5e-4,
5 epochs, a linear warm-up-and-decay schedule over epochs).

Here every ``Conv1d``/``Conv2d``/``Conv3d`` counts (a model without a convolution is only fine-tuned);
the gradient is taken in eval mode (batch-norm statistics untouched) with batches of
``per_device_train_batch_size``; the fresh values come from a generator seeded by ``args.seed``; a
convolution's bias keeps θo's values (the peer's new ``MaskConv2d`` would draw a fresh bias, but the
ResNet convolutions it targets have none). Optimizer and schedule are ``TrainingArguments``'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset
from transformers.trainer_utils import TrainOutput

from ..errors import MubenchError
from ..rows import RowDataset
from ..search_space import DEFAULT_SPACE, Range
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .conv_noise_finetune import CONVOLUTIONS
from .data import DataUse, check_datasets
from .registry import register_method


@dataclass
class SnipReinitConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the share of convolution weights re-initialised and the kept ones' factor."""

    reinit_fraction: float = field(
        default=0.3,
        metadata={"help": "Share of each convolution's weights (smallest |gradient|) re-initialised."},
    )
    kept_grad_scale: float = field(
        default=0.1, metadata={"help": "Factor on the gradient of the convolution weights that were kept."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.reinit_fraction <= 1.0 or self.kept_grad_scale < 0:
            raise MubenchError(
                f"reinit_fraction must be in [0, 1] and kept_grad_scale >= 0, got {self.reinit_fraction} "
                f"and {self.kept_grad_scale}"
            )


def retain_subset(n_retain: int, n_forget: int, seed: int) -> list[int]:
    """The seeded rows of Dr whose gradient balances Df's: a random ``min(n_forget, n_retain)`` of them."""
    order = torch.randperm(n_retain, generator=torch.Generator().manual_seed(seed))
    return order[: min(n_forget, n_retain)].tolist()


def smallest_fraction(scores: torch.Tensor, fraction: float) -> torch.Tensor:
    """True at the ``round(fraction · n)`` entries of ``scores`` with the smallest values."""
    chosen = torch.zeros(scores.numel(), dtype=torch.bool, device=scores.device)
    count = round(fraction * scores.numel())
    if count:
        chosen[torch.topk(-scores.flatten(), count).indices] = True
    return chosen.view_as(scores)


class SnipReinitTrainer(UnlearnTrainer):
    """Fresh values for the least sensitive convolution weights, then CE on Dr with the others damped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Batches come from Dr (the declared data use); the sensitivity also reads Df.
        check_datasets(self.method, DataUse.FORGET, self.forget_dataset, None)
        self.reinit_masks: dict[
            str, torch.Tensor
        ] = {}  # convolution weight name -> True where re-initialised
        self._hooks: list[torch.utils.hooks.RemovableHandle] = []

    def convolution_weights(self, model: nn.Module) -> list[tuple[str, nn.Parameter]]:
        return [
            (f"{name}.weight" if name else "weight", module.weight)
            for name, module in model.named_modules()
            if isinstance(module, CONVOLUTIONS) and module.weight.requires_grad
        ]

    def summed_gradient(
        self, model: nn.Module, rows: Dataset, sign: float, params: list[nn.Parameter]
    ) -> list[torch.Tensor]:
        """Σ over batches of ∇(sign · mean CE of the batch), for each of ``params``."""
        loader = DataLoader(
            rows,
            batch_size=self.args.per_device_train_batch_size,
            collate_fn=self._get_collator_with_removed_columns(self.data_collator, "sensitivity"),
        )
        totals = [torch.zeros_like(p) for p in params]
        for batch in loader:
            batch = self._prepare_inputs(batch)
            loss = sign * self.objective.loss(self.objective.outputs(model, batch), batch)
            for total, grad in zip(totals, torch.autograd.grad(loss, params, allow_unused=True)):
                if grad is not None:
                    total += grad
        return totals

    def before_unlearning(self) -> None:
        model = self.accelerator.unwrap_model(self.model)
        named = self.convolution_weights(model)
        if not named:
            return
        params = [p for _, p in named]
        rows = retain_subset(len(self.retain_dataset), len(self.forget_dataset), self.args.seed)
        was_training = model.training
        model.eval()
        try:
            keep = self.summed_gradient(model, Subset(RowDataset(self.retain_dataset), rows), 1.0, params)
            drop = self.summed_gradient(model, RowDataset(self.forget_dataset), -1.0, params)
        finally:
            model.train(was_training)
        generator = torch.Generator().manual_seed(self.args.seed)
        with torch.no_grad():
            for (name, weight), g_keep, g_drop in zip(named, keep, drop):
                mask = smallest_fraction((g_keep + g_drop).abs(), self.args.reinit_fraction)
                fresh = torch.empty(weight.shape, dtype=weight.dtype)
                nn.init.kaiming_normal_(fresh, mode="fan_out", nonlinearity="relu", generator=generator)
                weight[mask] = fresh.to(weight.device)[mask]
                self.reinit_masks[name] = mask

    def train(
        self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any
    ) -> TrainOutput:
        if not self._unlearning_prepared:
            self.before_unlearning()  # on θo: a checkpoint is loaded only inside Trainer.train
            self._unlearning_prepared = True
        model = self.accelerator.unwrap_model(self.model)
        scale = self.args.kept_grad_scale
        for name, param in model.named_parameters():
            if name in self.reinit_masks:
                factor = torch.where(self.reinit_masks[name], 1.0, scale).to(param.dtype)
                self._hooks.append(param.register_hook(lambda grad, factor=factor: grad * factor))
        try:
            return super().train(resume_from_checkpoint=resume_from_checkpoint, trial=trial, **kwargs)
        finally:
            for handle in self._hooks:
                handle.remove()
            self._hooks.clear()


register_method(
    "snip_reinit",
    trainer=SnipReinitTrainer,
    config=SnipReinitConfig,
    data_use=DataUse.RETAIN,
    citation="NeurIPS 2023 Machine Unlearning Challenge entry, as DeepUnlearn's kgltop2; "
    'Triantafillou et al., "Are we making progress in unlearning?", arXiv 2406.09073, 2024',
    quick_settings=dict(learning_rate=2e-2, num_train_epochs=2),
    search_space={**DEFAULT_SPACE, "reinit_fraction": Range(0.05, 0.6)},
)
