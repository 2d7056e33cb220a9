"""A bounded classification report (``max_eval_rows``): each split scored on a seeded sample, the same rows for
the unlearned, original and retrain models, recorded in ``unlearning_results.json`` and said once; and the
reference models' logits computed once per process (and once per sweep folder on disk), keyed by the
model's content; progress bars on a terminal only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from trainer_testlib import accuracy, quiet_args
from transformers import AutoModelForImageClassification

from mubench_hf import MubenchError
from mubench_hf.evaluation import RESULTS_FILE, load_predictions
from mubench_hf.evaluation.eval_sample import sample_positions, sample_splits
from mubench_hf.kinds import reference_cache
from mubench_hf.kinds.classification import prepare_splits, reference_outputs
from mubench_hf.kinds.reference_cache import rows_sha256
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SPLITS = ("forget", "retain", "validation", "test")


def trainer_for(model_dir: Path, raw, out: Path, **args) -> UnlearnTrainer:
    model = AutoModelForImageClassification.from_pretrained(model_dir)
    splits = prepare_splits(raw, "digits", model)
    config = UnlearnConfig(method="finetune", **quiet_args(out, **args))
    return UnlearnTrainer(model=model, args=config, splits=splits)


@pytest.fixture
def reference_passes(monkeypatch) -> list[str]:
    """Every pass of a reference model over a split (a forward over its rows), by split name."""
    passes: list[str] = []
    real = reference_outputs.logits_of_model

    def counted(trainer, model, dataset, split="the"):
        passes.append(split)
        return real(trainer, model, dataset, split)

    monkeypatch.setattr(reference_outputs, "logits_of_model", counted)
    return passes


def other_weights(source: Path, target: Path, scale: float) -> None:
    """``source``'s model with every weight scaled, saved in ``target``."""
    model = AutoModelForImageClassification.from_pretrained(source)
    for parameter in model.parameters():
        parameter.data.mul_(scale)
    model.save_pretrained(target)


def expected_sample(raw, name: str, rows: int, seed: int = 0) -> np.ndarray:
    """The sample ids a bound of ``rows`` keeps from split ``name`` (positions drawn by the split's stream)."""
    ids = np.asarray(raw[name]["sample_id"], dtype=np.int64)
    return ids[sample_positions(len(ids), rows, seed, name)]


@pytest.mark.usefixtures("fresh_reference_cache")
def test_max_eval_rows_scores_the_same_seeded_rows_for_every_model_and_records_them(
    digits_base_model_dir, digits_del5, tmp_path, capsys
) -> None:
    retrain = tmp_path / "retrain"  # the base model's weights as the retrain folder (no predictions.npz)
    shutil.copytree(digits_base_model_dir, retrain)
    (retrain / "predictions.npz").unlink(missing_ok=True)
    trainer = trainer_for(digits_base_model_dir, digits_del5, tmp_path / "run", max_eval_rows=20)
    capsys.readouterr()
    report = trainer.evaluate_unlearning(retrain=retrain)

    sample = report["eval_sample"]
    assert sample["max_eval_rows"] == 20 and sample["seed"] == 0
    predictions, _ = load_predictions(tmp_path / "run" / "predictions.npz")
    for name in SPLITS:
        ids = expected_sample(digits_del5, name, 20)
        assert sample["splits"][name] == {
            "rows": 20,
            "of": len(digits_del5[name]),
            "sample_ids_sha256": rows_sha256(ids),
        }
        assert predictions[name].sample_ids.tolist() == ids.tolist()
    # the unlearned model's accuracy is its accuracy on exactly those rows ...
    splits = trainer.report_splits()
    forget_positions = sample_positions(len(digits_del5["forget"]), 20, 0, "forget")
    sampled_forget = splits["forget"].select(forget_positions)
    assert report["forget_accuracy"] == pytest.approx(accuracy(trainer.model, sampled_forget), abs=1e-12)
    # ... and the original and retrain models (the same weights) scored the same rows: no gap at all
    base = AutoModelForImageClassification.from_pretrained(digits_base_model_dir)
    assert report["original_forget_accuracy"] == pytest.approx(accuracy(base, sampled_forget), abs=1e-12)
    assert report["retrain_forget_accuracy"] == report["forget_accuracy"]
    assert report["gap_to_retrain"] == pytest.approx(0.0, abs=1e-12)
    assert report["forget_quality"] == pytest.approx(1.0)
    # recorded in the results file, said once on the console
    assert json.loads((tmp_path / "run" / RESULTS_FILE).read_text())["eval_sample"] == sample
    said = capsys.readouterr().err
    assert said.count("max_eval_rows=20") == 1, said
    assert "forget 20/62" in said


