"""The classification objective: one class label per sample, outputs are class logits ``[B, K]``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from .base import TaskObjective


class ClassificationObjective(TaskObjective):
    """Cross-entropy on the label; |y| = 1, so the per-sample loss is the NLL of the label.

    The batch-level terms use the same PyTorch reductions as a plain classifier would
    (``cross_entropy`` with its mean, ``kl_div`` with ``batchmean``), so methods written on this
    interface give the numbers they gave before it existed.
    """

    kind = "classification"

    def log_likelihood(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        labels = batch["labels"].long()
        return F.log_softmax(outputs, dim=-1).gather(-1, labels.unsqueeze(-1)).squeeze(-1)

    def target_length(self, batch: Mapping[str, Any]) -> torch.Tensor:
        labels = batch["labels"]
        return torch.ones(labels.shape[0], device=labels.device)

    def per_sample_loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return F.cross_entropy(outputs, batch["labels"], reduction="none")

    def loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return F.cross_entropy(outputs, batch["labels"])

    def output_log_probs(
        self, outputs: torch.Tensor, batch: Mapping[str, Any], temperature: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        log_probs = F.log_softmax(outputs / temperature, dim=-1)
        return log_probs, torch.ones(outputs.shape[0], dtype=torch.bool, device=outputs.device)

    def target_one_hot(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return F.one_hot(batch["labels"].long(), outputs.shape[-1]).bool()

    def kl_to_teacher(
        self,
        student: torch.Tensor,
        teacher: torch.Tensor,
        batch: Mapping[str, Any],
        temperature: float = 1.0,
    ) -> torch.Tensor:
        teacher_probs = F.softmax(teacher / temperature, dim=-1)
        return self.kl_to_distribution(student, teacher_probs, batch, temperature)

    def kl_to_distribution(
        self,
        student: torch.Tensor,
        target_probs: torch.Tensor,
        batch: Mapping[str, Any],
        temperature: float = 1.0,
    ) -> torch.Tensor:
        student_log_probs = F.log_softmax(student / temperature, dim=-1)
        return F.kl_div(student_log_probs, target_probs, reduction="batchmean")
