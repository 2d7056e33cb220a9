"""GRU: gradient rectified unlearning, the forget gradient with its conflict with retention removed.

Each step takes g_f, the gradient of the forget term (gradient ascent, −CE on Df, or NPO against θo), and
g_r, the gradient of the NLL on the retain batch, smoothed as ĝ_r ← γ·g_r + (1 − γ)·ĝ_r (ĝ_r = 0 before
the first step). When ⟨g_f, ĝ_r⟩ < 0 the step would raise the retain loss, so the conflicting component
is removed: g_f ← g_f − (⟨g_f, ĝ_r⟩ / ‖ĝ_r‖²)·ĝ_r; the update follows g_f only (the retain gradient steers,
it is not added). Wang, Wang, Liu, Huang, Du, Du & Han, "GRU: Mitigating the Trade-off between Unlearning
and Retention for Large Language Models", ICML 2025 (arXiv 2503.09117).

Defaults are open-unlearning's ``GRU`` trainer (``src/trainer/unlearn/gru.py``): γ = 0.8, gradient ascent
as the forget term (NPO with β = 0.1 the alternative). Here the rectification is applied to each
micro-batch (the same as there with ``gradient_accumulation_steps`` 1; there it is applied to the
accumulated gradients). The step's loss is built so that its value is the forget term and its gradient
the rectified one, so the Trainer's own backward pass, clipping and finite-loss guard apply unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import MubenchError
from .data import DataUse
from .forget_retain import ForgetRetainConfig, ForgetRetainTrainer
from .npo import npo_loss
from .registry import register_method

FORGET_TERMS = ("grad_ascent", "npo")


@dataclass
class GRUConfig(ForgetRetainConfig):
    """``ForgetRetainConfig`` (an NLL retain term, whose weight GRU does not use) plus GRU's smoothing
    factor and forget term."""

    gru_gamma: float = field(
        default=0.8,
        metadata={"help": "γ in (0, 1]: weight of the current retain gradient in its moving average."},
    )
    gru_forget_loss: str = field(
        default="grad_ascent",
        metadata={"help": "The forget term whose gradient is rectified.", "choices": list(FORGET_TERMS)},
    )
    npo_beta: float = field(
        default=0.1, metadata={"help": "β of the NPO forget term (open-unlearning: 0.1)."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.gru_gamma <= 1:
            raise MubenchError(f"gru_gamma must be in (0, 1], got {self.gru_gamma}")
        if self.gru_forget_loss not in FORGET_TERMS:
            raise MubenchError(
                f"gru_forget_loss must be one of {list(FORGET_TERMS)}, got {self.gru_forget_loss!r}"
            )
        if self.retain_loss != "ce":
            raise MubenchError(
                f"GRU's retain term is the NLL: retain_loss must be 'ce', got {self.retain_loss!r}"
            )


def rectify(
    forget_grads: list[torch.Tensor], retain_grads: list[torch.Tensor]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The coefficient c with g_f − c·ĝ_r the rectified gradient (c = ⟨g_f, ĝ_r⟩/‖ĝ_r‖² when that dot
    product is negative, else 0), and the dot product."""
    dot = sum((f.double() * r.double()).sum() for f, r in zip(forget_grads, retain_grads))
    norm = sum((r.double() ** 2).sum() for r in retain_grads)
    dot = torch.as_tensor(dot)
    coef = dot / norm if bool(dot < 0) and bool(norm > 0) else torch.zeros((), dtype=torch.float64)
    return coef, dot


class GRUTrainer(ForgetRetainTrainer):
    """Loss value = the forget term; its gradient = the forget gradient rectified against ĝ_r."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.args.gru_forget_loss == "npo" and self.original_model is None:
            self.original_model = self.frozen_original()  # NPO's reference θo
        self.retain_average: list[torch.Tensor] | None = None  # ĝ_r

    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        if self.args.gru_forget_loss == "npo":
            with torch.no_grad():
                ref = self.objective.log_likelihood(self.objective.outputs(self.original_model, batch), batch)
            return npo_loss(self.objective.log_likelihood(outputs, batch), ref, self.args.npo_beta)
        return -self.objective.loss(outputs, batch)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        forget, retain = inputs["forget"], inputs["retain"]
        params = [p for p in model.parameters() if p.requires_grad]
        forget_outputs = self.objective.outputs(model, forget)
        forget_term = self.args.forget_weight * self.forget_loss(model, forget_outputs, forget)
        if not model.training or not torch.is_grad_enabled():  # no step to rectify
            return (forget_term, {"forget_logits": forget_outputs}) if return_outputs else forget_term
        forget_grads = torch.autograd.grad(forget_term, params, retain_graph=True, allow_unused=True)
        forget_grads = [torch.zeros_like(p) if g is None else g for g, p in zip(forget_grads, params)]
        retain_term = self.retain_term(self.objective.outputs(model, retain), retain)
        retain_grads = torch.autograd.grad(retain_term, params, allow_unused=True)
        gamma = self.args.gru_gamma
        previous = self.retain_average or [torch.zeros_like(p) for p in params]
        self.retain_average = [
            gamma * (torch.zeros_like(p) if g is None else g) + (1 - gamma) * prev
            for g, p, prev in zip(retain_grads, params, previous)
        ]
        coef, dot = rectify(forget_grads, self.retain_average)
        # value: the forget term; gradient: g_f − c·ĝ_r (θ − sg(θ) is 0 but carries the identity gradient)
        correction = sum((r * (p - p.detach())).sum() for r, p in zip(self.retain_average, params))
        loss = forget_term - coef.to(forget_term.dtype) * correction
        self.log_term("forget_loss", forget_term)
        self.log_term("retain_loss", retain_term)
        self.log_term("gradient_conflict", float(dot < 0))
        return (loss, {"forget_logits": forget_outputs}) if return_outputs else loss


register_method(
    "gru",
    trainer=GRUTrainer,
    config=GRUConfig,
    data_use=DataUse.PAIRED,
    kinds=("generation",),
    citation='Wang, Wang, Liu, Huang, Du, Du & Han, "GRU: Mitigating the Trade-off between Unlearning and '
    'Retention for Large Language Models", 2025 (arXiv 2503.09117)',
    quick_settings=dict(learning_rate=1e-3, max_steps=15),
)
