"""Detecting non-finite training (e.g. gradient ascent diverging) before it reaches the weights.

``FiniteGuard`` checks, after each micro-batch, that the loss, the float buffers (batch-norm
statistics, which a forward pass updates in place) and, before an optimizer step, the gradients
are finite; it keeps a copy of the buffers from the start of the optimizer step so they can be put
back. Parameters need no copy: a bad step is caught before the optimizer applies it.
"""

from __future__ import annotations

import torch
from torch import nn


def _max_abs(tensors: list[torch.Tensor]) -> torch.Tensor:
    # The ∞-norm is finite exactly when every entry is (a 2-norm could overflow on large finite values).
    return torch.stack(torch._foreach_norm(tensors, float("inf"))).max()


class FiniteGuard:
    """Finiteness checks and a buffer snapshot for one model (see the module docstring)."""

    def __init__(self, model: nn.Module) -> None:
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.buffers = [b for b in model.buffers() if b.is_floating_point()]
        self.saved = [b.detach().clone() for b in self.buffers]

    def snapshot(self) -> None:
        """Remember the buffers as they are now (call at the start of an optimizer step)."""
        if self.buffers:
            torch._foreach_copy_(self.saved, self.buffers)

    def restore(self) -> None:
        """Put back the buffers of the last ``snapshot``."""
        if self.buffers:
            with torch.no_grad():
                torch._foreach_copy_(self.buffers, self.saved)

    def all_finite(self, loss: torch.Tensor, check_gradients: bool) -> torch.Tensor:
        """A 0-dim bool tensor: loss, buffers and (if asked) gradients are all finite."""
        tensors = [loss.detach().reshape(-1).float()] + self.buffers
        if check_gradients:
            tensors += [p.grad for p in self.params if p.grad is not None]
        return torch.isfinite(_max_abs(tensors))
