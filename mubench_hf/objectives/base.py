"""The interface every task objective implements (see the package docstring)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..forward import logits_of, pair_logits


class TaskObjective(ABC):
    """Per-sample quantities of a task, computed from a model's outputs on a batch.

    ``outputs`` are whatever ``outputs(model, batch)`` returns (class logits ``[B, K]`` for
    classification, token logits ``[B, T, V]`` for generation); every other method takes them with
    the batch they came from, so one forward pass serves several terms.
    """

    #: the task kind this objective serves ("classification", "generation")
    kind: str = ""

    # ------------------------------------------------------------------ running the model
    def outputs(self, model: nn.Module, batch: Mapping[str, Any]) -> torch.Tensor:
        """The model's raw outputs (logits) on ``batch``."""
        return logits_of(model, batch)

    def pair_outputs(
        self, model: nn.Module, paired: Mapping[str, Mapping[str, Any]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Outputs on the forget and the retain half of a paired batch, from one forward pass."""
        return pair_logits(model, paired)

    # ------------------------------------------------------------------ per-sample quantities
    @abstractmethod
    def log_likelihood(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        """log p(target | input) of each sample, shape ``[B]`` (a sum over target tokens)."""

    @abstractmethod
    def target_length(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """|y|: how many target units (1 for a class, the completion's tokens) each sample has, ``[B]``."""

    def per_sample_loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        """The negative log-likelihood of each sample, divided by its target length, ``[B]``."""
        return -self.log_likelihood(outputs, batch) / self.target_length(batch)

    def loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        """The task's training loss on the batch (a scalar): the mean per-sample loss."""
        return self.per_sample_loss(outputs, batch).mean()

    @abstractmethod
    def output_log_probs(
        self, outputs: torch.Tensor, batch: Mapping[str, Any], temperature: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities over the output vocabulary at every scored position, ``[..., V]``, and a
        boolean mask ``[...]`` of the positions that count (every row for classification, the
        completion tokens for generation)."""

    @abstractmethod
    def target_one_hot(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        """A boolean ``[..., V]`` marking each scored position's target (the class, or the next token)."""

    def kl_to_teacher(
        self,
        student: torch.Tensor,
        teacher: torch.Tensor,
        batch: Mapping[str, Any],
        temperature: float = 1.0,
    ) -> torch.Tensor:
        """KL(teacher ‖ student) of the temperature-softened output distributions: summed over the
        vocabulary, averaged over the scored positions. Both enter as outputs (logits); the teacher's
        side is turned into probabilities, the student's into log-probabilities (never KL on raw logits)."""
        teacher_log_probs, _ = self.output_log_probs(teacher, batch, temperature)
        return self.kl_to_distribution(student, teacher_log_probs.exp(), batch, temperature)

    def kl_to_distribution(
        self,
        student: torch.Tensor,
        target_probs: torch.Tensor,
        batch: Mapping[str, Any],
        temperature: float = 1.0,
    ) -> torch.Tensor:
        """KL(target ‖ softmax(student / T)) for target probabilities given directly (zeros allowed)."""
        log_probs, mask = self.output_log_probs(student, batch, temperature)
        target = target_probs.float()
        # xlogy makes 0·log 0 = 0, so masked-out classes of the target cost nothing.
        per_position = (torch.xlogy(target, target) - target * log_probs).sum(-1)
        mask = mask.to(per_position.dtype)
        return (per_position * mask).sum() / mask.sum().clamp_min(1.0)
