"""The arithmetic of the text-to-image report: FID and KID re-derived from clean-fid on identical inputs
(the peer file is ``cleanfid/fid.py`` of GaParmar/clean-fid 0.1.35: ``frechet_distance`` and
``kernel_distance``, transcribed below), and UnlearnCanvas's unlearning / retain accuracies."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from mubench_hf.errors import MubenchError
from mubench_hf.metrics.image_generation import (
    concept_accuracy,
    frechet_distance,
    kernel_distance,
    unlearning_accuracy,
)


def cleanfid_frechet_distance(mu1, sigma1, mu2, sigma2):
    """clean-fid's ``frechet_distance`` (its finite-covmean path), on means and covariances."""
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


def cleanfid_kernel_distance(feats1, feats2, num_subsets=100, max_subset_size=1000):
    """clean-fid's ``kernel_distance``, drawing subsets from numpy's global generator."""
    n = feats1.shape[1]
    m = min(min(feats1.shape[0], feats2.shape[0]), max_subset_size)
    t = 0
    for _ in range(num_subsets):
        x = feats2[np.random.choice(feats2.shape[0], m, replace=False)]
        y = feats1[np.random.choice(feats1.shape[0], m, replace=False)]
        a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
        b = (x @ y.T / n + 1) ** 3
        t += (a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m
    return float(t / num_subsets / m)


def _features(seed: int, n: int = 200, d: int = 8, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)) @ np.diag(np.linspace(0.5, 2, d)) + shift


def test_fid_matches_clean_fid_on_the_same_features():
    a, b = _features(0), _features(1, n=150, shift=0.3)
    ours = frechet_distance(a, b)
    theirs = cleanfid_frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert ours == pytest.approx(theirs, rel=1e-10)
    assert ours > 0.5  # the shift alone contributes 8 * 0.3**2 = 0.72 to |mu_a - mu_b|^2 in expectation


def test_fid_of_a_set_with_itself_is_zero_and_a_shift_adds_its_square():
    a = _features(2)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shift = np.full(a.shape[1], 0.5)
    assert frechet_distance(a, a + shift) == pytest.approx(float(shift @ shift), rel=1e-6)


def test_kid_matches_clean_fid_when_every_subset_is_the_whole_set():
    # with m = N rows, a subset is a permutation of the set, and the estimate does not depend on the order:
    # both generators then give the same value
    a, b = _features(3, n=60), _features(4, n=60, shift=0.2)
    np.random.seed(0)
    theirs = cleanfid_kernel_distance(a, b, num_subsets=3)
    assert kernel_distance(a, b, num_subsets=3, seed=7) == pytest.approx(theirs, rel=1e-10)


def test_kid_is_seeded_and_near_zero_for_one_distribution():
    a, b = _features(5, n=300), _features(6, n=300)
    first = kernel_distance(a, b, num_subsets=10, max_subset_size=100, seed=1)
    assert first == kernel_distance(a, b, num_subsets=10, max_subset_size=100, seed=1)
    shifted = kernel_distance(a, b + 1.0, num_subsets=10, max_subset_size=100, seed=1)
    # 0.079 and 11.9 here: the unbiased estimate scatters around 0 for one distribution, a shift moves it far
    assert abs(first) < 0.5 < shifted


def test_unlearning_and_retain_accuracy_count_recognised_images():
    concepts = np.array([3, 3, 3, 3, 1, 1, 2, 2])
    predicted = np.array([3, 0, 5, 5, 1, 1, 2, 9])
    assert unlearning_accuracy(predicted, concepts, [3]) == pytest.approx(0.75)
    assert concept_accuracy(predicted, concepts, [1, 2]) == pytest.approx(0.75)
    with pytest.raises(MubenchError, match="no generated image of concepts"):
        concept_accuracy(predicted, concepts, [7])
    with pytest.raises(MubenchError, match="N >= 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
