"""U-LiRA: synthetic Gaussians with a known answer, the statistic, input errors, the module, and a small
digits run through the sweep machinery (slow)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import norm

from mubench_hf import MubenchError
from mubench_hf.metrics.ulira import (
    gaussian_log_ratio,
    logit_scaled_confidence,
    roc_auc,
    ulira,
    ulira_from_logits,
)


def _gaussians(rng, k, n, shift, scale_u=1.0):
    # per-example means differ (as examples differ in difficulty); the unlearned side is shifted
    centre = rng.normal(0.0, 3.0, n)
    return centre + shift + scale_u * rng.standard_normal((k, n)), centre + rng.standard_normal((k, n))


@pytest.mark.parametrize("fixed_variance", [True, False])
def test_separable_shadows_give_auc_one(fixed_variance) -> None:
    u, r = _gaussians(np.random.default_rng(0), 6, 200, shift=20.0)
    result = ulira(u, r, fixed_variance=fixed_variance)
    assert result.auc == 1.0 and result.accuracy == 1.0
    assert result.per_example_accuracy.shape == (200,) and result.log_ratio_unlearned.shape == (6, 200)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_identical_distributions_give_chance(seed) -> None:
    u, r = _gaussians(np.random.default_rng(seed), 8, 1000, shift=0.0)
    result = ulira(u, r)
    # measured over seeds 0-2: accuracy 0.487-0.504, AUC 0.482-0.508 (16,000 verdicts each)
    assert abs(result.accuracy - 0.5) < 0.04 and abs(result.auc - 0.5) < 0.04


def test_a_known_shift_gives_about_the_bayes_accuracy() -> None:
    # two unit Gaussians one sd apart: the best possible accuracy is Phi(1/2) = 0.691; K = 16 shadows
    # estimate each mean from 15 values, which costs a little (measured for seeds 0-2: 0.688-0.691,
    # AUC 0.751-0.752)
    u, r = _gaussians(np.random.default_rng(0), 16, 1000, shift=1.0)
    result = ulira(u, r)
    assert norm.cdf(0.5) - 0.03 < result.accuracy <= norm.cdf(0.5) + 0.01
    assert 0.70 < result.auc < 0.80  # Bayes AUC Phi(1/sqrt 2) = 0.760


def test_the_statistic_is_logit_scaled_confidence() -> None:
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 60.0, 0.0], [1.0, 1.0, 1.0]])
    labels = np.array([0, 1, 2])
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    got = logit_scaled_confidence(logits, labels)
    assert got[0] == pytest.approx(np.log(p[0, 0] / (1 - p[0, 0])), abs=1e-12)
    assert got[2] == pytest.approx(np.log(0.5), abs=1e-12)
    assert got[1] == pytest.approx(60.0 - np.log(2.0), abs=1e-9)  # finite where 1 - p rounds to 0
    # a batch of models keeps its leading axis
    assert logit_scaled_confidence(np.stack([logits, logits]), labels).shape == (2, 3)


def test_log_ratio_and_auc_helpers() -> None:
    x = np.array([0.0, 1.0])
    expected = norm.logpdf(x, 1.0, 2.0) - norm.logpdf(x, 0.0, 0.5)
    assert gaussian_log_ratio(x, 1.0, 2.0, 0.0, 0.5) == pytest.approx(expected, abs=1e-12)
    assert roc_auc([3, 4], [1, 2]) == 1.0 and roc_auc([1, 2], [3, 4]) == 0.0 and roc_auc([1], [1]) == 0.5


def test_bad_inputs_say_what_is_wrong() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(MubenchError, match="at least 3 unlearned and 3 retrained"):
        ulira(rng.random((2, 5)), rng.random((2, 5)))
    with pytest.raises(MubenchError, match="same shape"):
        ulira(rng.random((3, 5)), rng.random((4, 5)))
    with pytest.raises(MubenchError, match="non-finite"):
        ulira(np.full((3, 2), np.nan), rng.random((3, 2)))
    with pytest.raises(MubenchError, match="labels must have shape"):
        logit_scaled_confidence(rng.random((4, 3)), np.array([0, 1]))
    with pytest.raises(MubenchError, match="integer class ids"):
        logit_scaled_confidence(rng.random((2, 3)), np.array([0, 3]))


def test_from_logits_matches_the_statistic_path() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(4, size=50)
    u, r = rng.normal(size=(5, 50, 4)), rng.normal(size=(5, 50, 4))
    a = ulira_from_logits(u, r, labels)
    b = ulira(logit_scaled_confidence(u, labels), logit_scaled_confidence(r, labels))
    assert a.accuracy == b.accuracy and a.auc == b.auc


def test_the_evaluate_module(tmp_path, monkeypatch) -> None:
    import evaluate

    from mubench_hf.resources import metric_path

    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")
    monkeypatch.setattr(evaluate.config, "HF_EVALUATE_OFFLINE", True)
    rng = np.random.default_rng(4)
    labels = rng.integers(3, size=40)
    u, r = rng.normal(size=(4, 40, 3)), rng.normal(size=(4, 40, 3))
    u[:, np.arange(40), labels] += 8.0  # the unlearned models are still confident on Df
    module = evaluate.load(metric_path("ulira"), cache_dir=str(tmp_path))
    out = module.compute(
        unlearned_logits=u.transpose(1, 0, 2).tolist(), retrained_logits=r.transpose(1, 0, 2).tolist(),
        references=labels.tolist(),
    )  # fmt: skip
    expected = ulira_from_logits(u, r, labels)
    assert out["ulira_accuracy"] == pytest.approx(expected.accuracy) and out["ulira_auc"] > 0.95


@pytest.mark.slow
def test_ulira_on_digits_through_the_sweep_machinery(tmp_path) -> None:
    """Three shadows of grad ascent on digits_del5 (3 base + 3 retrain trainings, 3 unlearning runs)."""
    from mubench_hf.cli.ulira import main

    out = tmp_path / "ulira"
    code = main([
        "--task", "digits", "--method", "grad_ascent", "--shadows", "3", "--output", str(out),
        "--base-recipe", json.dumps({"num_train_epochs": 3}), "--no-progress",
    ])  # fmt: skip
    assert code == 0
    result = json.loads((out / "ulira" / "digits_del5" / "grad_ascent" / "ulira.json").read_text())
    assert result["ulira_shadows"] == 3 and result["ulira_examples"] == 62 and result["seeds"] == [0, 1, 2]
    assert 0.0 <= result["ulira_accuracy"] <= 1.0 and 0.0 <= result["ulira_auc"] <= 1.0
    # three shadows: only epsilon < 0.5 scores (buckets up to ceil(log 2) = 1), so F may be 0 on digits
    assert 0.0 <= result["epsilon_forgetting_quality"] <= 1.0 and result["epsilon_protocol"] == "official"
    assert result["epsilon_attacks"] == ["single_threshold", "double_threshold"]
    assert result["shadow_trainings"] == 6 and result["shadow_base_train_s"] > 0
    # the same folder scores again without training
    assert main(["--from-sweep", str(out), "--config", "digits_del5", "--method", "grad_ascent"]) == 0
