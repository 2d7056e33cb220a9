"""Multiple-choice accuracy, as lm-evaluation-harness computes ``acc`` and ``acc_norm`` for a
``multiple_choice`` task (``lm_eval/api/task.py``, ``ConfigurableTask.process_results``): the prediction is
the choice whose continuation has the highest log-likelihood (``numpy.argmax``: a tie goes to the first),
``acc_norm`` divides each log-likelihood by its choice's length in characters first; the score is the share
of questions predicted right."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import MubenchError


def mcq_predictions(
    log_likelihoods: Sequence[Sequence[float]], lengths: Sequence[Sequence[float]] | None = None
) -> np.ndarray:
    """The predicted choice of every question: argmax of its choices' log-likelihoods (over ``lengths``,
    each choice's length in characters, when given: the harness's ``acc_norm``)."""
    out = np.empty(len(log_likelihoods), dtype=np.int64)
    for i, lls in enumerate(log_likelihoods):
        scores = np.asarray(lls, dtype=np.float64)
        if scores.ndim != 1 or scores.size == 0:
            raise MubenchError(f"question {i}: give one log-likelihood per choice, got shape {scores.shape}")
        if lengths is not None:
            scores = scores / np.asarray(lengths[i], dtype=np.float64)
        out[i] = int(np.argmax(scores))
    return out


def mcq_accuracy(
    log_likelihoods: Sequence[Sequence[float]],
    answers: Sequence[int],
    lengths: Sequence[Sequence[float]] | None = None,
) -> float:
    """Share of questions whose predicted choice (:func:`mcq_predictions`) is ``answers[i]``."""
    if len(log_likelihoods) != len(answers):
        raise MubenchError(f"{len(log_likelihoods)} questions scored but {len(answers)} answers given")
    if not len(answers):
        raise MubenchError("no questions to score")
    predictions = mcq_predictions(log_likelihoods, lengths)
    return float(np.mean(predictions == np.asarray(answers, dtype=np.int64)))
