"""Relearn time: an unlearned model gets Df back in a few fine-tuning steps, a never-trained one does not."""

from __future__ import annotations

import json

import numpy as np
import pytest
from trainer_testlib import accuracy, quiet_args
from transformers import AutoModelForImageClassification

from mubench_hf import MubenchError
from mubench_hf.evaluation import RESULTS_FILE
from mubench_hf.evidence import RelearnSettings, relearn_steps
from mubench_hf.evidence.relearn import as_settings
from mubench_hf.kinds.classification import data_collator_for, prepare_splits
from mubench_hf.modeling import fresh_model
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

CAP = 30  # measured: the unlearned model needs 11 steps, fresh ones 45 and 49 (seeds 0, 1)


def _unlearned(base_dir, raw, out):
    model = AutoModelForImageClassification.from_pretrained(base_dir)
    splits = prepare_splits(raw, "digits", model)
    args = UnlearnConfig(
        method="grad_ascent",
        **quiet_args(out, per_device_train_batch_size=32, learning_rate=1e-3, max_steps=6),
    )
    trainer = UnlearnTrainer(model=model, args=args, splits=splits)
    trainer.train()
    return trainer, splits


def test_unlearned_model_relearns_before_the_cap_and_a_fresh_one_hits_it(
    digits_base_model_dir, digits_del5, tmp_path
) -> None:
    trainer, splits = _unlearned(digits_base_model_dir, digits_del5, tmp_path / "ga")
    original = AutoModelForImageClassification.from_pretrained(digits_base_model_dir)
    target = accuracy(original, splits["forget"])
    forgotten = accuracy(trainer.model, splits["forget"])
    assert forgotten < target  # grad ascent forgot some rows (measured: 1.0 -> 0.90 on the 62 rows)
    collator = data_collator_for("digits", None)
    settings = RelearnSettings(max_steps=CAP)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    relearned = relearn_steps(
        trainer.model, splits["forget"], data_collator=collator, original_forget_accuracy=target,
        settings=settings, seed=0, use_cpu=True,
    )  # fmt: skip
    assert relearned.reached and 1 <= relearned.steps < CAP  # measured: 11 steps
    assert relearned.final_accuracy >= target
    # the scored model itself is untouched
    assert all(np.array_equal(before[k], v) for k, v in trainer.model.state_dict().items())

    never = relearn_steps(
        fresh_model(original, 0), splits["forget"], data_collator=collator, original_forget_accuracy=target,
        settings=settings, seed=0, use_cpu=True,
    )  # fmt: skip
    assert not never.reached and never.steps == CAP
    metrics = never.as_metrics()
    assert (
        metrics["relearn_steps"] == CAP
        and metrics["relearn_reached"] == 0.0
        and metrics["relearn_cap"] == CAP
    )


def test_the_report_adds_relearn_keys_when_asked(digits_base_model_dir, digits_del5, tmp_path) -> None:
    trainer, _ = _unlearned(digits_base_model_dir, digits_del5, tmp_path / "ga")
    from mubench_hf.evaluation import evaluate_unlearning

    report = evaluate_unlearning(
        trainer, trainer.report_splits() | {"test": prepare_splits(digits_del5, "digits", trainer.model)["test"]},
        base_model=str(digits_base_model_dir), output_dir=tmp_path / "out", log=False,
        relearn=RelearnSettings(max_steps=CAP),
    )  # fmt: skip
    assert report["relearn_reached"] == 1.0 and 1 <= report["relearn_steps"] < CAP
    assert report["original_forget_accuracy"] == pytest.approx(report["relearn_target_accuracy"])
    assert (
        json.loads((tmp_path / "out" / RESULTS_FILE).read_text())["relearn_steps"] == report["relearn_steps"]
    )
    # without a base model there is no target: a clear error, before anything is trained
    with pytest.raises(MubenchError, match="needs the original model"):
        evaluate_unlearning(trainer, trainer.report_splits(), log=False, relearn=True)


def test_relearn_settings_are_checked() -> None:
    assert as_settings(None) is None and as_settings(False) is None
    assert as_settings(True) == RelearnSettings()
    assert as_settings({"max_steps": 7}).max_steps == 7
    with pytest.raises(MubenchError, match="unknown relearn setting"):
        as_settings({"steps": 7})
    with pytest.raises(MubenchError, match="max_steps must be a whole number >= 1"):
        RelearnSettings(max_steps=0)
    with pytest.raises(MubenchError, match="learning_rate must be > 0"):
        RelearnSettings(learning_rate=0.0)
    with pytest.raises(MubenchError, match="tolerance must be a share"):
        RelearnSettings(tolerance=2.0)


def test_evaluate_cli_relearn_needs_a_base_model(tmp_path) -> None:
    from mubench_hf.cli.evaluate import main

    with pytest.raises(MubenchError, match="--relearn-steps needs --base-model"):
        main(
            [
                "--model",
                str(tmp_path),
                "--dataset",
                str(tmp_path),
                "--config",
                "digits_del5",
                "--relearn-steps",
            ]
        )


@pytest.mark.slow
def test_mubench_run_relearn_steps_writes_relearn_csv(tmp_path) -> None:
    """One seed, grad ascent and retrain on digits_del5; the pass after the cells relearns both."""
    import csv

    from mubench_hf.cli.run import main

    out = tmp_path / "runs"
    code = main([
        "--task", "digits", "--methods", "grad_ascent,retrain", "--ratios", "5", "--seeds", "0",
        "--output", str(out), "--no-progress", "--relearn-steps", "--relearn-cap", "30",
    ])  # fmt: skip
    assert code == 0
    rows = {row["method"]: row for row in csv.DictReader((out / "relearn.csv").open())}
    assert set(rows) == {"grad_ascent", "retrain"}
    for row in rows.values():
        assert row["status"] == "done" and 0 <= float(row["relearn_steps"]) <= 30
    assert (out / "cells" / "digits_del5" / "seed0" / "grad_ascent" / "relearn.json").is_file()
