"""Loss terms shared by several methods.

Distillation terms follow one convention (DESIGN §7: never KL on raw logits): the student enters as
log-probabilities, the teacher as probabilities, and ``kl_to_teacher`` is KL(teacher ‖ student).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def kl_to_teacher(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """KL(softmax(teacher / T) ‖ softmax(student / T)), summed over classes, averaged over the batch."""
    student_log_probs = F.log_softmax(student_logits / temperature, dim=-1)
    teacher_probs = F.softmax(teacher_logits / temperature, dim=-1)
    return F.kl_div(student_log_probs, teacher_probs, reduction="batchmean")


def kl_to_distribution(
    student_logits: torch.Tensor, target_probs: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """KL(target ‖ softmax(student / T)) for a target distribution given directly (zeros allowed)."""
    return F.kl_div(F.log_softmax(student_logits / temperature, dim=-1), target_probs, reduction="batchmean")


def label_log_prob(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log p(y | x) of each row's label: the sequence log-likelihood of NPO for one-token answers."""
    return F.log_softmax(logits, dim=-1).gather(-1, labels.long().unsqueeze(-1)).squeeze(-1)
