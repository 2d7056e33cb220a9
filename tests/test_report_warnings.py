"""Reports say what is wrong, not just a number; the retrain reference is scored by its own rule.

* A base model at chance on its own training data, a MU-Bench score zeroed by a rule, a model utility of 0
  because one component is 0, and a split too small for its metrics each give a warning (``ReportWarning``)
  that names the cause, recorded under ``warnings`` in the report and in ``unlearning_results.json``.
* ``retrain_mubench_score`` is the same whichever method's report it appears in (on today's main it took
  the reported method's allowance: 0.733 beside grad_ascent, 0.0 beside npo for one model).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from transformers import AutoModelForImageClassification

from mubench_hf.evaluation import RESULTS_FILE, evaluate_unlearning
from mubench_hf.kinds.classification import prepare_splits
from mubench_hf.metrics import compute_unlearning_metrics
from mubench_hf.metrics.report_warnings import ReportWarning, report_warnings
from mubench_hf.metrics.score import mubench_score, mubench_score_zero_reason
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

K = 10


def _logits_with_accuracy(labels: np.ndarray, accuracy: float) -> np.ndarray:
    """Logits whose arg-max is right on the first ``accuracy`` share of rows and wrong on the rest."""
    logits = np.zeros((len(labels), K), dtype=np.float32)
    right = int(round(accuracy * len(labels)))
    predicted = np.where(np.arange(len(labels)) < right, labels, (labels + 1) % K)
    logits[np.arange(len(labels)), predicted] = 5.0
    return logits


def _outputs(accuracies: dict[str, float], rows: int = 100) -> tuple[dict, dict]:
    labels = {split: np.arange(rows) % K for split in accuracies}
    return {s: _logits_with_accuracy(labels[s], a) for s, a in accuracies.items()}, labels


def test_the_retrain_reference_is_scored_by_its_own_rule_whatever_the_method() -> None:
    # the retrain model's test accuracy is 30 % below the original's: inside grad_ascent's 40 % allowance,
    # outside the 20 % every other method (and the reference itself) gets
    logits, labels = _outputs({"forget": 0.2, "retain": 0.9, "test": 0.9})
    retrain, _ = _outputs({"forget": 0.1, "retain": 0.9, "test": 0.7})
    scores = {
        method: compute_unlearning_metrics(
            logits,
            labels,
            original_test_accuracy=1.0,
            method=method,
            retrain_logits=retrain,
            bootstrap_resamples=0,
        )  # fmt: skip
        for method in ("grad_ascent", "npo", None)
    }
    assert {s["retrain_mubench_score"] for s in scores.values()} == {0.0}
    # the method's own row keeps its rule: grad_ascent's allowance is 40 %
    assert scores["grad_ascent"]["mubench_score"] == mubench_score(
        test_accuracy=0.9, forget_accuracy=0.2, original_test_accuracy=1.0, num_labels=K, method="grad_ascent"
    )


def test_the_zero_reason_names_the_rule_exactly_when_the_score_is_zero() -> None:
    rng = np.random.default_rng(0)
    for _ in range(500):
        test, forget, original = rng.choice(np.linspace(0.0, 1.0, 21), size=3)
        original = max(original, 0.05)
        for method in ("grad_ascent", "npo"):
            kwargs = dict(test_accuracy=test, forget_accuracy=forget, original_test_accuracy=original,
                          num_labels=K, method=method)  # fmt: skip
            reason = mubench_score_zero_reason(**kwargs)
            assert (reason is not None) == (mubench_score(**kwargs) == 0.0), kwargs
    reason = mubench_score_zero_reason(
        test_accuracy=0.45, forget_accuracy=0.1, original_test_accuracy=0.9, num_labels=K, method="npo"
    )
    assert reason == "test accuracy moved from 0.900 to 0.450, by 50% of the original (MU-Bench allows 20%)"
    reason = mubench_score_zero_reason(
        test_accuracy=0.9, forget_accuracy=0.0, original_test_accuracy=0.9, num_labels=K
    )
    assert reason is not None and "forget accuracy 0.000 is below chance (0.100)" in reason


def test_a_zero_score_and_a_zero_utility_say_why() -> None:
    logits, labels = _outputs({"forget": 0.1, "retain": 0.9, "test": 0.45})
    report = compute_unlearning_metrics(
        logits, labels, original_test_accuracy=0.9, method="npo", bootstrap_resamples=0
    )
    assert report["mubench_score"] == 0.0
    report["original_test_accuracy"] = 0.9  # the report adds its anchor beside the metrics
    found = report_warnings(
        report, kind="classification", split_rows={"forget": 100}, num_labels=K, method="npo"
    )
    assert found == [
        "MU-Bench score is 0 by MU-Bench's zeroing rule: test accuracy moved from 0.900 to 0.450, by 50% of the "
        "original (MU-Bench allows 20%)"
    ]
    generation = {"model_utility": 0.0, "retain_rouge_l": 0.4, "retain_answer_prob": 0.3,
                  "retain_truth_ratio": 0.0, "real_authors_rouge_l": 0.0, "original_model_utility": 0.2}  # fmt: skip
    found = report_warnings(generation, kind="generation", split_rows={})
    assert len(found) == 1
    assert found[0].startswith("model utility is 0 because retain_truth_ratio, real_authors_rouge_l are 0")


def test_splits_too_small_for_their_metrics_are_named() -> None:
    report = {"forget_rouge_l": 0.5, "forget_quality": 0.3, "retain_rouge_l": 0.9, "truth_ratio": None}
    found = report_warnings(report, kind="generation", split_rows={"forget": 4, "retain": 200})
    assert found == [
        "split 'forget' has 4 row(s), fewer than the 10 that forget_rouge_l, forget_quality need to mean "
        "anything (one row moves a rate by 0.25); use a larger deletion ratio or split"
    ]


def test_a_generation_base_that_memorised_nothing_is_named() -> None:
    found = report_warnings(
        {"original_forget_rouge_l": 0.74, "original_test_rouge_l": 0.73}, kind="generation", split_rows={}
    )
    assert len(found) == 1 and "has not memorised its own training data" in found[0] and "0.740" in found[0]
    assert not report_warnings(
        {"original_forget_rouge_l": 0.98, "original_test_rouge_l": 0.45}, kind="generation", split_rows={}
    )


def test_a_base_model_at_chance_is_reported_in_the_results(
    digits_base_model_dir, digits_del5, tmp_path
) -> None:
    """A base model that predicts one class for everything: the report says it learned nothing."""
    from trainer_testlib import quiet_args

    model = AutoModelForImageClassification.from_pretrained(digits_base_model_dir)
    with torch.no_grad():  # every logit equal: arg-max is class 0 for every image
        model.classifier[-1].weight.zero_()
        model.classifier[-1].bias.zero_()
    forget_labels = np.asarray(digits_del5["forget"]["label"])
    assert np.mean(forget_labels == 0) < 0.19  # the forget set is not mostly class 0 (else not "chance")
    splits = prepare_splits(digits_del5, "digits", model)
    args = UnlearnConfig(method="grad_ascent", **quiet_args(tmp_path, max_steps=1))
    trainer = UnlearnTrainer(model=model, args=args, splits=splits)
    with pytest.warns(ReportWarning, match="the base model is at chance on its own training data"):
        report = evaluate_unlearning(
            trainer,
            trainer.report_splits(),
            base_model=model,
            output_dir=tmp_path,
            extra={"method": "grad_ascent"},
        )
    assert any("at chance on its own training data" in w for w in report["warnings"])
    assert json.loads((tmp_path / RESULTS_FILE).read_text())["warnings"] == report["warnings"]
