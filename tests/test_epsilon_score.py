"""The NeurIPS'23 challenge score: epsilon from attack rates, the binning, the utility product, the
logistic fit against scikit-learn, the module, and reading a sweep's per-cell outputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mubench_hf import MubenchError
from mubench_hf.evaluation.predictions import SplitPredictions, save_predictions
from mubench_hf.evidence.sweep_outputs import cell_folder, sweep_outputs
from mubench_hf.metrics.epsilon_score import (
    bin_scores,
    epsilon_score,
    example_epsilon,
    fit_logistic_1d,
    forgetting_quality,
    logistic_attack_rates,
    output_statistic,
    threshold_attack_rates,
)


def test_identical_distributions_give_small_epsilon_and_a_high_score() -> None:
    rng = np.random.default_rng(0)
    same = rng.normal(size=(64, 300))
    result = forgetting_quality(same, same.copy())
    # the very same outputs: no threshold separates them; the logistic attack's 10 % held-out rows are a
    # small sample and give a few examples a small epsilon (measured F 0.993-0.995, median 0, seeds 0-2)
    assert np.median(result.epsilons) == 0.0 and result.forgetting_quality > 0.95
    # two draws of one distribution: the best of 128 thresholds overfits a little with 64 models
    # (measured median epsilon 0.86-0.99, F 0.47-0.49 over seeds 0-2)
    drawn = forgetting_quality(rng.normal(size=(64, 300)), rng.normal(size=(64, 300)))
    assert np.median(drawn.epsilons) < 1.5 and drawn.forgetting_quality > 0.35
    assert drawn.attacks == ("threshold", "logistic")


def test_separable_distributions_give_infinite_epsilon_and_the_lowest_score() -> None:
    rng = np.random.default_rng(1)
    result = forgetting_quality(rng.normal(10, 1, (16, 50)), rng.normal(0, 1, (16, 50)))
    assert np.all(np.isinf(result.epsilons))
    assert result.forgetting_quality == pytest.approx(2.0 / 2**13)  # the last of 13 bins


def test_epsilon_from_rates_follows_the_challenge_rule() -> None:
    delta = 0.01
    assert example_epsilon([0.0], [0.0]) == math.inf  # a perfect attack
    fpr, fnr = 0.1, 0.3
    expected = max(math.log(1 - delta - fpr) - math.log(fnr), math.log(1 - delta - fnr) - math.log(fpr))
    assert example_epsilon([fpr], [fnr]) == pytest.approx(expected)
    assert example_epsilon([0.0, fpr], [0.4, fnr]) == pytest.approx(expected)  # one rate 0: discarded
    assert example_epsilon([0.5], [0.5]) == 0.0  # a coin flip: the maximum starts at 0
    with pytest.raises(MubenchError, match="one entry per attack"):
        example_epsilon([0.1, 0.2], [0.1])
    with pytest.raises(MubenchError, match=r"in \[0, 1\]"):
        example_epsilon([1.5], [0.1])


def test_bins_halve_the_score_every_half_epsilon() -> None:
    scores = bin_scores([0.0, 0.49, 0.5, 1.2, 5.99, 6.0, math.inf])
    assert scores.tolist() == [1.0, 1.0, 0.5, 0.25, 2 / 2**12, 2 / 2**13, 2 / 2**13]
    with pytest.raises(MubenchError, match=">= 0"):
        bin_scores([-1.0])


def test_threshold_attack_rates() -> None:
    fpr, fnr = threshold_attack_rates([2.0, 3.0], [0.0, 1.0])
    # thresholds at 0, 1, 2, 3: "unlearned above t"
    assert fpr.tolist() == [0.5, 0.0, 0.0, 0.0] and fnr.tolist() == [0.0, 0.0, 0.5, 1.0]


def test_the_logistic_fit_matches_scikit_learn() -> None:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(2)
    y = np.array([0] * 12 + [1] * 12)
    x = rng.normal(size=(30, 24)) * rng.uniform(0.1, 20, (30, 1))
    x[:, 12:] += rng.uniform(0, 4, (30, 1))
    w, b = fit_logistic_1d(x, y)
    for i in range(30):
        reference = LogisticRegression(tol=1e-10, max_iter=10_000).fit(x[i][:, None], y)
        assert w[i] == pytest.approx(reference.coef_[0, 0], abs=1e-5)  # measured error < 1e-6
        assert b[i] == pytest.approx(reference.intercept_[0], abs=1e-5)
    fpr, fnr = logistic_attack_rates(rng.normal(5, 1, (20, 3)), rng.normal(0, 1, (20, 3)))
    assert fpr.shape == (3,) and np.all(fpr + fnr < 0.5)


def test_the_score_multiplies_the_utility_ratios() -> None:
    rng = np.random.default_rng(3)
    u, r = rng.normal(size=(12, 40)), rng.normal(size=(12, 40))
    result = epsilon_score(
        u, r, retain_accuracy_unlearned=[0.9, 0.8], retain_accuracy_retrained=[1.0, 1.0],
        test_accuracy_unlearned=[0.5], test_accuracy_retrained=[0.8],
    )  # fmt: skip
    quality = forgetting_quality(u, r).forgetting_quality
    assert result.retain_ratio == pytest.approx(0.85) and result.test_ratio == pytest.approx(0.625)
    assert result.score == pytest.approx(quality * 0.85 * 0.625)
    with pytest.raises(MubenchError, match="ratio is undefined"):
        epsilon_score(u, r, retain_accuracy_unlearned=[1.0], retain_accuracy_retrained=[0.0],
                      test_accuracy_unlearned=[1.0], test_accuracy_retrained=[1.0])  # fmt: skip


def test_bad_inputs_say_what_is_wrong() -> None:
    rng = np.random.default_rng(4)
    with pytest.raises(MubenchError, match="same shape"):
        forgetting_quality(rng.random((3, 4)), rng.random((4, 4)))
    with pytest.raises(MubenchError, match="at least 2 unlearned"):
        forgetting_quality(rng.random((1, 4)), rng.random((1, 4)))
    with pytest.raises(MubenchError, match="logistic attack needs at least 10"):
        forgetting_quality(rng.random((4, 4)), rng.random((4, 4)), attacks=["logistic"])
    with pytest.raises(MubenchError, match="subset of"):
        forgetting_quality(rng.random((4, 4)), rng.random((4, 4)), attacks=["svm"])
    with pytest.raises(MubenchError, match="statistic must be one of"):
        output_statistic(rng.random((2, 3)), statistic="entropy")


def test_output_statistics() -> None:
    logits = np.array([[2.0, 0.0], [0.0, 0.0]])
    lse = np.log(np.exp(2.0) + 1.0)
    assert output_statistic(logits).tolist() == pytest.approx([lse - 2.0, math.log(2.0)])
    assert output_statistic(logits, np.array([1, 0]), "loss").tolist() == pytest.approx([lse, math.log(2.0)])


def test_the_evaluate_module(tmp_path, monkeypatch) -> None:
    import evaluate

    from mubench_hf.resources import metric_path

    monkeypatch.setenv("HF_EVALUATE_OFFLINE", "1")
    monkeypatch.setattr(evaluate.config, "HF_EVALUATE_OFFLINE", True)
    rng = np.random.default_rng(5)
    u, r = rng.normal(size=(4, 30, 3)), rng.normal(size=(4, 30, 3))
    module = evaluate.load(metric_path("epsilon_score"), cache_dir=str(tmp_path))
    accuracies = dict(retain_accuracy_unlearned=[0.9] * 4, retain_accuracy_retrained=[0.9] * 4,
                      test_accuracy_unlearned=[0.8] * 4, test_accuracy_retrained=[0.8] * 4)  # fmt: skip
    out = module.compute(unlearned_logits=u.transpose(1, 0, 2).tolist(),
                         retrained_logits=r.transpose(1, 0, 2).tolist(), references=[0] * 30, **accuracies)  # fmt: skip
    expected = forgetting_quality(output_statistic(u), output_statistic(r)).forgetting_quality
    assert out["epsilon_score"] == pytest.approx(expected) and out["epsilon_test_ratio"] == 1.0
    with pytest.raises(ValueError, match="one accuracy per model"):
        module.compute(unlearned_logits=u.transpose(1, 0, 2).tolist(),
                       retrained_logits=r.transpose(1, 0, 2).tolist(), references=[0] * 30)  # fmt: skip


def _fake_cell(root, seed, method, forget_logits, ids, labels):
    folder = cell_folder(root, "digits_del5", seed, method)
    folder.mkdir(parents=True)
    order = np.random.default_rng(seed).permutation(len(ids))  # cells may store rows in any order
    predictions = {
        "forget": SplitPredictions(forget_logits[order], labels[order], ids[order]),
        "retain": SplitPredictions(np.eye(3)[[0, 1, 2, 0]], np.array([0, 1, 2, 1])),  # 3 of 4 right
        "test": SplitPredictions(np.eye(3)[[0, 1]], np.array([0, 1])),
    }
    save_predictions(folder / "predictions.npz", predictions, {"config": "digits_del5"})


def test_sweep_outputs_stack_cells_over_seeds_aligned_by_sample_id(tmp_path) -> None:
    rng = np.random.default_rng(6)
    ids, labels = np.array([7, 3, 5]), np.array([0, 1, 2])
    expected = {}
    for seed in (0, 1, 2):
        for method in ("salun", "retrain"):
            logits = rng.normal(size=(3, 3))
            _fake_cell(tmp_path, seed, method, logits, ids, labels)
            expected[seed, method] = logits[np.argsort(ids)]
    stacked = sweep_outputs(tmp_path, "digits_del5", "salun")
    assert stacked.seeds == (0, 1, 2) and stacked.sample_ids.tolist() == [3, 5, 7]
    assert stacked.labels.tolist() == [1, 2, 0]
    assert np.allclose(stacked.unlearned_logits[1], expected[1, "salun"])
    assert np.allclose(stacked.retrained_logits[2], expected[2, "retrain"])
    assert (
        stacked.retain_accuracy_unlearned.tolist() == [0.75] * 3
        and stacked.test_accuracy_retrained.tolist() == [1.0] * 3
    )
    with pytest.raises(MubenchError, match="no finished 'scrub' and 'retrain' cells"):
        sweep_outputs(tmp_path, "digits_del5", "scrub")
    with pytest.raises(MubenchError, match="has not finished"):
        sweep_outputs(tmp_path, "digits_del5", "salun", seeds=[0, 9])

    from mubench_hf.evidence.ulira_shadows import score_sweep

    result = score_sweep(tmp_path, "digits_del5", "salun")
    assert result["ulira_shadows"] == 3 and result["ulira_examples"] == 3
    assert (tmp_path / "ulira" / "digits_del5" / "salun" / "ulira.json").is_file()
