"""Sequence-level membership inference attacks on language models, open-unlearning's definitions
(``src/evals/metrics/mia/`` of ``locuslab/open-unlearning``): forget set (members) against a holdout set
of never-trained samples from the same distribution (non-members).

Every attack gives each sample a score signed like a loss (higher = looks less like a member):

- LOSS (Yeom et al. 2018): the average completion-token loss.
- zlib (Carlini et al. 2021, "Extracting Training Data from Large Language Models"): the average loss
  divided by the zlib-compressed length in bytes of the completion text (UTF-8, ``zlib.compress`` at its
  default level): text that is easy to compress is expected to have low loss anyway.
- Min-k % Prob (Shi et al. 2024, "Detecting Pretraining Data from Large Language Models"): minus the
  mean of the ``k`` fraction lowest token log-probabilities (at least one token; open-unlearning's TOFU
  and MUSE configurations use ``k = 0.4``).
- Min-k %++ (Zhang et al. 2025, "Min-K%++"): the same on standardised token log-probabilities
  ``(log p(y_t) - mu_t) / sqrt(sigma2_t)``, with ``mu_t`` and ``sigma2_t`` the mean and variance of
  ``log p`` under the model's own next-token distribution at step t (``sigma2`` clamped at 1e-6).

The AUC follows open-unlearning's ``mia_auc``: ``roc_auc_score`` with forget labelled 0 and holdout 1 on
these scores, so 1 = the forget samples look much more like members than the holdout ones, 0.5 =
indistinguishable (what a model that never trained on either gives). A sample without tokens scores 0
(open-unlearning's choice).

Which tokens: open-unlearning's LOSS and zlib attacks use all completion tokens including the final
end-of-sequence token, its min-k attacks drop that final token. :func:`mubench_hf.kinds.generation.report`
passes the tokens the same way; the functions here score whatever tokens they are given.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import roc_auc_score

from mubench_hf.errors import MubenchError
from mubench_hf.metrics.generative._arrays import as_vector, check_same_rows, padded

DEFAULT_K = 0.4  # open-unlearning's TOFU and MUSE configs (configs/eval/*_metrics/mia_min_k*.yaml)
MIN_VARIANCE = 1e-6  # open-unlearning's clamp of the vocabulary variance in min-k %++


def _check_k(k: float) -> float:
    if isinstance(k, bool) or not isinstance(k, (int, float)) or not 0.0 < float(k) <= 1.0:
        raise MubenchError(
            f"k must be a fraction in (0, 1] (the share of lowest-scoring tokens kept); got {k!r}"
        )
    return float(k)


def loss_scores(
    token_log_probs: ArrayLike | Sequence[ArrayLike], mask: ArrayLike | None = None
) -> np.ndarray:
    """LOSS attack scores: each sample's average token loss ``-mean_t log p(y_t)``; 0 without tokens."""
    values, keep = padded(token_log_probs, "token_log_probs", mask=mask)
    counts = keep.sum(axis=1)
    return np.where(counts > 0, -values.sum(axis=1) / np.maximum(counts, 1), 0.0)


def zlib_entropy(texts: Sequence[str]) -> np.ndarray:
    """Bytes of ``zlib.compress(text.encode("utf-8"))`` per text (Carlini et al. 2021's zlib entropy)."""
    if isinstance(texts, str):
        raise MubenchError("texts must be a list of strings (one per sample), not a single string")
    return np.array([len(zlib.compress(str(text).encode("utf-8"))) for text in texts], dtype=np.float64)


def zlib_scores(avg_losses: ArrayLike, texts: Sequence[str]) -> np.ndarray:
    """zlib attack scores: average token loss ÷ zlib entropy of the sample's completion text."""
    losses = as_vector(avg_losses, "avg_losses")
    entropy = zlib_entropy(texts)
    check_same_rows(losses, "avg_losses", entropy, "texts")
    return losses / entropy


def _min_k(values: np.ndarray, keep: np.ndarray, k: float) -> np.ndarray:
    """``-mean`` of the ``max(1, int(n * k))`` smallest kept values of each row (0 for empty rows)."""
    counts = keep.sum(axis=1)
    ordered = np.sort(np.where(keep, values, np.inf), axis=1)
    num_k = np.maximum(1, (counts * k).astype(np.int64))
    sums = np.cumsum(np.where(np.isfinite(ordered), ordered, 0.0), axis=1)
    chosen = sums[np.arange(values.shape[0]), np.minimum(num_k, values.shape[1]) - 1]
    return np.where(counts > 0, -chosen / num_k, 0.0)


def min_k_scores(
    token_log_probs: ArrayLike | Sequence[ArrayLike], k: float = DEFAULT_K, mask: ArrayLike | None = None
) -> np.ndarray:
    """Min-k % Prob scores: minus the mean of the ``k`` fraction lowest token log-probabilities."""
    k = _check_k(k)
    values, keep = padded(token_log_probs, "token_log_probs", mask=mask)
    return _min_k(values, keep, k)


def min_k_plus_plus_scores(
    token_log_probs: ArrayLike | Sequence[ArrayLike],
    token_means: ArrayLike | Sequence[ArrayLike],
    token_variances: ArrayLike | Sequence[ArrayLike],
    k: float = DEFAULT_K,
    mask: ArrayLike | None = None,
) -> np.ndarray:
    """Min-k %++ scores: min-k % on ``(log p(y_t) - mu_t) / sqrt(max(sigma2_t, 1e-6))``.

    Args:
        token_log_probs: log-probability of each target token.
        token_means: ``mu_t = sum_v p(v) log p(v)`` of the model's next-token distribution at each step.
        token_variances: ``sigma2_t = sum_v p(v) log p(v)^2 - mu_t^2`` at each step.
        k: share of the lowest standardised tokens averaged.
        mask: with padded 2-D inputs, which entries are real tokens (shared by the three arrays).
    """
    k = _check_k(k)
    values, keep = padded(token_log_probs, "token_log_probs", mask=mask)
    means, keep_mu = padded(token_means, "token_means", mask=mask)
    variances, keep_var = padded(token_variances, "token_variances", mask=mask)
    if (
        keep_mu.shape != keep.shape
        or keep_var.shape != keep.shape
        or not (np.array_equal(keep_mu, keep) and np.array_equal(keep_var, keep))
    ):
        raise MubenchError(
            "token_log_probs, token_means and token_variances must have the same number of tokens per sample"
        )
    z = (values - means) / np.sqrt(np.maximum(variances, MIN_VARIANCE))
    return _min_k(z, keep, k)


def mia_auc(forget_scores: ArrayLike, holdout_scores: ArrayLike) -> float:
    """open-unlearning's MIA AUC: ``roc_auc_score`` with forget = 0, holdout = 1 on loss-signed scores.

    1 = the forget samples score much lower (look like members), 0.5 = indistinguishable.
    """
    forget = as_vector(forget_scores, "forget_scores")
    holdout = as_vector(holdout_scores, "holdout_scores")
    labels = np.concatenate([np.zeros(forget.size), np.ones(holdout.size)])
    return float(roc_auc_score(labels, np.concatenate([forget, holdout])))
