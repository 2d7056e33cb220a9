"""``mubench train-base``, ``mubench retrain`` and ``mubench evaluate``; an unlearned model pushed from
``UnlearnTrainer.push_to_hub()`` to the local Hub is ranked by ``mubench leaderboard --hub-author``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from transformers import AutoModelForImageClassification

from mubench_hf.cli import main
from mubench_hf.evaluation import RESULTS_FILE, load_predictions
from mubench_hf.hub import read_results
from mubench_hf.hub.cards import read_provenance
from mubench_hf.kinds.classification import prepare_splits
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer
from tests.hub_server import LocalHub

pytestmark = pytest.mark.usefixtures("one_torch_thread")
FAST = ["--num_train_epochs", "3", "--disable_tqdm", "true", "--use_cpu", "true"]


@pytest.fixture(scope="module")
def trained(digits_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reference_models")
    base, retrain = root / "base", root / "retrain"
    common = ["--dataset", str(digits_repo), "--cache_dir", str(root / "cache")]
    assert (
        main(
            [
                "train-base",
                *common,
                "--task",
                "digits",
                "--model",
                "tiny:resnet",
                "--output_dir",
                str(base),
                *FAST,
            ]
        )
        == 0
    )
    assert main(["retrain", *common, "--config", "digits_del5", "--model", str(base), "--output_dir", str(retrain),
                 "--disable_tqdm", "true"]) == 0  # fmt: skip
    return {"base": base, "retrain": retrain, "repo": digits_repo, "root": root}


def test_base_model_folder_is_hub_ready(trained: dict[str, Path]) -> None:
    base = trained["base"]
    assert {"config.json", "model.safetensors", "README.md", "predictions.npz", "train_results.json"} <= {
        p.name for p in base.iterdir()
    }
    assert not (base / "checkpoints").exists()  # only the chosen weights are left
    model = AutoModelForImageClassification.from_pretrained(base)
    assert model.config.id2label[3] == "3" and model.config.num_labels == 10
    card = ModelCard.load(base / "README.md")
    results = read_results(card)
    predictions, meta = load_predictions(base / "predictions.npz")
    assert results["test_accuracy"] == pytest.approx(predictions["test"].accuracy)
    assert results["validation_accuracy"] == pytest.approx(predictions["validation"].accuracy)
    assert results["test_accuracy"] > 0.8
    info = read_provenance(card)
    assert info["kind"] == "base" and info["recipe"]["num_train_epochs"] == 3.0
    assert {"mubench", "machine-unlearning"} <= set(card.data.tags) and card.data.license == "cc-by-4.0"
    assert meta["kind"] == "base"


def test_retrain_reuses_the_recipe_on_the_retain_split(trained: dict[str, Path]) -> None:
    retrain = trained["retrain"]
    card = ModelCard.load(retrain / "README.md")
    info = read_provenance(card)
    assert info["kind"] == "retrain" and info["config"] == "digits_del5"
    assert info["recipe"]["num_train_epochs"] == 3.0  # the base card's recipe, not the default 8
    assert card.data.base_model is None  # no weights shared with the base model
    predictions, meta = load_predictions(retrain / "predictions.npz")
    assert meta["config"] == "digits_del5" and meta["train_time_s"] > 0
    assert predictions["forget"].logits.shape == (62, 10)
    # it never saw the forget rows: they look like test rows to it
    assert abs(predictions["forget"].accuracy - predictions["test"].accuracy) < 0.1
    assert predictions["retain"].accuracy > predictions["forget"].accuracy - 0.05


def test_evaluate_cli_scores_against_the_reference(trained: dict[str, Path], capsys) -> None:
    out = trained["root"] / "eval_base"
    code = main(["evaluate", "--model", str(trained["base"]), "--dataset", str(trained["repo"]),
                 "--config", "digits_del5", "--retrain", str(trained["retrain"]), "--base-model",
                 str(trained["base"]), "--output_dir", str(out), "--use_cpu"])  # fmt: skip
    assert code == 0
    report = json.loads((out / RESULTS_FILE).read_text())
    card_test = read_results(ModelCard.load(trained["base"] / "README.md"))["test_accuracy"]
    assert report["original_test_accuracy"] == pytest.approx(card_test)
    assert report["test_accuracy"] == pytest.approx(card_test)  # the base model scored against itself
    retrain_predictions, _ = load_predictions(trained["retrain"] / "predictions.npz")
    assert report["retrain_forget_accuracy"] == pytest.approx(retrain_predictions["forget"].accuracy)
    assert report["gap_to_retrain"] >= 0 and 0 <= report["forget_quality"] <= 1
    assert "gap_to_retrain" in capsys.readouterr().out


def test_unlearned_model_pushed_from_the_trainer_is_on_the_leaderboard(
    trained: dict[str, Path], digits_del5, hub_server: LocalHub, tmp_path: Path, capsys
) -> None:
    model = AutoModelForImageClassification.from_pretrained(trained["base"])
    splits = prepare_splits(digits_del5, "digits", model)
    repo_id = "mubench-org/mubench-digits-resnet-grad_ascent-del5-seed42"
    args = UnlearnConfig(
        method="grad_ascent", output_dir=str(tmp_path / "run"), max_steps=3, learning_rate=1e-3,
        report_to="none", use_cpu=True, disable_tqdm=True, hub_model_id=repo_id,
        retrain_reference=str(trained["retrain"]), base_model_id="mubench-org/mubench-digits-resnet",
    )  # fmt: skip
    trainer = UnlearnTrainer(model=model, args=args, splits=splits)
    trainer.train()
    report = trainer.evaluate_unlearning()
    trainer.push_to_hub()
    card = ModelCard.load(repo_id)
    assert card.data.base_model == "mubench-org/mubench-digits-resnet"
    remote = read_results(card)
    assert remote["mubench_score"] == pytest.approx(report["mubench_score"])
    assert remote["gap_to_retrain"] == pytest.approx(report["gap_to_retrain"])
    assert read_provenance(card)["method"] == "grad_ascent"
    assert "unlearning_results.json" in hub_server.files(repo_id, "model")

    assert main(["leaderboard", "--hub-author", "mubench-org", "--output", str(tmp_path / "board")]) == 0
    table = (tmp_path / "board" / "leaderboard.md").read_text()
    assert repo_id in table and "grad_ascent" in table


def test_retrain_starts_where_the_base_started(trained: dict[str, Path], tmp_path: Path) -> None:
    from mubench_hf.hub import render_model_card
    from mubench_hf.reference_models import retrain_start

    assert read_provenance(ModelCard.load(trained["base"] / "README.md"))["recipe"]["init"] == "tiny:resnet"
    assert retrain_start(str(trained["base"])) == (
        str(trained["base"]),
        True,
    )  # fresh weights, same architecture
    finetuned = tmp_path / "finetuned_base"
    finetuned.mkdir()
    render_model_card(
        "base", task="digits", dataset_repo="mubench", dataset_hash=None, backbone="vit", seed=0,
        recipe={"init": "some-org/pretrained-vit", "learning_rate": 5e-5}, results={}, model_name="b",
    ).save(str(finetuned / "README.md"))  # fmt: skip
    assert retrain_start(str(finetuned)) == (
        "some-org/pretrained-vit",
        False,
    )  # the pretrained start, not the base
    # without a mubench base card there is no recorded starting point: fresh weights (from scratch)
    assert retrain_start("some-org/pretrained-vit") == ("some-org/pretrained-vit", True)
    assert retrain_start("tiny:vit") == ("tiny:vit", True)
