"""A proximal term, (λ/2)·‖θ − θ_start‖² over the trainable weights, shared by methods that keep the
student near where it started (NegGrad+, CF-k, EU-k in DeepUnlearn's code: its ``l2_penalty``)."""

from __future__ import annotations

import torch
from torch import nn


def trainable_snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """Detached copies of the trainable weights as they are now (the anchor θ_start)."""
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def proximal_penalty(model: nn.Module, anchor: dict[str, torch.Tensor], weight: float) -> torch.Tensor:
    """(weight/2)·Σ ‖θ − θ_start‖² over the parameters in ``anchor`` that are still trainable."""
    terms = [
        (p - anchor[name].to(p.device)).pow(2).sum()
        for name, p in model.named_parameters()
        if p.requires_grad and name in anchor
    ]
    if not terms:
        return torch.zeros((), device=next(model.parameters()).device)
    return (weight / 2.0) * torch.stack(terms).sum()
