"""Bad input to the model commands (train-base, retrain, unlearn, evaluate, push): each row is one mistake a
user makes; each must end in a one-line error that names the fix, no traceback, and nothing written.

Every case fails during validation, before any training, so the whole file stays fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_harness import assert_clean_error, run_cli, snapshot

QUIET = ["--use_cpu", "true", "--report_to", "none", "--disable_tqdm", "true"]


@pytest.fixture
def ctx(tmp_path, digits_repo, digits_base_model_dir):
    """Paths the cases refer to: a real repo and model, and broken things made for the case."""
    (tmp_path / "a_file").write_text("not a folder\n")
    (tmp_path / "empty").mkdir()
    corrupt = tmp_path / "corrupt_model"
    corrupt.mkdir()
    for name in ("config.json", "README.md"):
        (corrupt / name).write_bytes((Path(digits_base_model_dir) / name).read_bytes())
    weights = (Path(digits_base_model_dir) / "model.safetensors").read_bytes()
    (corrupt / "model.safetensors").write_bytes(weights[: len(weights) // 3])  # truncated
    (tmp_path / "bad.yaml").write_text("learning_rate: [1e-3\n")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    (tmp_path / "unknown_key.yaml").write_text(
        f"dataset: {digits_repo}\nconfig: digits_del5\nmodel: {digits_base_model_dir}\n"
        f"method: grad_ascent\noutput_dir: {tmp_path / 'out'}\nlerning_rate: 1e-3\n"
    )
    (tmp_path / "eight.yaml").write_text(
        f"dataset: {digits_repo}\ntask: digits\nmodel: tiny:resnet\noutput_dir: {tmp_path / 'out'}\n"
        "num_train_epochs: eight\n"
    )
    return {
        "repo": str(digits_repo),
        "model": str(digits_base_model_dir),
        "out": str(tmp_path / "out"),
        "tmp": tmp_path,
        "cache": str(tmp_path / "cache"),
    }


def _train_base(c, *extra):
    return ["train-base", "--dataset", c["repo"], "--task", "digits", "--model", "tiny:resnet",
            "--output_dir", c["out"], "--cache_dir", c["cache"], *QUIET, *extra]  # fmt: skip


def _retrain(c, *extra):
    return ["retrain", "--dataset", c["repo"], "--config", "digits_del5", "--model", c["model"],
            "--output_dir", c["out"], "--cache_dir", c["cache"], *QUIET, *extra]  # fmt: skip


def _unlearn(c, *extra, method="grad_ascent"):
    return ["unlearn", "--dataset", c["repo"], "--config", "digits_del5", "--model", c["model"],
            "--method", method, "--output_dir", c["out"], "--cache_dir", c["cache"], *QUIET, *extra]  # fmt: skip


def _evaluate(c, *extra):
    return ["evaluate", "--dataset", c["repo"], "--config", "digits_del5", "--model", c["model"],
            "--output_dir", c["out"], "--cache_dir", c["cache"], *extra]  # fmt: skip


def _replace(argv, flag, value):
    argv = list(argv)
    argv[argv.index(flag) + 1] = value
    return argv


# id -> (argv builder, words the error must contain)
CASES = {
    # ---- train-base
    "train-base/dataset-missing": (lambda c: _replace(_train_base(c), "--dataset", str(c["tmp"] / "nonexist")), ["does not exist"]),
    "train-base/dataset-is-a-file": (lambda c: _replace(_train_base(c), "--dataset", str(c["tmp"] / "a_file")), ["a_file"]),
    "train-base/dataset-not-a-repo": (lambda c: _replace(_train_base(c), "--dataset", str(c["tmp"] / "empty")), ["build-splits"]),
    "train-base/unknown-task": (lambda c: _replace(_train_base(c), "--task", "nope"), ["nope", "digits"]),
    "train-base/task-not-in-repo": (lambda c: _replace(_train_base(c), "--task", "cifar10"), ["cifar10"]),
    "train-base/no-task": (lambda c: [a for a in _train_base(c) if a not in ("--task", "digits")], ["--task"]),
    "train-base/config-not-built": (lambda c: _train_base(c, "--config", "digits_del12"), ["digits_del12"]),
    "train-base/unknown-tiny-model": (lambda c: _replace(_train_base(c), "--model", "tiny:nope"), ["nope", "resnet"]),
    "train-base/config-json-missing": (lambda c: _replace(_train_base(c), "--model", str(c["tmp"] / "no.json")), ["does not exist"]),
    "train-base/model-folder-missing": (lambda c: _replace(_train_base(c), "--model", str(c["tmp"] / "no" / "model")), ["does not exist"]),
    "train-base/model-folder-empty": (lambda c: _replace(_train_base(c), "--model", str(c["tmp"] / "empty")), ["config.json"]),
    "train-base/output-is-a-file": (lambda c: _replace(_train_base(c), "--output_dir", str(c["tmp"] / "a_file")), ["is a file"]),
    "train-base/negative-epochs": (lambda c: _train_base(c, "--num_train_epochs", "-1"), ["num_train_epochs must be > 0"]),
    "train-base/zero-epochs": (lambda c: _train_base(c, "--num_train_epochs", "0"), ["num_train_epochs must be > 0"]),
    "train-base/negative-lr": (lambda c: _train_base(c, "--learning_rate", "-0.01"), ["learning_rate"]),
    "train-base/negative-lr-exponent": (lambda c: _train_base(c, "--learning_rate", "-1e-3"), ["learning_rate"]),
    "train-base/zero-steps": (lambda c: _train_base(c, "--max_steps", "0"), ["max_steps"]),
    "train-base/zero-batch": (lambda c: _train_base(c, "--per_device_train_batch_size", "0"), ["per_device_train_batch_size"]),
    "train-base/zero-accumulation": (lambda c: _train_base(c, "--gradient_accumulation_steps", "0"), ["gradient_accumulation_steps"]),
    "train-base/no-checkpoints-but-best-epoch": (lambda c: _train_base(c, "--save_strategy", "no"), ["save and eval strategy"]),
    "train-base/bad-scheduler": (lambda c: _train_base(c, "--lr_scheduler_type", "bogus"), ["bogus"]),
    "train-base/args-file-missing": (lambda c: ["train-base", str(c["tmp"] / "missing.yaml")], ["missing.yaml"]),
    "train-base/args-file-invalid-yaml": (lambda c: ["train-base", str(c["tmp"] / "bad.yaml")], ["bad.yaml"]),
    "train-base/args-file-is-a-list": (lambda c: ["train-base", str(c["tmp"] / "list.yaml")], ["list.yaml"]),
    "train-base/args-file-epochs-in-words": (lambda c: ["train-base", str(c["tmp"] / "eight.yaml")], ["eight"]),
    # ---- retrain
    "retrain/no-config": (lambda c: [a for a in _retrain(c) if a not in ("--config", "digits_del5")], ["--config"]),
    "retrain/config-not-built": (lambda c: _replace(_retrain(c), "--config", "digits_del12"), ["digits_del12"]),
    "retrain/bad-config-name": (lambda c: _replace(_retrain(c), "--config", "digits"), ["digits"]),
    "retrain/model-missing": (lambda c: _replace(_retrain(c), "--model", str(c["tmp"] / "no" / "base")), ["does not exist"]),
    "retrain/dataset-missing": (lambda c: _replace(_retrain(c), "--dataset", str(c["tmp"] / "nonexist")), ["does not exist"]),
    "retrain/negative-epochs": (lambda c: _retrain(c, "--num_train_epochs", "-3"), ["num_train_epochs must be > 0"]),
    "retrain/output-is-a-file": (lambda c: _replace(_retrain(c), "--output_dir", str(c["tmp"] / "a_file")), ["is a file"]),
    # ---- unlearn
    "unlearn/no-method": (lambda c: [a for a in _unlearn(c) if a not in ("--method", "grad_ascent")], ["--method", "salun"]),
    "unlearn/unknown-method": (lambda c: _unlearn(c, method="sallun"), ["sallun", "salun"]),
    "unlearn/config-not-built": (lambda c: _replace(_unlearn(c), "--config", "digits_del12"), ["digits_del12"]),
    "unlearn/dataset-missing": (lambda c: _replace(_unlearn(c), "--dataset", str(c["tmp"] / "nonexist")), ["does not exist"]),
    "unlearn/dataset-is-a-file": (lambda c: _replace(_unlearn(c), "--dataset", str(c["tmp"] / "a_file")), ["a_file"]),
    "unlearn/model-missing": (lambda c: _replace(_unlearn(c), "--model", str(c["tmp"] / "no" / "model")), ["does not exist"]),
    "unlearn/model-is-a-file": (lambda c: _replace(_unlearn(c), "--model", str(c["tmp"] / "a_file")), ["a file"]),
    "unlearn/model-folder-empty": (lambda c: _replace(_unlearn(c), "--model", str(c["tmp"] / "empty")), ["config.json"]),
    "unlearn/model-weights-truncated": (lambda c: _replace(_unlearn(c), "--model", str(c["tmp"] / "corrupt_model")), ["corrupt"]),
    "unlearn/output-is-a-file": (lambda c: _replace(_unlearn(c), "--output_dir", str(c["tmp"] / "a_file")), ["is a file"]),
    "unlearn/retrain-reference-missing": (lambda c: _unlearn(c, "--retrain_reference", "nope"), ["retrain reference", "does not exist"]),
    "unlearn/retrain-reference-empty-folder": (lambda c: _unlearn(c, "--retrain_reference", str(c["tmp"] / "empty")), ["predictions"]),
    "unlearn/negative-epochs": (lambda c: _unlearn(c, "--num_train_epochs", "-2"), ["num_train_epochs must be > 0"]),
    "unlearn/negative-lr": (lambda c: _unlearn(c, "--learning_rate", "-1e-3"), ["learning_rate"]),
    "unlearn/zero-steps": (lambda c: _unlearn(c, "--max_steps", "0"), ["max_steps"]),
    "unlearn/mask-ratio-above-one": (lambda c: _unlearn(c, "--mask_ratio", "5", method="salun"), ["mask_ratio"]),
    "unlearn/npo-beta-zero": (lambda c: _unlearn(c, "--npo_beta", "0", method="npo"), ["npo_beta"]),
    "unlearn/simnpo-negative-margin": (lambda c: _unlearn(c, "--simnpo_gamma", "-1", method="simnpo"), ["simnpo_gamma"]),
    "unlearn/bad-retain-loss": (lambda c: _unlearn(c, "--retain_loss", "mse", method="grad_diff"), ["mse"]),
    "unlearn/bad-pair-anchor": (lambda c: _unlearn(c, "--pair_anchor", "middle", method="grad_diff"), ["middle"]),
    "unlearn/flag-of-another-method": (lambda c: _unlearn(c, "--mask_ratio", "0.5"), ["mask_ratio"]),
    "unlearn/args-file-missing": (lambda c: ["unlearn", str(c["tmp"] / "missing.yaml")], ["missing.yaml"]),
    "unlearn/args-file-invalid-yaml": (lambda c: ["unlearn", str(c["tmp"] / "bad.yaml")], ["bad.yaml"]),
    "unlearn/args-file-unknown-key": (lambda c: ["unlearn", str(c["tmp"] / "unknown_key.yaml")], ["lerning_rate"]),
    # ---- evaluate
    "evaluate/anchor-above-one": (lambda c: _evaluate(c, "--original-test-accuracy", "2"), ["[0, 1]"]),
    "evaluate/anchor-negative": (lambda c: _evaluate(c, "--original-test-accuracy=-0.1"), ["[0, 1]"]),
    "evaluate/zero-batch": (lambda c: _evaluate(c, "--batch_size", "0"), ["must be > 0"]),
    "evaluate/batch-in-words": (lambda c: _evaluate(c, "--batch_size", "many"), ["many"]),
    "evaluate/model-missing": (lambda c: _replace(_evaluate(c), "--model", str(c["tmp"] / "no" / "model")), ["does not exist"]),
    "evaluate/dataset-missing": (lambda c: _replace(_evaluate(c), "--dataset", str(c["tmp"] / "nonexist")), ["does not exist"]),
    "evaluate/config-not-built": (lambda c: _replace(_evaluate(c), "--config", "digits_del12"), ["digits_del12"]),
    "evaluate/retrain-missing": (lambda c: _evaluate(c, "--retrain", str(c["tmp"] / "nope")), ["retrain reference"]),
    "evaluate/base-model-missing": (lambda c: _evaluate(c, "--base-model", str(c["tmp"] / "nope")), ["base model"]),
    "evaluate/output-is-a-file": (lambda c: _replace(_evaluate(c), "--output_dir", str(c["tmp"] / "a_file")), ["is a file"]),
    "evaluate/unknown-task": (lambda c: _evaluate(c, "--task", "nope"), ["nope"]),
    # ---- push (no token: refused before any request)
    "push/folder-missing": (lambda c: ["push", str(c["tmp"] / "nope"), "org/model"], ["nope"]),
    "push/folder-is-a-file": (lambda c: ["push", str(c["tmp"] / "a_file"), "org/model"], ["a_file"]),
    "push/bad-repo-id": (lambda c: ["push", c["model"], "not a repo id"], ["repo"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_a_clean_error_and_writes_nothing(case, ctx, capsys, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    build, needles = CASES[case]
    argv = build(ctx)
    watched = [ctx["out"], ctx["repo"], ctx["model"], str(ctx["tmp"] / "a_file"), str(ctx["tmp"] / "empty")]
    before = {path: snapshot(path) for path in watched}
    result = run_cli(argv, capsys)
    assert_clean_error(result, *needles)
    assert {path: snapshot(path) for path in watched} == before, f"{case} wrote something"


def test_the_suite_covers_every_model_command():
    commands = {case.split("/")[0] for case in CASES}
    assert commands == {"train-base", "retrain", "unlearn", "evaluate", "push"}
    assert len(CASES) >= 60


@pytest.mark.parametrize(
    "fault",
    [
        RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 1234 vs 1200"),
        OSError(28, "No space left on device"),
    ],
    ids=["torch-unexpected-pos", "enospc"],
)
def test_a_full_disk_while_saving_is_one_line_and_no_run_is_marked_done(ctx, capsys, monkeypatch, fault):
    from transformers import Trainer

    def full_disk(self, *args, **kwargs):
        raise fault

    monkeypatch.setattr(Trainer, "save_model", full_disk)
    result = run_cli(_unlearn(ctx, "--max_steps", "1", "--save_strategy", "no"), capsys)
    assert_clean_error(result, "disk is full")
    assert not (Path(ctx["out"]) / "unlearn_run.json").exists()  # never "done" without its weights
