"""SuperLoss (Castells, Weinzaepfel and Revaud, NeurIPS 2020): curriculum weighting of per-sample losses.

Each sample's loss ``l`` gets the confidence that minimises SuperLoss in closed form,

    σ*(l) = exp(−W(½ · max(−2/e, (l − τ) / λ)))

with ``W`` the principal branch of the Lambert W function and ``τ`` a threshold between easy and hard
samples: below it (easy) σ* > 1, above it (hard) σ* < 1. As in MU-Bench's curriculum unlearning
(``SuperLoss('sl', lam=10, mode='avg')``, confidences detached, the weighted per-sample losses averaged,
applied to every per-sample loss a method computes, forget and retain alike), λ = 10 and τ is the running
mean of the losses seen so far (the first batch's mean to begin with). MU-Bench divides the running loss
sum by the running sum of confidences and evaluates W through a CUDA-only lookup table; here τ is the plain
running mean (Castells et al.'s definition) and W is computed exactly by Halley's iteration in torch, on
whatever device the loss is on.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import torch

from ..objectives import TaskObjective

#: MU-Bench's λ (``SuperLoss('sl', lam=10, mode='avg')`` in mubench/trainer/base.py).
MUBENCH_LAMBDA = 10.0


def lambert_w(x: torch.Tensor, iterations: int = 12) -> torch.Tensor:
    """The principal branch W₀ of the Lambert W function for ``x ≥ −1/e`` (``w·eʷ = x``), elementwise."""
    x = x.to(torch.float64)
    # Start near the branch point from its series, elsewhere from log(1 + x); Halley's method converges
    # cubically from either.
    p = torch.sqrt(torch.clamp(2 * (math.e * x + 1), min=0))
    w = torch.where(x < -0.25, -1 + p - p**2 / 3, torch.log1p(torch.clamp(x, min=-0.25)))
    for _ in range(iterations):
        ew = torch.exp(w)
        f = w * ew - x
        denominator = ew * (w + 1) - (w + 2) * f / (2 * w + 2).clamp(min=1e-12)
        step = torch.where(denominator.abs() > 1e-300, f / denominator, torch.zeros_like(f))
        w = torch.where(w <= -1, w, w - step)
    return torch.clamp(w, min=-1.0)


def superloss_confidence(
    loss: torch.Tensor, tau: float | torch.Tensor, lam: float = MUBENCH_LAMBDA
) -> torch.Tensor:
    """σ*(l) for each loss (detached: a weight, not a path for gradients)."""
    beta = (loss.detach().to(torch.float64) - tau) / lam
    w = lambert_w(0.5 * torch.clamp(beta, min=-2 / math.e))
    return torch.exp(-w).to(loss.dtype)


class SuperLossWeighting:
    """The running threshold τ and the weighting ``σ*(l) · l`` of per-sample losses."""

    def __init__(self, lam: float = MUBENCH_LAMBDA) -> None:
        if lam <= 0:
            raise ValueError(f"SuperLoss λ must be positive, got {lam}")
        self.lam = lam
        self.total = 0.0
        self.count = 0

    @property
    def tau(self) -> float | None:
        return self.total / self.count if self.count else None

    def __call__(self, loss: torch.Tensor) -> torch.Tensor:
        if loss.numel() == 0:
            return loss
        detached = loss.detach()
        tau = self.tau if self.tau is not None else float(detached.mean())
        weighted = superloss_confidence(loss, tau, self.lam) * loss
        self.total += float(detached.sum())
        self.count += detached.numel()
        return weighted


class _SuperLossMixin:
    """Placed before a task objective's class: its per-sample losses come out weighted."""

    superloss: SuperLossWeighting

    def per_sample_loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return self.superloss(super().per_sample_loss(outputs, batch))  # type: ignore[misc]

    def loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return self.per_sample_loss(outputs, batch).mean()


def with_superloss(objective: TaskObjective, lam: float = MUBENCH_LAMBDA) -> TaskObjective:
    """A copy of ``objective`` whose ``per_sample_loss`` and ``loss`` are SuperLoss-weighted; everything
    else (outputs, KL terms, log-probabilities) is the objective's own."""
    cls = type(
        f"SuperLoss{type(objective).__name__}", (_SuperLossMixin, type(objective)), {"__module__": __name__}
    )
    weighted = cls.__new__(cls)
    weighted.__dict__.update(copy.copy(vars(objective)))  # the objective's own settings, if it has any
    weighted.superloss = SuperLossWeighting(lam)
    return weighted
