"""Per-sample quantities derived once from a split's logits and labels.

Several metrics read the same things (accuracy and the knowledge gap read correctness; MIA and
forget quality read the loss; ZRF reads the probabilities). :class:`SplitOutputs` computes them once
per split so the suite never repeats a softmax.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from mubench_hf.metrics._validate import as_labels, as_logits, check_num_labels


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable log-softmax (subtract the row maximum before exponentiating)."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@dataclass
class SplitOutputs:
    """What the metrics need to know about one model on one split.

    Attributes:
        log_probs: log-softmax of the logits, shape (samples, classes).
        labels: true class ids, shape (samples,).
        predictions: argmax class ids (ties go to the lowest id, as ``np.argmax``).
        correct: ``predictions == labels``.
        loss: per-sample cross-entropy ``-log p(label)`` in nats.
        true_class_probability: ``p(label)`` = ``exp(-loss)``.
        normalised_entropy: Shannon entropy of the predicted distribution divided by ``log(classes)``,
            so 0 = one-hot and 1 = uniform whatever the number of classes.
    """

    log_probs: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    correct: np.ndarray
    loss: np.ndarray
    true_class_probability: np.ndarray
    normalised_entropy: np.ndarray

    @property
    def num_samples(self) -> int:
        return int(self.labels.shape[0])

    @property
    def num_labels(self) -> int:
        return int(self.log_probs.shape[1])

    @property
    def accuracy(self) -> float:
        return float(self.correct.mean())

    @classmethod
    def from_arrays(cls, logits: np.ndarray, labels: np.ndarray) -> SplitOutputs:
        """Build from already validated arrays (see :func:`split_outputs` for the checked entry point)."""
        log_probs = log_softmax(logits, axis=1)
        rows = np.arange(labels.shape[0])
        true_log_prob = log_probs[rows, labels].astype(np.float64)
        probs = np.exp(log_probs)
        # Rows are probability vectors, so -sum(p log p) is bounded by log K; float32 rounding can
        # leave tiny negatives for one-hot rows, hence the clip.
        entropy = -np.einsum("ij,ij->i", probs, log_probs).astype(np.float64)
        normalised_entropy = np.clip(entropy / np.log(log_probs.shape[1]), 0.0, 1.0)
        predictions = logits.argmax(axis=1)
        return cls(
            log_probs=log_probs,
            labels=labels,
            predictions=predictions,
            correct=predictions == labels,
            loss=-true_log_prob,
            true_class_probability=np.exp(true_log_prob),
            normalised_entropy=normalised_entropy,
        )


def split_outputs(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    name: str = "logits",
    labels_name: str = "labels",
    num_labels: int | None = None,
) -> SplitOutputs:
    """Validate one split's logits and labels and derive the per-sample quantities.

    Args:
        logits: shape (samples, classes), raw model outputs (not probabilities).
        labels: shape (samples,), integer class ids in ``[0, classes)``.
        name, labels_name: argument names used in error messages.
        num_labels: expected number of classes; defaults to the logits' width.
    """
    logits_array = as_logits(logits, name)
    k = check_num_labels(num_labels, logits_array, name)
    labels_array = as_labels(
        labels, labels_name, num_labels=k, num_rows=logits_array.shape[0], logits_name=name
    )
    return SplitOutputs.from_arrays(logits_array, labels_array)
