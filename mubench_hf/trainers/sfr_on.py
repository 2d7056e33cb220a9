"""SFR-on: saliency-masked, adaptively weighted gradient ascent on Df, interleaved with descent on Dr.

At θo, the diagonal Fisher of each set is estimated as the mean over its batches of the squared gradient
of the batch's mean cross-entropy (eval mode): F_f on Df, F_r on Dr. The saliency mask keeps the weights
that matter more to Df than to Dr, m = [(F_f + ε) / (F_r + ε) ≥ γ] (ε = 1e-15). Training reads paired
batches and repeats a cycle of ``forget_every`` + 1 optimizer steps:

* one forget step on the forget half: −α_t · Σ_i c_i·ℓ_i / Σ_i c_i with ℓ_i the per-row cross-entropy and
  c_i = 1 / (ℓ_i^λ + ε) (no gradient through c: rows the model still fits get the most weight), its
  gradient multiplied by m; α_t = α·(1 + cos(π t / T)) / 2 over the run's T steps;
* ``forget_every`` retain steps on the retain half: plain cross-entropy, all weights.

Huang, Cheng, Zheng, Wang, He, Li & Huang, "Unified Gradient-Based Machine Unlearning with Remain Geometry
Enhancement", NeurIPS 2024 ("Saliency Forgetting in the Remain-preserving manifold online"); as the
authors' code implements it for classification (K1nght/Unified-Unlearning-w-Remain-Geometry,
``Classification/unlearn/sfron.py``; its CIFAR-10 setting: α = 25, a forget step every 5 iterations,
λ = 0.5, γ = 1, SGD at 0.01 with momentum 0.9, weight decay 5e-4 and a cosine schedule, 1500 iterations).

Where this differs from that code: an iteration there is a forget step (every fifth) followed by a retain
step, each its own optimizer step; here every step is one of the two, in the same order, so the run's
length counts both. α_t follows the cosine over Trainer steps rather than over iterations. Gradient
clipping is ``max_grad_norm``'s, on every step (the authors clip forget steps at 7, retain steps not at
all). Their weight averaging is off in that setting (β = 1 keeps the current weights) and is left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader
from transformers.trainer_utils import TrainOutput

from ..errors import MubenchError
from ..rows import RowDataset
from ..search_space import DEFAULT_SPACE, Range
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import register_method

EPS = 1e-15


@dataclass
class SFROnConfig(UnlearnConfig):
    """``UnlearnConfig`` plus SFR-on's forget weight, cadence, adaptive exponent and saliency threshold."""

    forget_alpha: float = field(default=25.0, metadata={"help": "α: weight of the forget loss at the start."})
    forget_every: int = field(default=5, metadata={"help": "Retain steps after each forget step."})
    adaptive_lambda: float = field(
        default=0.5, metadata={"help": "λ: a forget row's weight is 1 / (its cross-entropy ** λ)."}
    )
    saliency_threshold: float = field(
        default=1.0, metadata={"help": "γ: a weight is updated on forget steps if F_f / F_r >= γ."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if (
            self.forget_every < 1
            or self.forget_alpha < 0
            or self.adaptive_lambda < 0
            or self.saliency_threshold < 0
        ):
            raise MubenchError(
                "forget_every must be >= 1 and forget_alpha, adaptive_lambda, saliency_threshold >= 0, got "
                f"{self.forget_every}, {self.forget_alpha}, {self.adaptive_lambda}, {self.saliency_threshold}"
            )


def adaptive_loss(per_row: torch.Tensor, exponent: float) -> torch.Tensor:
    """Σ c_i·ℓ_i / Σ c_i with c_i = 1 / (ℓ_i^λ + ε), the weights held fixed."""
    coefficients = 1.0 / (per_row.detach().pow(exponent) + EPS)
    return (coefficients * per_row).sum() / coefficients.sum()


class SFROnTrainer(UnlearnTrainer):
    """Masked adaptive ascent on Df every ``forget_every`` + 1 steps, descent on Dr in between."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.saliency_mask: dict[str, torch.Tensor] = {}
        self._hooks: list[torch.utils.hooks.RemovableHandle] = []

    def is_forget_step(self, step: int) -> bool:
        return step % (self.args.forget_every + 1) == 0

    def forget_weight(self, step: int) -> float:
        total = max(self.state.max_steps, 1)
        return self.args.forget_alpha * (1 + math.cos(math.pi * step / total)) / 2

    def fisher(
        self, model: nn.Module, dataset: Any, named: list[tuple[str, nn.Parameter]]
    ) -> list[torch.Tensor]:
        """Mean over batches of the squared gradient of the batch's mean task loss."""
        loader = DataLoader(
            RowDataset(dataset),
            batch_size=self.args.per_device_train_batch_size,
            collate_fn=self._get_collator_with_removed_columns(self.data_collator, "fisher"),
        )
        totals = [torch.zeros_like(p) for _, p in named]
        for batch in loader:
            batch = self._prepare_inputs(batch)
            loss = self.objective.loss(self.objective.outputs(model, batch), batch)
            for total, grad in zip(
                totals, torch.autograd.grad(loss, [p for _, p in named], allow_unused=True)
            ):
                if grad is not None:
                    total += grad.pow(2) / len(loader)
        return totals

    def before_unlearning(self) -> None:
        model = self.accelerator.unwrap_model(self.model)
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        was_training = model.training
        model.eval()
        try:
            forget = self.fisher(model, self.forget_dataset, named)
            retain = self.fisher(model, self.retain_dataset, named)
        finally:
            model.train(was_training)
        for (name, _), f_f, f_r in zip(named, forget, retain):
            self.saliency_mask[name] = ((f_f + EPS) / (f_r + EPS) >= self.args.saliency_threshold).float()

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        step = self.state.global_step
        if self.is_forget_step(step):
            batch = inputs["forget"]
            logits = self.objective.outputs(model, batch)
            ascent = adaptive_loss(self.objective.per_sample_loss(logits, batch), self.args.adaptive_lambda)
            loss = -self.forget_weight(step) * ascent
            self.log_term("forget_loss", ascent)
        else:
            batch = inputs["retain"]
            logits = self.objective.outputs(model, batch)
            loss = self.objective.loss(logits, batch)
            self.log_term("retain_loss", loss)
        return (loss, {"logits": logits}) if return_outputs else loss

    def train(
        self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any
    ) -> TrainOutput:
        if not self._unlearning_prepared:
            self.before_unlearning()  # on θo: a checkpoint is loaded only inside Trainer.train
            self._unlearning_prepared = True
        model = self.accelerator.unwrap_model(self.model)
        for name, param in model.named_parameters():
            if name in self.saliency_mask:
                mask = self.saliency_mask[name]
                self._hooks.append(param.register_hook(lambda grad, mask=mask: self.masked(grad, mask)))
        try:
            return super().train(resume_from_checkpoint=resume_from_checkpoint, trial=trial, **kwargs)
        finally:
            for handle in self._hooks:
                handle.remove()
            self._hooks.clear()

    def masked(self, grad: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The gradient, multiplied by the saliency mask on forget steps only."""
        return grad * mask.to(grad.device) if self.is_forget_step(self.state.global_step) else grad


register_method(
    "sfr_on",
    trainer=SFROnTrainer,
    config=SFROnConfig,
    data_use=DataUse.PAIRED,
    citation='Huang et al., "Unified Gradient-Based Machine Unlearning with Remain Geometry Enhancement", '
    "NeurIPS 2024 (SFR-on)",
    quick_settings=dict(learning_rate=1e-2, max_steps=60, forget_alpha=5.0, forget_every=2),
    search_space={**DEFAULT_SPACE, "forget_alpha": Range(0.1, 10.0, log=True, relative=True)},
)
