"""The arithmetic of the image-generation report: concept forgetting read by a classifier, and the distance
between feature distributions of generated and real images.

* ``unlearning_accuracy`` (UnlearnCanvas's UA, Zhang et al. 2024): the share of images generated for the
  forgotten concepts that the classifier does NOT recognise as their concept (higher: more forgotten);
* ``concept_accuracy``: the share of images of the given concepts recognised as them (UnlearnCanvas's
  in-domain retain accuracy on the kept concepts; on the base model, how recognisable its samples are);
* ``frechet_distance`` (FID, Heusel et al. 2017) and ``kernel_distance`` (KID, Bińkowski et al. 2018) of two
  feature sets, as clean-fid computes them (``cleanfid/fid.py``: ``frechet_distance`` on the means and
  ``np.cov`` covariances, ``kernel_distance`` with the cubic polynomial kernel on random subsets); here the
  subsets come from a seeded generator instead of ``np.random``'s global state.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

from ..errors import MubenchError


def _labels(predicted: np.ndarray, concepts: np.ndarray, chosen: list[int]) -> tuple[np.ndarray, np.ndarray]:
    predicted, concepts = np.asarray(predicted), np.asarray(concepts)
    if predicted.shape != concepts.shape:
        raise MubenchError(f"{predicted.shape[0]} predictions for {concepts.shape[0]} generated images")
    rows = np.isin(concepts, chosen)
    return predicted[rows], concepts[rows]


def concept_accuracy(predicted: np.ndarray, concepts: np.ndarray, chosen: list[int]) -> float:
    """The share of images generated for the ``chosen`` concepts that are classified as their concept."""
    pred, true = _labels(predicted, concepts, chosen)
    if not len(true):
        raise MubenchError(f"no generated image of concepts {chosen}")
    return float(np.mean(pred == true))


def unlearning_accuracy(predicted: np.ndarray, concepts: np.ndarray, forgotten: list[int]) -> float:
    """UA: the share of images generated for the ``forgotten`` concepts NOT classified as their concept."""
    return 1.0 - concept_accuracy(predicted, concepts, forgotten)


def _checked(features: np.ndarray, what: str) -> np.ndarray:
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise MubenchError(f"{what}: need a [N, D] feature array with N >= 2, got shape {features.shape}")
    return features


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray, eps: float = 1e-6) -> float:
    """FID between two feature sets: |μa − μb|² + Tr(Σa + Σb − 2 (Σa Σb)^½)."""
    a, b = _checked(features_a, "FID"), _checked(features_b, "FID")
    if a.shape[1] != b.shape[1]:
        raise MubenchError(f"FID of {a.shape[1]}- and {b.shape[1]}-dimensional features")
    mu_a, mu_b = a.mean(0), b.mean(0)
    sigma_a, sigma_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings():  # a singular product (few images) is handled below, not warned about
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma_a @ sigma_b)
    if not np.isfinite(covmean).all():  # a nearly singular product: regularise both covariances
        offset = np.eye(sigma_a.shape[0]) * eps
        covmean = linalg.sqrtm((sigma_a + offset) @ (sigma_b + offset))
    covmean = np.real(covmean)  # rounding leaves a tiny imaginary part
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * np.trace(covmean))


def kernel_distance(
    features_a: np.ndarray,
    features_b: np.ndarray,
    *,
    num_subsets: int = 100,
    max_subset_size: int = 1000,
    seed: int = 0,
) -> float:
    """KID: the unbiased MMD² with kernel k(x, y) = (x·y / d + 1)³, averaged over random subsets."""
    a, b = _checked(features_a, "KID"), _checked(features_b, "KID")
    d = a.shape[1]
    m = min(len(a), len(b), max_subset_size)
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(num_subsets):
        x = b[rng.choice(len(b), m, replace=False)]
        y = a[rng.choice(len(a), m, replace=False)]
        within = (x @ x.T / d + 1) ** 3 + (y @ y.T / d + 1) ** 3
        across = (x @ y.T / d + 1) ** 3
        total += (within.sum() - np.diag(within).sum()) / (m - 1) - across.sum() * 2 / m
    return float(total / num_subsets / m)
