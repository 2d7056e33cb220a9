"""``mubench unlearn`` on a deletion repo written by the split builder."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from safetensors.torch import load_file

from mubench_hf.cli import main as mubench
from mubench_hf.cli.unlearn import RUN_FILE, main
from mubench_hf.errors import MubenchError
from mubench_hf.evaluation import RESULTS_FILE

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QUIET = ["--use_cpu", "true", "--report_to", "none", "--disable_tqdm", "true", "--save_strategy", "no"]


def common(repo, model_dir, cache) -> list[str]:
    return [
        "--dataset",
        str(repo),
        "--model",
        str(model_dir),
        "--cache_dir",
        str(cache),
        "--config",
        "digits_del5",
    ]


def test_unlearn_writes_model_and_results(digits_repo, digits_base_model_dir, tmp_path):
    out = tmp_path / "out"
    argv = common(digits_repo, digits_base_model_dir, tmp_path / "cache")
    argv += ["--output_dir", str(out), *"--method grad_ascent --max_steps 3 --learning_rate 1e-3".split()]
    assert main(argv + QUIET) == 0
    results = json.loads((out / RUN_FILE).read_text())
    assert results["method"] == "grad_ascent" and results["status"] == "done"
    assert results["task"] == "digits" and results["global_step"] == 3
    report = json.loads((out / RESULTS_FILE).read_text())
    accuracies = {k: report[f"{k}_accuracy"] for k in ("forget", "retain", "validation", "test")}
    assert all(0.0 <= v <= 1.0 for v in accuracies.values())
    assert accuracies["test"] > 0.8
    assert {"knowledge_gap", "zrf", "mia_efficacy", "mubench_score", "unlearn_time_s"} <= set(report)
    assert 0.0 <= report["mubench_score"] <= 1.0 and report["unlearn_time_s"] > 0
    card = (out / "README.md").read_text()
    assert "method: grad_ascent" in card and "mubench_score" in card
    assert (out / "model.safetensors").is_file() and (out / "config.json").is_file()


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_unlearn_reads_an_arguments_file_with_method_flags(
    suffix, digits_repo, digits_base_model_dir, tmp_path
):
    out = tmp_path / "out"
    values = dict(
        dataset=str(digits_repo),
        config="digits_del5",
        model=str(digits_base_model_dir),
        cache_dir=str(tmp_path / "cache"),
        method="salun",
        mask_ratio=0.3,
        output_dir=str(out),
        max_steps=2,
        use_cpu=True,
        report_to="none",
        disable_tqdm=True,
        save_strategy="no",
    )
    path = tmp_path / f"args{suffix}"
    path.write_text(yaml.safe_dump(values) if suffix == ".yaml" else json.dumps(values))
    assert main([str(path)]) == 0
    results = json.loads((out / RUN_FILE).read_text())
    assert results["method"] == "salun" and results["arguments"]["mask_ratio"] == 0.3


def test_diverging_run_exits_1_and_keeps_finite_weights(digits_repo, digits_base_model_dir, tmp_path, capsys):
    out = tmp_path / "out"
    argv = common(digits_repo, digits_base_model_dir, tmp_path / "cache")
    argv += ["--output_dir", str(out), *"--method grad_ascent --max_steps 300 --learning_rate 1e36".split()]
    assert main(argv + QUIET) == 1
    assert "non-finite loss" in capsys.readouterr().err
    results = json.loads((out / RUN_FILE).read_text())
    assert results["status"] == "stopped" and results["failed_step"] >= 1
    saved = load_file(str(out / "model.safetensors"))
    assert all(torch.isfinite(t).all() for t in saved.values())


def test_unknown_method_through_the_dispatcher(digits_repo, digits_base_model_dir, tmp_path, capsys):
    argv = common(digits_repo, digits_base_model_dir, tmp_path / "cache")
    argv += ["--method", "forget_everything", "--output_dir", str(tmp_path / "out")]
    assert mubench(["unlearn", *argv, *QUIET]) == 1
    err = capsys.readouterr().err
    assert "unknown unlearning method 'forget_everything'" in err and "grad_ascent" in err
    assert not (tmp_path / "out").exists()


def test_a_model_for_another_label_set_is_refused(digits_repo, tmp_path):
    from transformers import AutoModelForImageClassification, ResNetConfig

    five = AutoModelForImageClassification.from_config(ResNetConfig(num_channels=1, num_labels=5))
    five.save_pretrained(tmp_path / "five")
    argv = common(digits_repo, tmp_path / "five", tmp_path / "cache")
    argv += ["--method", "finetune", "--output_dir", str(tmp_path / "out")]
    with pytest.raises(MubenchError, match="predicts 5 classes but task 'digits' has 10"):
        main(argv + QUIET)
    assert not (tmp_path / "out").exists()
