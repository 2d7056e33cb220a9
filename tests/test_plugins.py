"""A method, a task, a metric and a modality from one distribution outside mubench-hf, found through their
entry points by the ``mubench`` command: the task builds splits, the methods run on it with ``mubench run``,
and the plugin metric is in every output (report, model card, results CSV, both leaderboards, HTML page).
A broken plugin is a warning that names it, and the built-ins keep working."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub import ModelCard
from plugin_testlib import (
    DISTRIBUTION,
    METHOD,
    METRIC,
    METRIC_COLUMN,
    METRIC_LABEL,
    TASK,
    write_broken_distribution,
    write_distribution,
)

from mubench_hf.evaluation import load_predictions

# A tiny recipe: the test checks the plumbing, not how well the methods forget.
GRID = {
    "base_recipe": {"num_train_epochs": 3, "learning_rate": 3e-3, "per_device_train_batch_size": 32},
    "unlearn_args": {"max_steps": 2, "per_device_train_batch_size": 16},
}


def mubench(args: list[str], site: list[Path], cwd: Path) -> subprocess.CompletedProcess:
    """``mubench ARGS`` in a fresh process with the plugin folders on PYTHONPATH, offline."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([*map(str, site), os.environ.get("PYTHONPATH", "")]),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HOME": str(cwd / "hf_home"),
    }
    code = "import sys; from mubench_hf.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


def confidence_gap(predictions_file: Path) -> float:
    """The plugin metric recomputed from the cell's saved logits: mean p(true class) on Df minus on Dt."""
    predictions, _ = load_predictions(predictions_file)

    def confidence(split: str) -> float:
        logits, labels = predictions[split].logits.astype(np.float64), predictions[split].labels
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        return float(probs[np.arange(len(labels)), labels].mean())

    return confidence("forget") - confidence("test")


def run_grid(tmp_path: Path, methods: str) -> tuple[Path, list[Path]]:
    site = [write_distribution(tmp_path / "site")]
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps(GRID))
    argv = ["run", str(grid), "--task", TASK, "--methods", methods, "--ratios", "5", "--seeds", "0",
            "--output", str(tmp_path / "runs"), "--threads", "1", "--no-progress"]  # fmt: skip
    result = mubench(argv, site, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp_path / "runs", site


def check_cells(runs: Path, expected_methods: set[str]) -> list[dict]:
    records = [json.loads(p.read_text()) for p in (runs / "cells").rglob("cell.json")]
    done = {r["method"]: r for r in records if r.get("status") == "done"}
    failed = {r["method"]: r.get("error") for r in records if r.get("status") != "done"}
    assert not failed and set(done) == expected_methods, (failed, sorted(done))
    return records


def check_metric_everywhere(runs: Path, site: list[Path], tmp_path: Path) -> None:
    unlearned = [p.parent for p in (runs / "cells").rglob("README.md") if p.parent.name != "retrain"]
    assert unlearned
    for cell in unlearned:
        results = json.loads((cell / "unlearning_results.json").read_text())
        # the report: the declared compute function's value, for the unlearned and the retrained model
        assert results[METRIC] == pytest.approx(confidence_gap(cell / "predictions.npz"), abs=1e-6)
        assert f"retrain_{METRIC}" in results
        # the card's model-index: the declared label and split
        card = ModelCard.load(cell / "README.md")
        [entry] = [r for r in card.data.eval_results if r.metric_type == METRIC]
        assert (entry.metric_name, entry.dataset_split) == (METRIC_LABEL, "forget")
        assert entry.metric_value == pytest.approx(results[METRIC])
    # the sweep's results.csv and leaderboard.md (the declared column title)
    with (runs / "results.csv").open() as handle:
        assert f"{METRIC}_mean" in next(csv.reader(handle))
    sweep_board = (runs / "leaderboard.md").read_text()
    assert f"| {METRIC_COLUMN} |" in sweep_board
    # the card leaderboard and its HTML page
    result = mubench(
        [
            "leaderboard",
            str(runs / "cells"),
            "--output",
            str(tmp_path / "board"),
            "--html",
            str(tmp_path / "page"),
        ],
        site,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    header = next(
        line for line in (tmp_path / "board" / "leaderboard.md").read_text().splitlines() if "| rank" in line
    )
    assert f"| {METRIC} |" in header
    page = (tmp_path / "page" / "index.html").read_text()
    assert f'data-column="{METRIC}"' in page


def test_the_plugin_task_lists_and_builds_splits(tmp_path):
    site = [write_distribution(tmp_path / "site")]
    listed = mubench(["tasks"], site, tmp_path)
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if line.startswith(TASK))
    assert "small_image" in line and "4 classes" in line
    assert line.endswith(f"from entry point {DISTRIBUTION}:{TASK}")  # where the task came from
    assert "digits" in listed.stdout.split()  # the built-ins are still there
    built = mubench(["build-splits", "--task", TASK, "--output", str(tmp_path / "repo")], site, tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    readme = (tmp_path / "repo" / "README.md").read_text()
    assert f"config_name: {TASK}_del5" in readme


def test_every_built_in_classification_method_and_the_plugin_method_run_on_the_plugin_task(tmp_path):
    """``mubench run --methods all`` on the plugin task: 12 built-in methods and the plugin's (about 40 CPU
    seconds with one thread, of which some 30 are the fixed part: imports, base and retrain models, the
    leaderboard; a run of retrain, grad_ascent and the plugin method alone took 28)."""
    from mubench_hf.trainers import method_specs

    # the methods mubench-hf ships (another test's plugin may be registered in this process too)
    built_in = {s.name for s in method_specs() if s.trainer.__module__.startswith("mubench_hf.")}
    built_in &= {s.name for s in method_specs() if "classification" in s.kinds}
    assert len(built_in) >= 12
    runs, site = run_grid(tmp_path, "all")
    check_cells(runs, {*built_in, "retrain", METHOD})
    check_metric_everywhere(runs, site, tmp_path)
    readme = next(p for p in (runs / "cells").rglob("README.md") if p.parent.name == METHOD)
    assert "A test plugin, 2025" in readme.read_text()  # the plugin method's citation, from its declaration


def test_a_broken_plugin_is_named_and_the_built_ins_keep_working(tmp_path):
    good, broken = write_distribution(tmp_path / "good"), write_broken_distribution(tmp_path / "broken")
    result = mubench(["tasks"], [broken, good], tmp_path)
    assert result.returncode == 0, result.stderr
    names = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert {"digits", "fashion_mnist", TASK} <= names
    assert "'broken_task'" in result.stderr and "needs the missing package frobnicate" in result.stderr
    assert "mubench-broken-plugin" in result.stderr  # the distribution is named too
    unknown = mubench(["build-splits", "--task", "nope", "--output", str(tmp_path / "x")], [broken], tmp_path)
    assert unknown.returncode != 0
    assert "plugin 'broken_task' failed to load" in unknown.stderr and "digits" in unknown.stderr
    assert DISTRIBUTION not in unknown.stderr  # only the broken folder was on the path this time
