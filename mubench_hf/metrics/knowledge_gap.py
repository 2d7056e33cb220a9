"""Knowledge gap: how well per-sample correctness separates the forget set from the retain set.

Definition (MU-Bench, following the knowledge-gap idea of Wang et al. 2023, "KGA: A General Machine
Unlearning Framework Based on Knowledge Gap Alignment"): draw a uniformly random subsample of Dr of
the same size as Df (without replacement), score every sample by its correctness
``c = 1[argmax == label]``, and compute the ROC-AUC of that score for separating the two sets; the
knowledge gap is the mean AUC over draws.

Convention used here (fixed, tested):

* positive class = the retain sample (Dr), negative class = Df, score = correctness. Equivalently:
  Df is the positive class scored by *incorrectness*. Both phrasings give the same number.
* the value is reported as the AUC itself, not ``|AUC - 0.5|``:
  0.5 = Df and Dr are answered equally well (indistinguishable, e.g. the original model that fits
  both), above 0.5 = the model errs more on Df than on Dr (forgetting), 1 = always wrong on Df and
  always right on Dr, below 0.5 = Df is answered *better* than Dr.

Why a loop is not needed: with binary scores the AUC of a draw (ties counted one half, as in
``sklearn.metrics.roc_auc_score``) depends only on the accuracies of the two sides,
``AUC = 1/2 + (acc(Dr sample) - acc(Df)) / 2``. It is linear in the number of correct samples in
the Dr draw, which is hypergeometric with mean ``m * acc(Dr)``, so the expectation over draws is
exactly ``1/2 + (acc(Dr) - acc(Df)) / 2``. The spread of single draws follows from the hypergeometric
variance (:func:`knowledge_gap_draw_std`). :func:`knowledge_gap_monte_carlo` runs the literal
resampling procedure for checking.

When Dr has fewer samples than Df the draw is the whole of Dr (it cannot be sub-sampled to Df's size);
the expectation formula is unchanged and the draw-to-draw spread is zero.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata

from mubench_hf.errors import MubenchError
from mubench_hf.metrics._validate import as_labels, as_logits, check_same_width


def knowledge_gap_from_correct(forget_correct: ArrayLike, retain_correct: ArrayLike) -> float:
    """Exact expected knowledge gap from per-sample correctness (booleans or 0/1) of Df and Dr."""
    forget = _as_correct(forget_correct, "forget_correct")
    retain = _as_correct(retain_correct, "retain_correct")
    return float(0.5 + 0.5 * (retain.mean() - forget.mean()))


def knowledge_gap_draw_std(forget_correct: ArrayLike, retain_correct: ArrayLike) -> float:
    """Standard deviation of a single draw's AUC around the expectation.

    The number of correct samples in a draw of size ``m`` from ``N`` retain samples of which a share
    ``p`` are correct is hypergeometric with variance ``m p (1 - p) (N - m) / (N - 1)``; the AUC moves
    by ``1 / (2 m)`` per correct sample. Use it to judge Monte-Carlo error: the mean of ``d`` draws
    deviates from the expectation by about ``std / sqrt(d)``.
    """
    forget = _as_correct(forget_correct, "forget_correct")
    retain = _as_correct(retain_correct, "retain_correct")
    population, sample = retain.size, min(forget.size, retain.size)
    if sample == population:
        return 0.0
    p = retain.mean()
    variance = sample * p * (1.0 - p) * (population - sample) / (population - 1)
    return float(np.sqrt(variance) / (2.0 * sample))


def knowledge_gap(
    forget_logits: ArrayLike,
    forget_labels: ArrayLike,
    retain_logits: ArrayLike,
    retain_labels: ArrayLike,
) -> float:
    """Exact expected knowledge gap (mean ROC-AUC over equal-size Dr draws), without any sampling.

    Args:
        forget_logits, forget_labels: the unlearned model's logits and the labels on Df.
        retain_logits, retain_labels: the same on Dr.

    Returns:
        Expected AUC in [0, 1]; 0.5 = Df indistinguishable from Dr (see the module docstring for the
        sign convention).
    """
    forget_correct, retain_correct = _correctness(forget_logits, forget_labels, retain_logits, retain_labels)
    return knowledge_gap_from_correct(forget_correct, retain_correct)


def knowledge_gap_monte_carlo(
    forget_logits: ArrayLike,
    forget_labels: ArrayLike,
    retain_logits: ArrayLike,
    retain_labels: ArrayLike,
    *,
    n_draws: int = 500,
    seed: int = 0,
) -> float:
    """The literal MU-Bench procedure: mean AUC over ``n_draws`` seeded random Dr subsamples.

    Each draw samples ``len(Df)`` retain indices without replacement and computes a tie-aware
    Mann-Whitney AUC on the correctness scores, which does not rely on the binary shortcut of
    :func:`knowledge_gap`; the two agree up to Monte-Carlo error. Slower; meant for checking.
    """
    forget_correct, retain_correct = _correctness(forget_logits, forget_labels, retain_logits, retain_labels)
    return float(knowledge_gap_draw_aucs(forget_correct, retain_correct, n_draws=n_draws, seed=seed).mean())


def knowledge_gap_draw_aucs(
    forget_scores: ArrayLike, retain_scores: ArrayLike, *, n_draws: int = 500, seed: int = 0
) -> np.ndarray:
    """Per-draw AUCs of ``retain_scores`` (positive) vs ``forget_scores`` (negative) over random Dr draws.

    Works for any real-valued scores (ties count one half). Draws are independent, each without
    replacement, from ``np.random.default_rng(seed)``.
    """
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise MubenchError(f"n_draws must be a positive integer; got {n_draws!r}")
    negative = np.asarray(forget_scores, dtype=np.float64).ravel()
    population = np.asarray(retain_scores, dtype=np.float64).ravel()
    if negative.size == 0 or population.size == 0:
        raise MubenchError("forget_scores and retain_scores must both be non-empty")
    rng = np.random.default_rng(seed)
    sample_size = min(negative.size, population.size)
    aucs = np.empty(n_draws)
    # Ranking a (draws, m + n) block at once; the block is capped so memory stays small for large splits.
    draws_per_block = max(1, 2_000_000 // (sample_size + negative.size))
    for start in range(0, n_draws, draws_per_block):
        stop = min(n_draws, start + draws_per_block)
        picks = np.stack(
            [rng.choice(population.size, size=sample_size, replace=False) for _ in range(stop - start)]
        )
        positive = population[picks]
        both = np.concatenate([positive, np.broadcast_to(negative, (stop - start, negative.size))], axis=1)
        ranks = rankdata(both, axis=1)  # average ranks: ties count one half
        positive_rank_sum = ranks[:, :sample_size].sum(axis=1)
        aucs[start:stop] = (positive_rank_sum - sample_size * (sample_size + 1) / 2) / (
            sample_size * negative.size
        )
    return aucs


def _as_correct(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise MubenchError(
            f"{name} must be a non-empty 1-D array of per-sample correctness; got shape {array.shape}"
        )
    if not np.isin(array, (0, 1)).all():
        raise MubenchError(f"{name} must hold booleans or 0/1 values")
    return array.astype(np.float64)


def _correctness(
    forget_logits: ArrayLike, forget_labels: ArrayLike, retain_logits: ArrayLike, retain_labels: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Validated per-sample correctness of Df and Dr (only the arg-max is needed: no softmax here)."""
    forget = as_logits(forget_logits, "forget_logits")
    retain = as_logits(retain_logits, "retain_logits")
    check_same_width(retain, "retain_logits", forget, "forget_logits")
    k = forget.shape[1]
    forget_y = as_labels(
        forget_labels, "forget_labels", num_labels=k, num_rows=len(forget), logits_name="forget_logits"
    )
    retain_y = as_labels(
        retain_labels, "retain_labels", num_labels=k, num_rows=len(retain), logits_name="retain_logits"
    )
    return forget.argmax(axis=1) == forget_y, retain.argmax(axis=1) == retain_y
