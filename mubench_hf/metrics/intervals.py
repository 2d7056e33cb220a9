"""Seeded percentile-bootstrap intervals for rates (accuracies, MIA efficacy).

Every rate the suite reports is a mean of per-sample 0/1 outcomes (correct or not; called non-member
or not). Resampling n outcomes with replacement and counting the ones gives a count that is exactly
``Binomial(n, observed rate)`` distributed, so the nonparametric bootstrap of such a rate is drawn as
``rng.binomial(n, rate, size=resamples) / n``: the same distribution as index resampling, without an
(resamples x n) index array or a Python loop. The interval is the percentile interval of those draws.

For MIA efficacy the attacker is held fixed (it is fitted once, as in SalUn), so its interval covers
the sampling of Df only, not the attacker's own training noise.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from mubench_hf.errors import MubenchError

DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95


def check_resamples(resamples: int, name: str = "bootstrap_resamples") -> int:
    """A resample count: an integer >= 0 (0 = no intervals)."""
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) or resamples < 0:
        raise MubenchError(f"{name} must be an integer >= 0 (0 turns the intervals off); got {resamples!r}")
    return int(resamples)


def rate_interval(
    successes: int,
    trials: int,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the rate ``successes / trials``.

    Args:
        successes, trials: the count of ones and the number of samples (trials >= 1).
        resamples: bootstrap resamples (>= 1).
        confidence: the interval's nominal coverage, in (0, 1).
        rng: the generator the resamples are drawn from (seed it for reproducible intervals).

    Returns:
        ``(low, high)`` with ``0 <= low <= rate <= high <= 1`` up to the resampling noise.
    """
    if check_resamples(resamples, "resamples") < 1:
        raise MubenchError(f"resamples must be >= 1 to form an interval; got {resamples}")
    if not 0.0 < confidence < 1.0:
        raise MubenchError(f"confidence must be in (0, 1), e.g. 0.95; got {confidence}")
    if trials < 1 or not 0 <= successes <= trials:
        raise MubenchError(f"successes must be in [0, trials] with trials >= 1; got {successes} of {trials}")
    draws = rng.binomial(trials, successes / trials, size=resamples) / trials
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(draws, [tail, 1.0 - tail])
    return float(low), float(high)


def bootstrap_interval(
    outcomes: ArrayLike,
    *,
    resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean of per-sample 0/1 ``outcomes`` (e.g. correctness).

    Seeded by ``np.random.default_rng(seed)``; see the module docstring for why binomial draws are the
    bootstrap here.
    """
    values = np.asarray(outcomes)
    if values.ndim != 1 or values.size == 0:
        raise MubenchError(f"outcomes must be a non-empty 1-D array of 0/1 values; got shape {values.shape}")
    if not np.isin(values, (0, 1)).all():
        raise MubenchError("outcomes must hold booleans or 0/1 values")
    return rate_interval(
        int(values.sum()),
        int(values.size),
        resamples=resamples,
        confidence=confidence,
        rng=np.random.default_rng(seed),
    )