def test_a_reference_made_on_full_splits_serves_a_bounded_report(
    digits_base_model_dir, digits_del5, tmp_path
) -> None:
    full = trainer_for(digits_base_model_dir, digits_del5, tmp_path / "full")
    full.evaluate_unlearning(original_test_accuracy=0.9)  # predictions.npz over every row
    bounded = trainer_for(digits_base_model_dir, digits_del5, tmp_path / "bounded", max_eval_rows=15)
    report = bounded.evaluate_unlearning(
        retrain=tmp_path / "full" / "predictions.npz", original_test_accuracy=0.9
    )
    # the reference's rows are cut to the report's sample (by sample id): the same model, no gap
    assert report["gap_to_retrain"] == pytest.approx(0.0, abs=1e-12)
    assert report["retrain_test_accuracy"] == report["test_accuracy"]


def test_samples_are_seeded_per_split_and_bounded_values_are_refused(digits_del5) -> None:
    splits = {name: digits_del5[name] for name in (*SPLITS, "train")}
    cut, record = sample_splits(splits, 30, seed=5)
    again, _ = sample_splits({"forget": digits_del5["forget"]}, 30, seed=5)  # other splits absent
    assert cut["forget"]["sample_id"] == again["forget"]["sample_id"]  # a split's own stream
    other, _ = sample_splits(splits, 30, seed=6)
    assert cut["forget"]["sample_id"] != other["forget"]["sample_id"]
    assert len(cut["train"]) == len(digits_del5["train"]) and "train" not in record["splits"]
    # the rows keep their order in the split
    assert list(cut["retain"]["sample_id"]) == expected_sample(digits_del5, "retain", 30, seed=5).tolist()
    whole, record = sample_splits(splits, 10_000)
    assert all(len(whole[n]) == len(splits[n]) for n in splits)
    assert all(r["rows"] == r["of"] for r in record["splits"].values())
    assert sample_splits(splits, None) == (splits, None)
    for bad in (0, -3, 2.5, True, "10"):
        with pytest.raises(MubenchError, match="max_eval_rows must be a positive whole number"):
            sample_splits(splits, bad)
    with pytest.raises(MubenchError, match="max_eval_rows must be a positive whole number"):
        UnlearnConfig(method="finetune", output_dir="unused", max_eval_rows=0)


def test_reference_logits_are_computed_once_per_process_and_once_per_cache_folder(
    digits_base_model_dir, digits_del5, tmp_path, fresh_reference_cache, reference_passes
) -> None:
    retrain = tmp_path / "retrain"  # a model folder without predictions.npz: scored by the report
    other_weights(digits_base_model_dir, retrain, 0.9)

    def cell(name: str, **args) -> dict:
        trainer = trainer_for(digits_base_model_dir, digits_del5, tmp_path / name, **args)
        return trainer.evaluate_unlearning(retrain=retrain)

    first = cell("cell1")
    # the retrain model on each split, the original model on the forget split (its test accuracy: its card)
    assert sorted(reference_passes) == sorted([*SPLITS, "forget"])
    assert fresh_reference_cache.computed["classification_logits"] == 5
    second = cell("cell2")  # another cell, the same references: nothing computed again
    assert len(reference_passes) == 5
    assert fresh_reference_cache.hits["classification_logits"] == 5
    for key in (
        "retrain_forget_accuracy",
        "retrain_test_accuracy",
        "original_forget_accuracy",
        "gap_to_retrain",
    ):
        assert second[key] == first[key]

    # on disk: a fresh process (memory cleared) with the folder computes nothing
    folder = tmp_path / "report_cache"
    fresh_reference_cache.clear()
    cell("cell3", report_cache_dir=str(folder))
    assert len(reference_passes) == 10 and len(list(folder.glob("*.npz"))) == 5
    fresh_reference_cache.clear()
    fourth = cell("cell4", report_cache_dir=str(folder))
    assert len(reference_passes) == 10 and fresh_reference_cache.computed["classification_logits"] == 0
    assert fourth["retrain_test_accuracy"] == first["retrain_test_accuracy"]

    # the key is the model's content, not its folder name: other weights in the same folder are scored anew
    other_weights(retrain, retrain, 0.5)
    cell("cell5")
    assert (
        len(reference_passes) == 14
    )  # the retrain model's four splits again; the original model's from cache
    # a bounded report scores other rows: computed for them
    cell("cell6", max_eval_rows=10)
    assert len(reference_passes) == 19


