"""Summarisation through ``mubench run``: a seq2seq task (``debian_summaries``'s loader on a small dpkg
status file written here) with retrain, grad_ascent, npo and idk cells ends with ROUGE-L metrics in
``results.csv`` and the leaderboard, and the grid's ``unlearn_args`` reach the generation report.

Fast: 40 packages, one base epoch, two unlearning steps per method, short generations."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from mubench_hf.sweeps.grid import make_grid
from mubench_hf.sweeps.runner import run_grid
from mubench_hf.tasks import TASKS, register_task
from mubench_hf.tasks.debian_summaries import load_debian_summaries
from mubench_hf.tasks.generation import GenerationTask

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TOOLS = ["parser", "viewer", "daemon", "library", "converter", "editor", "monitor", "client"]
THINGS = ["images", "archives", "logs", "fonts", "maps", "sounds", "calendars", "packets"]
METHODS = ["retrain", "grad_ascent", "npo", "idk"]


def status_file(path: Path, packages: int = 40) -> Path:
    """A dpkg status-format file: ``packages`` paragraphs, each with a synopsis and a long description."""
    paragraphs = []
    for i in range(packages):
        tool, thing = TOOLS[i % len(TOOLS)], THINGS[(i * 3) % len(THINGS)]
        paragraphs.append(
            f"Package: pkg{i:02d}\nStatus: install ok installed\nVersion: 1.{i}\n"
            f"Description: {thing} {tool} number {i}\n"
            f" This package provides a small {tool} for {thing}. It reads {thing} from disk\n"
            f" and writes them back, version {i}.\n .\n It is used by other tools.\n"
        )
    path.write_text("\n".join(paragraphs), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def summaries_task(tmp_path_factory: pytest.TempPathFactory):
    """``debian_summaries`` on the file above, registered only while this module runs."""
    source = status_file(tmp_path_factory.mktemp("dpkg") / "status")
    task = GenerationTask(
        name="summaries_sweep",
        modality="text",
        build=lambda _: load_debian_summaries(source),
        architecture="seq2seq",
        eval_splits=("validation", "test"),
        recipe={"num_train_epochs": 1.0, "learning_rate": 3e-3, "per_device_train_batch_size": 16},
        max_length=96,
    )
    register_task(task, replace=True)
    yield task
    TASKS.pop(task.name, None)


@pytest.mark.timeout(1800)  # about a minute on a quiet 2-core machine; far more when it is shared
def test_summarisation_runs_through_mubench_run_with_rouge(
    summaries_task, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mubench_hf.kinds.generation.unlearning_report as report

    monkeypatch.setattr(report, "RETAIN_ROWS", 8)  # greedy generation on fewer retain rows: quicker
    out = tmp_path / "runs"
    grid = make_grid(
        {
            "task": summaries_task.name,
            "methods": METHODS,
            "ratios": [10],
            "seeds": [42],
            "output": str(out),
            "unlearn_args": {"max_steps": 2, "generation_max_new_tokens": 6},
        }
    )
    assert grid.model == "tiny:t5"  # the seq2seq task's first tiny model
    result = run_grid(grid, show_progress=False, log=lambda _: None)
    assert not result.failed, [r.get("error") for r in result.failed]
    cells = {r["method"]: r["metrics"] for r in result.grid_records}
    assert set(cells) == set(METHODS)
    for method, metrics in cells.items():
        for name in ("forget_rouge_l", "retain_rouge_l", "original_forget_rouge_l"):
            assert 0.0 <= metrics[name] <= 1.0, (method, name, metrics.get(name))
    for method in ("grad_ascent", "npo", "idk"):
        # scored against the retrain model: PrivLeak (MIAs forget vs test); summaries have no perturbed
        # answers, so no truth ratio and no forget quality (TOFU's metric)
        assert "privleak" in cells[method] and "forget_quality" not in cells[method], cells[method]

    with (out / "results.csv").open(newline="") as handle:
        rows = {row["method"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(METHODS)
    for row in rows.values():
        assert 0.0 <= float(row["forget_rouge_l_mean"]) <= 1.0
        assert 0.0 <= float(row["retain_rouge_l_mean"]) <= 1.0
    leaderboard = (out / "leaderboard.md").read_text()
    print(leaderboard)
    assert "rouge" in leaderboard.lower() and all(m in leaderboard for m in METHODS)

    # unlearn_args' generation length reached the unlearning cells' reports
    results = sorted(out.rglob("unlearning_results.json"))
    settings = [json.loads(p.read_text()).get("generation_settings") for p in results]
    assert any(s and s["max_new_tokens"] == 6 for s in settings), settings
