"""``mubench run`` on a generation task: splits by author, a base model and a retrain model trained with SFT,
unlearning cells scored by the generation report (against the original and the retrain model), and the
summaries. The default test checks the wiring on a small grid; the slow one checks that the base learns the
QA and that forgetting lowers forget ROUGE-L on the real ``fictitious_authors`` task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mubench_hf.sweeps.grid import make_grid
from mubench_hf.sweeps.runner import run_grid
from mubench_hf.tasks import TASKS, register_task
from mubench_hf.tasks.fictitious_authors import make_fictitious_authors
from mubench_hf.tasks.generation import GenerationTask

PIPELINE_TASK = GenerationTask(
    name="authors_pipeline",
    modality="text",
    build=lambda source: make_fictitious_authors(num_authors=10, num_holdout=2, seed=7),
    group_column="group",
    extra_columns=("paraphrased_completion", "perturbed_completions"),
    recipe={"num_train_epochs": 2.0, "learning_rate": 5e-3, "per_device_train_batch_size": 16},
)


@pytest.fixture(scope="module", autouse=True)
def _pipeline_task():
    """Registered only while this module runs, so other tests see the shipped registry."""
    register_task(PIPELINE_TASK, replace=True)
    yield
    TASKS.pop(PIPELINE_TASK.name, None)


@pytest.mark.timeout(1800)  # about a minute on a quiet 2-core machine; far more when it is shared
def test_generation_grid_runs_and_reports_against_original_and_retrain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mubench_hf.kinds.generation.unlearning_report as report

    monkeypatch.setattr(report, "RETAIN_ROWS", 20)  # greedy generation on fewer retain rows: quicker
    grid = make_grid(
        {
            "task": "authors_pipeline",
            "methods": ["retrain", "grad_ascent"],
            "ratios": [10],
            "seeds": [42],
            "output": str(tmp_path / "runs"),
            "hyperparameters": {"grad_ascent": {"max_steps": 3}},
        }
    )
    assert grid.model == "tiny:llama"  # the task's first tiny model, not an image model
    result = run_grid(grid, show_progress=False, log=lambda _: None)
    assert not result.failed, [r.get("error") for r in result.failed]
    cells = {r["method"]: r["metrics"] for r in result.grid_records}
    for method in ("grad_ascent",):
        metrics = cells[method]
        for name in ("forget_rouge_l", "retain_rouge_l", "original_forget_rouge_l", "forget_quality",
                     "truth_ratio", "mia_loss_auc", "model_utility"):  # fmt: skip
            assert 0.0 <= metrics[name] <= 1.0, (method, name)
        folder = tmp_path / "runs" / "cells" / "authors_pipeline_del10" / "seed42" / method
        generations = [json.loads(line) for line in (folder / "generations.jsonl").read_text().splitlines()]
        assert {g["split"] for g in generations} >= {"forget", "retain"}
        assert {"sample_id", "prompt", "reference", "prediction"} <= set(generations[0])
        saved = json.loads((folder / "unlearning_results.json").read_text())
        assert (
            saved["forget_rouge_l"] == pytest.approx(metrics["forget_rouge_l"]) and saved["method"] == method
        )
    # the retrain row is the reference itself: its forget quality against itself is 1
    assert cells["retrain"]["forget_quality"] == pytest.approx(1.0)
    # every row, the retrain one too, carries the base model's values beside its own (the same base)
    originals = {method: cell["original_forget_rouge_l"] for method, cell in cells.items()}
    assert len(set(originals.values())) == 1, originals
    base = json.loads(
        (tmp_path / "runs" / "models" / "base_authors_pipeline_seed42" / "train_results.json").read_text()
    )
    assert base["trainer"] == "trl.SFTTrainer" and base["num_train_rows"] == 200
    assert (tmp_path / "runs" / "leaderboard.md").is_file() and result.figures == []
    again = run_grid(grid, show_progress=False, log=lambda _: None)
    assert again.ran == 0 and again.reused == 2  # finished generation cells are reused


@pytest.mark.slow
def test_fictitious_authors_base_learns_and_forgetting_lowers_forget_rouge(tmp_path: Path) -> None:
    """The acceptance grid, smaller: ratio 5 (five authors), two forgetting methods."""
    grid = make_grid(
        {
            "task": "fictitious_authors",
            "methods": ["grad_ascent", "npo"],
            "ratios": [5],
            "seeds": [42],
            "output": str(tmp_path / "runs"),
        }
    )
    result = run_grid(grid, show_progress=False, log=lambda _: None)
    assert not result.failed, [r.get("error") for r in result.failed]
    for record in result.grid_records:
        metrics = record["metrics"]
        assert metrics["original_forget_rouge_l"] >= 0.5  # the base model learned the QA
        assert metrics["forget_rouge_l"] < metrics["original_forget_rouge_l"] - 0.05