def test_progress_bars_show_on_a_terminal_unless_disabled(
    digits_base_model_dir, digits_del5, tmp_path, capsys, monkeypatch
) -> None:
    import sys

    from mubench_hf.kinds.progress import show_progress

    trainer = trainer_for(digits_base_model_dir, digits_del5, tmp_path, disable_tqdm=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert not show_progress(trainer.args)  # not a terminal (a log file, a sweep's worker)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert show_progress(trainer.args)
    trainer.args.disable_tqdm = True
    assert not show_progress(trainer.args)
    trainer.args.disable_tqdm = False
    capsys.readouterr()
    trainer.evaluate_unlearning(original_test_accuracy=0.9)
    bars = capsys.readouterr().err
    for name in SPLITS:
        assert f"scoring {name}" in bars


def test_the_reference_cache_keys_rows_and_content(tmp_path) -> None:
    a = tmp_path / "a"
    a.mkdir()
    (a / "model.safetensors").write_bytes(b"weights")
    (a / "train_results.json").write_text("{}")
    first = reference_cache.folder_digest(a)
    (a / "train_results.json").write_text('{"train_runtime": 3}')  # not the model: same digest
    assert reference_cache.folder_digest(a) == first
    (a / "model.safetensors").write_bytes(b"weights, changed")
    assert reference_cache.folder_digest(a) != first
    assert rows_sha256(np.array([1, 2, 3])) != rows_sha256(np.array([1, 3, 2]))


def test_mubench_evaluate_bounds_the_report_and_reuses_a_full_reference(
    digits_repo, digits_base_model_dir, tmp_path, capsys
) -> None:
    from mubench_hf.cli import main

    out = tmp_path / "scored"
    argv = ["evaluate", "--model", str(digits_base_model_dir), "--dataset", str(digits_repo),
            "--config", "digits_del1", "--output_dir", str(out), "--use_cpu", "--batch_size", "64",
            "--retrain", str(digits_base_model_dir), "--max-eval-rows", "8", "--eval-sample-seed", "3",
            "--cache_dir", str(tmp_path / "cache")]  # fmt: skip
    assert main(argv) == 0
    saved = json.loads((out / RESULTS_FILE).read_text())
    assert saved["eval_sample"]["max_eval_rows"] == 8 and saved["eval_sample"]["seed"] == 3
    assert {r["rows"] for r in saved["eval_sample"]["splits"].values()} == {8}
    # the base model's own predictions.npz (every row) as the reference: the same model, no gap on the sample
    assert saved["gap_to_retrain"] == pytest.approx(0.0, abs=1e-12)
    assert capsys.readouterr().err.count("max_eval_rows=8") == 1


def test_a_sweeps_retrain_row_reads_the_bound_of_its_cells(tmp_path) -> None:
    from mubench_hf.cli.run import bound_reports
    from mubench_hf.sweeps.grid import make_grid
    from mubench_hf.sweeps.runner import make_cell

    values = {"task": "digits", "methods": ["retrain", "finetune"], "ratios": [5], "seeds": [1],
              "output": str(tmp_path / "runs")}  # fmt: skip
    plain = make_grid(values)
    assert make_cell(plain, "digits_del5", 1, "retrain", "s", "b", "r").arguments == {}  # as before
    grid = make_grid({**values, "unlearn_args": {"per_device_train_batch_size": 8}})
    bound_reports(grid, 40)  # mubench run --max-eval-rows 40 on a grid file with its own unlearn_args
    assert grid.unlearn_args == {"per_device_train_batch_size": 8, "max_eval_rows": 40}
    retrain = make_cell(grid, "digits_del5", 1, "retrain", "s", "b", "r")
    finetune = make_cell(grid, "digits_del5", 1, "finetune", "s", "b", "r")
    assert retrain.arguments == {"max_eval_rows": 40} and finetune.arguments["max_eval_rows"] == 40
    assert retrain.report_cache_dir == str(tmp_path / "runs" / ".report_cache")


def test_module_digest_takes_zero_dim_buffers_and_sees_them_change() -> None:
    """BatchNorm's ``num_batches_tracked`` is a 0-dim int64 tensor: hashing a ResNet-like module must not fail
    on it (it did: a 0-dim tensor cannot be viewed as bytes), and a changed buffer changes the digest."""
    import torch

    from mubench_hf.kinds.reference_cache import module_digest

    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    before = module_digest(model)
    model[1].num_batches_tracked += 1
    assert module_digest(model) != before
    assert len(before) == 64
