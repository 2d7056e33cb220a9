"""The unlearning report: one pass per split, every metric, the anchor, the retrain reference, the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub import ModelCard
from trainer_testlib import accuracy, quiet_args
from transformers import AutoModelForImageClassification

from mubench_hf import MubenchError
from mubench_hf.evaluation import RESULTS_FILE, load_predictions, save_predictions
from mubench_hf.hub.cards import read_provenance, read_results, render_model_card
from mubench_hf.kinds.classification import prepare_splits
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def trainer_for(model_dir: Path, raw, out: Path, method: str = "grad_ascent", **hyper) -> UnlearnTrainer:
    model = AutoModelForImageClassification.from_pretrained(model_dir)
    splits = prepare_splits(raw, "digits", model)
    args = UnlearnConfig(method=method, **quiet_args(out, per_device_train_batch_size=32, **hyper))
    return UnlearnTrainer(model=model, args=args, splits=splits)


def test_report_after_unlearning(digits_base_model_dir, digits_del5, tmp_path) -> None:
    original = AutoModelForImageClassification.from_pretrained(digits_base_model_dir)
    original_splits = prepare_splits(digits_del5, "digits", original)
    original_test = accuracy(original, original_splits["test"])

    trainer = trainer_for(digits_base_model_dir, digits_del5, tmp_path, learning_rate=1e-3, max_steps=4)
    trainer.train()
    report = trainer.evaluate_unlearning()
    splits = trainer.report_splits()
    # accuracies are those of the unlearned model, measured directly
    for name in ("forget", "retain", "validation", "test"):
        assert report[f"{name}_accuracy"] == pytest.approx(accuracy(trainer.model, splits[name]), abs=1e-9)
    # the anchor is the original model's test accuracy, measured before unlearning (no card here)
    assert report["original_test_accuracy"] == pytest.approx(original_test, abs=1e-9)
    assert 0.0 <= report["mubench_score"] <= 1.0
    assert 0.0 <= report["zrf"] <= 1.0 and 0.0 <= report["mia_efficacy"] <= 1.0
    assert report["unlearn_time_s"] > 0
    # written as a flat JSON dict, with the logits beside it
    assert json.loads((tmp_path / RESULTS_FILE).read_text()) == pytest.approx(report)
    predictions, meta = load_predictions(tmp_path / "predictions.npz")
    assert meta["config"] == "digits_del5" and meta["method"] == "grad_ascent"
    assert predictions["forget"].logits.shape == (62, 10)
    assert sorted(predictions["forget"].sample_ids.tolist()) == sorted(digits_del5["forget"]["sample_id"])

    # evaluate() outside training carries the report too (prefixed), besides the usual eval loss
    metrics = trainer.evaluate()
    assert metrics["eval_forget_accuracy"] == pytest.approx(report["forget_accuracy"])
    assert "eval_loss" in metrics and "eval_mubench_score" in metrics


def test_identical_reference_gives_zero_gap(digits_base_model_dir, digits_del5, tmp_path) -> None:
    trainer = trainer_for(digits_base_model_dir, digits_del5, tmp_path / "run")
    same = tmp_path / "same_model"  # the model itself as the reference (its weights, no predictions file)
    trainer.model.save_pretrained(same)
    report = trainer.evaluate_unlearning(retrain=same, original_test_accuracy=0.9)
    assert report["gap_to_retrain"] == pytest.approx(0.0, abs=1e-12)
    assert report["forget_quality"] == pytest.approx(1.0)
    assert report["retrain_forget_accuracy"] == report["forget_accuracy"]
    assert report["original_test_accuracy"] == 0.9
    # the saved predictions of that run serve as a reference too, and give the same numbers
    again = trainer.evaluate_unlearning(
        retrain=tmp_path / "run" / "predictions.npz", original_test_accuracy=0.9
    )
    assert again["gap_to_retrain"] == pytest.approx(0.0, abs=1e-12)


def test_anchor_comes_from_the_base_models_card(digits_base_model_dir, digits_del5, tmp_path) -> None:
    carded = tmp_path / "base"
    shutil.copytree(digits_base_model_dir, carded)
    card = render_model_card(
        "base", task="digits", dataset_repo="mubench", dataset_hash=None, backbone="resnet", recipe={},
        seed=0, results={"test_accuracy": 0.5, "validation_accuracy": 0.6}, model_name="base",
    )  # fmt: skip
    card.save(str(carded / "README.md"))
    trainer = trainer_for(carded, digits_del5, tmp_path / "run", learning_rate=1e-3, max_steps=1)
    trainer.train()
    assert trainer.original_test_accuracy == 0.5
    assert trainer.evaluate_unlearning()["original_test_accuracy"] == 0.5


def test_reference_for_another_config_is_refused(digits_base_model_dir, digits_del5, digits_class3, tmp_path):
    other = trainer_for(digits_base_model_dir, digits_class3, tmp_path / "class3")
    other.evaluate_unlearning(original_test_accuracy=0.9)
    trainer = trainer_for(digits_base_model_dir, digits_del5, tmp_path / "del5")
    with pytest.raises(MubenchError, match="reference is for config 'digits_class3'.*'digits_del5'"):
        trainer.evaluate_unlearning(retrain=tmp_path / "class3", original_test_accuracy=0.9)
    # without the config recorded, the sample ids still tell them apart
    predictions, _ = load_predictions(tmp_path / "class3" / "predictions.npz")
    save_predictions(tmp_path / "anonymous.npz", predictions, {})
    with pytest.raises(MubenchError, match="different task or config"):
        trainer.evaluate_unlearning(retrain=tmp_path / "anonymous.npz", original_test_accuracy=0.9)
    with pytest.raises(MubenchError, match="is not a predictions file, nor a folder"):
        trainer.evaluate_unlearning(retrain=tmp_path, original_test_accuracy=0.9)


def test_report_needs_the_test_split(digits_base_model_dir, digits_del5, tmp_path) -> None:
    model = AutoModelForImageClassification.from_pretrained(digits_base_model_dir)
    splits = prepare_splits(digits_del5, "digits", model)
    args = UnlearnConfig(method="grad_ascent", **quiet_args(tmp_path))
    trainer = UnlearnTrainer(
        model=model, args=args, forget_dataset=splits["forget"], retain_dataset=splits["retain"]
    )
    with pytest.raises(MubenchError, match="needs the test split"):
        trainer.evaluate_unlearning()
    report = trainer.evaluate_unlearning(splits={"test": splits["test"]}, original_test_accuracy=0.9)
    assert np.isfinite(report["knowledge_gap"])


def test_the_card_is_made_from_the_report_handed_over(digits_base_model_dir, digits_del5, tmp_path) -> None:
    model = AutoModelForImageClassification.from_pretrained(digits_base_model_dir)
    args = UnlearnConfig(method="grad_ascent", **quiet_args(tmp_path))
    trainer = UnlearnTrainer(
        model=model, args=args, splits=prepare_splits(digits_del5, "digits", model), dataset_repo="org/splits"
    )
    report = trainer.evaluate_unlearning(original_test_accuracy=0.9)
    (tmp_path / RESULTS_FILE).unlink()  # the card never reads the report back from disk

    trainer.create_model_card(model_name="unlearned")  # the report this trainer returned last
    card = ModelCard.load(tmp_path / "README.md")
    assert read_results(card)["forget_accuracy"] == pytest.approx(report["forget_accuracy"])
    assert read_provenance(card)["dataset"] == "org/splits"  # the repo given to the trainer

    trainer.create_model_card(report={**report, "forget_accuracy": 0.125})  # a report handed over
    assert read_results(ModelCard.load(tmp_path / "README.md"))["forget_accuracy"] == 0.125
