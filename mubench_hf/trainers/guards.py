"""Detecting non-finite training (e.g. gradient ascent diverging) before it reaches the weights.

``FiniteGuard`` checks, after each micro-batch, that the loss, the float buffers (batch-norm
statistics, which a forward pass updates in place) and, before an optimizer step, the gradients
are finite; it keeps a copy of the buffers from the start of the optimizer step so they can be put
back. Parameters need no copy: a bad step is caught before the optimizer applies it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .errors import NonFiniteLossError


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


class FiniteTrainingMixin:
    """Mixed into ``UnlearnTrainer``: a non-finite loss or gradient stops training with
    ``NonFiniteLossError`` *before* the optimizer step, so the model keeps the last finite weights;
    ``save_model`` refuses non-finite weights."""

    _guard: FiniteGuard | None = None  # built at the first training step
    _guard_step = -1

    def training_step(
        self, model: nn.Module, inputs: dict[str, Any], num_items_in_batch: torch.Tensor | int | None = None
    ) -> torch.Tensor:
        if self._guard is None:
            self._guard = FiniteGuard(self.accelerator.unwrap_model(model))
        if self._guard_step != self.state.global_step:  # first micro-batch of an optimizer step
            self._guard.snapshot()
            self._guard_step = self.state.global_step
        loss = super().training_step(model, inputs, num_items_in_batch)
        self._stop_if_not_finite(loss)
        return loss

    def _stop_if_not_finite(self, loss: torch.Tensor) -> None:
        # On the last micro-batch the gradients are complete (and reduced across processes); a
        # non-finite one would poison the weights at the coming optimizer step. Under fp16 loss
        # scaling, inf gradients are expected and the scaler skips the step itself.
        check_gradients = self.accelerator.sync_gradients and self.accelerator.scaler is None
        finite = self._guard.all_finite(loss, check_gradients)
        if self.accelerator.num_processes > 1:  # every process must stop, or the others would hang
            finite = self.accelerator.gather(finite.float().reshape(1)).min() > 0
        if bool(finite):
            return
        self._guard.restore()  # undo this step's batch-norm statistics updates
        step = self.state.global_step + 1
        raise NonFiniteLossError(
            f"method {self.method!r}: non-finite loss or gradient at optimizer step {step} "
            f"(loss {loss.item():.4g}); training stopped before that step, so the model keeps the "
            f"weights of step {step - 1}. Lower learning_rate or max_steps.",
            step=step,
        )

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        weights = self.accelerator.unwrap_model(self.model).state_dict()  # buffers included
        bad = [name for name, t in weights.items() if t.is_floating_point() and not t.isfinite().all()]
        if bad:
            raise NonFiniteLossError(
                f"refusing to save non-finite weights ({len(bad)} tensors, e.g. {bad[0]!r})",
                step=self.state.global_step,
            )
        super().save_model(output_dir, _internal_call)
