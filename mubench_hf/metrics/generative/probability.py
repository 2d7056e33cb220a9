"""Answer probability and truth ratio, TOFU's definitions (Maini et al. 2024, ``locuslab/tofu``), as
open-unlearning computes them (``src/evals/metrics/memorization.py``: ``probability``,
``probability_w_options``, ``truth_ratio``).

The unit is a sample's *average completion-token loss*: the mean over the answer's tokens of
``-log p(token | prompt, earlier answer tokens)`` (TOFU's ``avg_gt_loss``; the end-of-sequence token
the model was trained to emit counts as an answer token). Its ``exp(-loss)`` is the length-normalised
answer probability (the geometric mean of the token probabilities).

- Answer probability: the mean of ``exp(-loss)`` over the split (TOFU's "Prob." on forget/retain).
- Normalised answer probability (TOFU's "Prob." on real authors / world facts): per sample
  ``p(true) / (p(true) + sum_j p(false_j))`` with length-normalised probabilities of the true and of
  each perturbed (false) answer, then the mean.
- Truth ratio statistic (per sample): ``R = p(false) / p(true)``, where ``p(false)`` is ``exp(-mean_j
  loss_j)`` over the perturbed answers and ``p(true)`` the paraphrased answer's (forget, retain) or the
  answer's own (real authors, world facts). TOFU writes its reciprocal; forget quality's KS test is the
  same either way because the test only uses ranks.
- Truth ratio (aggregate): ``closer_to_1_better`` = ``mean(min(R, 1/R))`` on the forget set (a model
  that never saw the answers finds true and false equally likely, R near 1); ``true_better`` =
  ``mean(max(0, 1 - R))`` elsewhere (a model that knows the facts prefers the true answer).

open-unlearning adds 1e-10 to denominators; here ``R`` is computed in log space
(``exp(loss_true - mean_j loss_false_j)``), which is exact and needs no guard.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from mubench_hf.errors import MubenchError
from mubench_hf.metrics.generative._arrays import as_vector, check_same_rows

TRUTH_RATIO_AGGREGATORS = ("closer_to_1_better", "true_better")


def _losses_matrix(values: ArrayLike | Sequence[ArrayLike], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Perturbed-answer losses as a padded (samples, answers) array and its mask; rows may be ragged."""
    try:
        rows = [np.asarray(row, dtype=np.float64).ravel() for row in values]
    except (TypeError, ValueError) as err:
        raise MubenchError(
            f"{name} must hold one list of losses (one per perturbed answer) per sample: {err}"
        ) from err
    if not rows:
        raise MubenchError(f"{name} is empty: the split has no samples, so no metric can be computed on it")
    lengths = np.array([row.size for row in rows])
    if np.any(lengths == 0):
        first = int(np.flatnonzero(lengths == 0)[0])
        raise MubenchError(f"{name}: sample {first} has no perturbed answer; every sample needs at least one")
    mask = np.arange(lengths.max())[None, :] < lengths[:, None]
    array = np.zeros(mask.shape)
    array[mask] = np.concatenate(rows)
    if not np.all(np.isfinite(array)):
        raise MubenchError(f"{name} holds non-finite values (NaN or inf); a diverged model cannot be scored")
    return array, mask


def answer_probabilities(avg_losses: ArrayLike) -> np.ndarray:
    """Per-sample length-normalised answer probability ``exp(-average token loss)``."""
    return np.exp(-as_vector(avg_losses, "avg_losses"))


def answer_probability(avg_losses: ArrayLike) -> float:
    """TOFU's "Prob.": mean over samples of ``exp(-average completion-token loss)``, in [0, 1]."""
    return float(answer_probabilities(avg_losses).mean())


def normalised_answer_probability(
    true_avg_losses: ArrayLike, false_avg_losses: ArrayLike | Sequence[ArrayLike]
) -> float:
    """TOFU's "Prob." on real authors / world facts: mean of ``p(true) / (p(true) + sum_j p(false_j))``.

    Args:
        true_avg_losses: average token loss of each sample's true answer, shape (samples,).
        false_avg_losses: average token loss of each perturbed (false) answer, shape (samples, answers)
            or one list per sample.
    """
    true = as_vector(true_avg_losses, "true_avg_losses")
    false, mask = _losses_matrix(false_avg_losses, "false_avg_losses")
    check_same_rows(true, "true_avg_losses", false, "false_avg_losses")
    # divide through by p(true): p_t / (p_t + sum p_f) = 1 / (1 + sum exp(loss_t - loss_f)), no underflow
    others = np.where(mask, np.exp(np.minimum(true[:, None] - false, 700.0)), 0.0).sum(axis=1)
    return float(np.mean(1.0 / (1.0 + others)))


def truth_ratios(
    correct_avg_losses: ArrayLike, wrong_avg_losses: ArrayLike | Sequence[ArrayLike]
) -> np.ndarray:
    """Per-sample truth-ratio statistic ``R = p(false) / p(true)`` (open-unlearning's orientation).

    Args:
        correct_avg_losses: average token loss of the paraphrased answer (forget, retain) or of the answer
            itself (real authors, world facts), shape (samples,).
        wrong_avg_losses: average token loss of each perturbed answer, shape (samples, answers) or one list
            per sample; ``p(false)`` is ``exp(-mean_j loss_j)``, the geometric mean over the answers.
    """
    correct = as_vector(correct_avg_losses, "correct_avg_losses")
    wrong, mask = _losses_matrix(wrong_avg_losses, "wrong_avg_losses")
    check_same_rows(correct, "correct_avg_losses", wrong, "wrong_avg_losses")
    mean_wrong = np.where(mask, wrong, 0.0).sum(axis=1) / mask.sum(axis=1)
    return np.exp(correct - mean_wrong)


def aggregate_truth_ratio(ratios: ArrayLike, aggregator: str = "closer_to_1_better") -> float:
    """TOFU's truth-ratio aggregate of per-sample statistics ``R`` (see the module docstring), in [0, 1].

    ``closer_to_1_better`` (forget set): ``mean(min(R, 1/R))``; ``true_better`` (retain and the other
    splits): ``mean(max(0, 1 - R))``.
    """
    r = as_vector(ratios, "ratios")
    if np.any(r < 0):
        raise MubenchError("ratios must be non-negative: a truth ratio is a ratio of probabilities")
    if aggregator == "closer_to_1_better":
        with np.errstate(divide="ignore"):
            return float(np.mean(np.minimum(r, 1.0 / r)))
    if aggregator == "true_better":
        return float(np.mean(np.maximum(0.0, 1.0 - r)))
    raise MubenchError(f"aggregator must be one of {list(TRUTH_RATIO_AGGREGATORS)}, not {aggregator!r}")


def truth_ratio(
    correct_avg_losses: ArrayLike,
    wrong_avg_losses: ArrayLike | Sequence[ArrayLike],
    aggregator: str = "closer_to_1_better",
) -> float:
    """TOFU's truth ratio of a split: :func:`aggregate_truth_ratio` of :func:`truth_ratios`."""
    return aggregate_truth_ratio(truth_ratios(correct_avg_losses, wrong_avg_losses), aggregator)
