"""Split accuracy: the share of samples whose arg-max class is the true label (MU-Bench Dt/Df/Dr/OOD)."""

from __future__ import annotations

from numpy.typing import ArrayLike

from mubench_hf.metrics.outputs import split_outputs


def split_accuracy(logits: ArrayLike, labels: ArrayLike, *, num_labels: int | None = None) -> float:
    """Mean of ``argmax(logits) == labels`` over one split.

    Args:
        logits: shape (samples, classes).
        labels: shape (samples,), integer class ids.
        num_labels: expected number of classes (checked against the logits' width when given).

    Returns:
        Accuracy in [0, 1].
    """
    return split_outputs(logits, labels, num_labels=num_labels).accuracy
