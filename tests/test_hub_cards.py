"""Model cards: Hub metadata, model-index results, and reading them back (no network)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from huggingface_hub import ModelCard

from mubench_hf import MubenchError
from mubench_hf.hub import read_provenance, read_results, render_model_card

RESULTS = {
    "forget_accuracy": 0.4193548387096774,
    "retain_accuracy": 0.9816,
    "test_accuracy": 0.9611,
    "validation_accuracy": 0.95,
    "mia_efficacy": 0.27,
    "knowledge_gap": 0.61,
    "zrf": 0.83,
    "mubench_score": 0.7012345678901234,
    "gap_to_retrain": 0.123,
    "retrain_forget_accuracy": 0.96,
}


def unlearned_card(**overrides: object) -> ModelCard:
    kwargs: dict = {
        "task": "digits",
        "config": "digits_del5",
        "dataset_repo": "mubench-org/mubench-splits",
        "dataset_hash": "ab" * 32,
        "backbone": "resnet",
        "recipe": {"learning_rate": np.float64(0.01), "num_train_epochs": 2, "output_dir": Path("out")},
        "seed": 3,
        "results": RESULTS,
        "base_model": "mubench-org/mubench-digits-resnet",
        "method": "salun",
        "method_params": {"sparsity": 0.5},
        "unlearn_time_s": 1.25,
        "model_name": "mubench-org/mubench-digits-resnet-salun-del5-seed3",
    }
    kwargs.update(overrides)
    return render_model_card("unlearned", **kwargs)


def test_results_round_trip_through_the_card_text(tmp_path: Path) -> None:
    card = unlearned_card()
    card.save(tmp_path / "README.md")
    loaded = ModelCard.load(tmp_path / "README.md")
    assert read_results(loaded) == RESULTS
    assert read_provenance(loaded) == {
        "kind": "unlearned",
        "task": "digits",
        "config": "digits_del5",
        "dataset": "mubench-org/mubench-splits",
        "dataset_hash": "ab" * 32,
        "backbone": "resnet",
        "method": "salun",
        "method_params": {"sparsity": 0.5},
        "seed": 3,
        "recipe": {"learning_rate": 0.01, "num_train_epochs": 2, "output_dir": "out"},
        "unlearn_time_s": 1.25,
    }


def test_hub_metadata_and_model_index() -> None:
    data = unlearned_card().data
    assert data.base_model == "mubench-org/mubench-digits-resnet"
    assert data.datasets == ["mubench-org/mubench-splits"]
    assert data.tags == ["mubench", "machine-unlearning", "mubench-unlearned"]
    assert (data.library_name, data.pipeline_tag, data.license) == (
        "transformers",
        "image-classification",
        "cc-by-4.0",
    )
    by_metric = {r.metric_type: r for r in data.eval_results}
    assert by_metric["forget_accuracy"].dataset_split == "forget"
    assert by_metric["retain_accuracy"].dataset_split == "retain"
    assert by_metric["test_accuracy"].dataset_split == "test"
    assert by_metric["validation_accuracy"].dataset_split == "validation"
    assert by_metric["retrain_forget_accuracy"].dataset_split == "forget"
    assert by_metric["mubench_score"].dataset_split is None
    result = by_metric["mubench_score"]
    assert (result.task_type, result.dataset_type, result.dataset_config) == (
        "image-classification",
        "mubench-org/mubench-splits",
        "digits_del5",
    )
    assert result.metric_name == "MU-Bench score"
    model_index = unlearned_card().data.to_dict()["model-index"]
    assert model_index[0]["name"] == "mubench-org/mubench-digits-resnet-salun-del5-seed3"


def test_card_body_shows_recipe_method_and_scores() -> None:
    text = unlearned_card().text
    assert "`mubench-org/mubench-digits-resnet` after unlearning the forget set of `digits_del5`" in text
    assert "`salun` with `sparsity=0.5`" in text and "| `learning_rate` | `0.01` |" in text
    assert "| MU-Bench score (`mubench_score`) | — | 0.7012 |" in text
    assert "| Forget accuracy (`forget_accuracy`) | forget | 0.4194 |" in text
    assert (
        'AutoModelForImageClassification.from_pretrained("mubench-org/mubench-digits-resnet-salun-del5-seed3")'
        in text
    )


def test_base_and_retrain_cards() -> None:
    base = render_model_card(
        "base",
        task="imdb",
        dataset_repo="org/splits",
        dataset_hash=None,
        backbone="bert",
        recipe={},
        seed=0,
        results={"test_accuracy": 0.88, "ood_accuracy": None},
        model_name="org/mubench-imdb-bert",
    )
    assert base.data.base_model is None and base.data.pipeline_tag == "text-classification"
    assert read_results(base) == {"test_accuracy": 0.88}  # None = not computed, left out
    assert read_provenance(base)["kind"] == "base" and "AutoModelForSequenceClassification" in base.text
    retrain = render_model_card(
        "retrain",
        task="digits",
        config="digits_class3",
        dataset_repo="org/splits",
        dataset_hash="h",
        backbone="resnet",
        recipe={"lr": 0.1},
        seed=1,
        results={"forget_accuracy": 0.0},
        model_name="org/m",
    )
    assert read_provenance(retrain)["method"] == "retrain" and "mubench-retrain" in retrain.data.tags


def test_invalid_cards_are_refused() -> None:
    with pytest.raises(
        MubenchError, match="unknown model kind 'finetuned'; known kinds: base, retrain, unlearned"
    ):
        render_model_card("finetuned", task="digits", dataset_repo="o/d", dataset_hash=None, backbone="r",
                          recipe={}, seed=0, results={}, model_name="o/m")  # fmt: skip
    with pytest.raises(MubenchError, match="needs method=.*and base_model="):
        unlearned_card(base_model=None)
    with pytest.raises(MubenchError, match="needs config="):
        unlearned_card(config=None)
    with pytest.raises(MubenchError, match="result 'zrf' is nan"):
        unlearned_card(results={"zrf": float("nan")})
    with pytest.raises(MubenchError, match="result 'zrf' is 'high', not a number"):
        unlearned_card(results={"zrf": "high"})
    with pytest.raises(MubenchError, match="unknown task 'nope'"):
        unlearned_card(task="nope")


def test_bootstrap_intervals_fold_into_their_metric_row_and_round_trip(tmp_path: Path) -> None:
    results = {
        **RESULTS,
        "forget_accuracy_ci_low": 0.29,
        "forget_accuracy_ci_high": 0.55,
        "mia_efficacy_lr": 0.3,
    }
    card = unlearned_card(results=results)
    card.save(tmp_path / "README.md")
    loaded = ModelCard.load(tmp_path / "README.md")
    assert read_results(loaded) == results
    splits = {r.metric_type: r.dataset_split for r in loaded.data.eval_results}
    assert splits["forget_accuracy_ci_low"] == "forget" and splits["mia_efficacy_lr"] == "forget"
    rows = [line for line in card.text.splitlines() if line.startswith("| ")]
    forget_rows = [line for line in rows if "`forget_accuracy" in line]
    assert forget_rows == ["| Forget accuracy (`forget_accuracy`) | forget | 0.4194 | 0.2900 – 0.5500 |"]
    assert any(line.startswith("| Test accuracy (`test_accuracy`) | test | 0.9611 | — |") for line in rows)
