"""``mubench study hpo``: the declared search spaces, the shared trial budget in the database, and on digits
(tiny budgets, a shared sweep) the summary and picks, resuming after a kill, two workers on one study, the
test split never choosing, pruning reports, and a PostgreSQL storage started by the test."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest

from mubench_hf.errors import MubenchError
from mubench_hf.search_space import DEFAULT_SPACE, TRAINING_LENGTH, Range, check_space

optuna = pytest.importorskip(
    "optuna", reason="the hpo extra (pip install 'mubench-hf[hpo]') is not installed"
)

from optuna.trial import TrialState, create_trial  # noqa: E402

from mubench_hf.cli import main  # noqa: E402
from mubench_hf.studies.hpo_space import resolve_space  # noqa: E402
from mubench_hf.studies.hpo_storage import (  # noqa: E402
    SURPLUS_ATTR,
    WORKER_ATTR,
    check_storage_url,
    fail_dead_trials,
    is_surplus,
    open_storage,
    remaining,
)

# tiny digits runs: one base epoch, a few unlearning steps, one thread
TINY = ["--base-epochs", "1", "--max-steps", "3", "--no-progress", "--threads", "1"]


# --------------------------------------------------------------------------- search spaces
def _bounds(method: str, arguments: dict) -> dict[str, tuple[float, float, bool, bool]]:
    return {p.name: (p.low, p.high, p.log, p.integer) for p in resolve_space(method, arguments)}


def test_declared_spaces_are_resolved_around_the_runs_own_values() -> None:
    salun = _bounds("salun", {"learning_rate": 3e-3, "num_train_epochs": 3})
    assert salun["learning_rate"][:3] == (pytest.approx(3e-4), pytest.approx(3e-2), True)
    assert salun["num_train_epochs"] == (2.0, 6.0, False, True)  # ×0.5 … ×2, whole epochs
    assert salun["mask_ratio"] == (0.1, 0.9, False, False)
    scrub = _bounds("scrub", {"learning_rate": 5e-3, "max_steps": 50})
    assert scrub["max_steps"] == (25.0, 100.0, False, True)  # a run counted in steps searches steps
    assert "num_train_epochs" not in scrub
    assert scrub["retain_kl_weight"][2] and set(scrub) >= {"retain_ce_weight", "learning_rate"}
    ssd = _bounds("ssd", {"selection_weighting": 8.0})
    assert set(ssd) == {"selection_weighting", "dampening_constant"}  # no steps, no learning rate
    assert ssd["selection_weighting"][:2] == (2.0, 32.0)
    # a method without a declared space: learning rate (around the config default) and length
    plain = _bounds("grad_ascent", {})
    assert set(plain) == {"learning_rate", "num_train_epochs"}
    assert plain["learning_rate"][:2] == (pytest.approx(5e-6), pytest.approx(5e-4))  # TrainingArguments' 5e-5


def test_a_space_naming_an_unknown_field_or_holding_a_non_range_is_refused() -> None:
    with pytest.raises(MubenchError, match=r"'mask_ration', which is not a field.*mask_ratio"):
        check_space("salun", {"mask_ration": Range(0.1, 0.9)}, {"mask_ratio", "learning_rate"})
    with pytest.raises(MubenchError, match="must be a mubench_hf.search_space.Range, got tuple"):
        check_space("salun", {"mask_ratio": (0.1, 0.9)}, {"mask_ratio"})
    assert check_space("x", DEFAULT_SPACE, {"learning_rate"}) == DEFAULT_SPACE  # the length pseudo-field
    assert TRAINING_LENGTH in DEFAULT_SPACE


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"low": 1.0, "high": 1.0}, "finite low < high"),
        ({"low": 0.0, "high": 1.0, "log": True}, "needs low > 0"),
        ({"low": float("nan"), "high": 1.0}, "finite low < high"),
    ],
)
def test_bad_ranges_say_what_is_wrong(kwargs, message) -> None:
    with pytest.raises(MubenchError, match=message):
        Range(**kwargs)


def test_a_relative_range_needs_a_positive_start_and_integer_ranges_hold_two_values() -> None:
    with pytest.raises(MubenchError, match="positive starting value"):
        Range(0.5, 2.0, relative=True).bounds(None)
    assert Range(0.5, 2.0, integer=True, relative=True).bounds(1) == (1.0, 2.0)


@pytest.mark.parametrize("url", ["hpo.db", "redis://localhost/0", "sqlite:hpo.db"])
def test_storage_must_be_a_database_url(url) -> None:
    with pytest.raises(MubenchError, match="--storage takes a database URL"):
        check_storage_url(url)


# --------------------------------------------------------------------------- the shared budget
def _study(tmp_path: Path, name: str = "s"):
    return optuna.create_study(storage=open_storage(f"sqlite:///{tmp_path / 'b.db'}"), study_name=name)


def _add(study, state: TrialState, **attrs) -> None:
    distributions = {"x": optuna.distributions.FloatDistribution(0, 1)}
    value = 0.5 if state is TrialState.COMPLETE else None
    trial = create_trial(state=state, value=value, params={"x": 0.5}, distributions=distributions)
    trial.user_attrs.update(attrs)
    study.add_trial(trial)


def test_budget_counts_finished_and_running_trials_and_retries_failed_ones(tmp_path) -> None:
    study = _study(tmp_path)
    _add(study, TrialState.COMPLETE)
    _add(study, TrialState.PRUNED)
    _add(study, TrialState.FAIL)  # retried: not counted
    _add(study, TrialState.FAIL, **{SURPLUS_ATTR: True})
    _add(study, TrialState.RUNNING, **{WORKER_ATTR: f"{socket.gethostname()}:{os.getpid()}"})
    assert remaining(study, 4) == 1
    # trial 5 is the fourth counted one (numbers 0, 1, 4 before it): inside a budget of 4, not of 3
    assert not is_surplus(study, 5, 4) and is_surplus(study, 5, 3)


def test_a_killed_workers_running_trial_is_failed_and_a_live_ones_is_kept(tmp_path) -> None:
    study = _study(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    _add(study, TrialState.RUNNING, **{WORKER_ATTR: f"{host}:{dead.pid}"})
    _add(study, TrialState.RUNNING, **{WORKER_ATTR: f"{host}:{os.getppid()}"})  # alive
    _add(study, TrialState.RUNNING, **{WORKER_ATTR: f"elsewhere:{dead.pid}"})  # another machine: heartbeat
    assert fail_dead_trials(study) == 1
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.FAIL, TrialState.RUNNING, TrialState.RUNNING]
    assert remaining(study, 3) == 1


# --------------------------------------------------------------------------- on digits
@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Path:
    """An output folder whose hpo sweep (splits, base and retrain models) is done; each test copies it."""
    from mubench_hf.studies import StudyOptions
    from mubench_hf.studies.hpo import prepare_job

    folder = tmp_path_factory.mktemp("hpo_sweep")
    options = StudyOptions(
        methods=["grad_ascent"], output=str(folder), base_recipe={"num_train_epochs": 1.0},
        unlearn_args={"max_steps": 3}, show_progress=False, log=lambda _: None,
    )  # fmt: skip
    prepare_job(options, trials=1, timeout_s=None, storage=None, report_every=0, pruning_warmup_trials=4,
                threads=1)  # fmt: skip
    return folder


@pytest.fixture
def output(sweep_folder, tmp_path) -> Path:
    target = tmp_path / "out"
    shutil.copytree(sweep_folder, target)
    return target


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _trials(url: str, method: str) -> list:
    storage = open_storage(url)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    (name,) = [n for n in names if f"/{method}/" in n]
    return optuna.load_study(study_name=name, storage=storage).get_trials()


def test_search_writes_every_trial_the_best_the_importances_and_picks_a_grid_takes(output, capsys) -> None:
    from mubench_hf.studies.lr_search import validation_gap
    from mubench_hf.sweeps import load_grid

    url = f"sqlite:///{output / 'hpo.db'}"
    argv = ["study", "hpo", "--output", str(output), *TINY, "--methods", "grad_ascent,ssd", "--trials", "3",
            "--report-every", "0", "--storage", url]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    folder = output / "hpo"
    table = _rows(folder / "results.csv")
    assert [(r["method"], r["state"]) for r in table] == [("grad_ascent", "complete")] * 3 + [
        ("ssd", "complete")
    ] * 3
    for method in ("grad_ascent", "ssd"):
        rows = [r for r in table if r["method"] == method]
        best = [r for r in rows if r["best"] == "True"]
        assert len(best) == 1 and float(best[0]["validation_gap"]) == min(
            float(r["validation_gap"]) for r in rows
        )
        for row in rows:  # the value is the validation gap of the trial's own report
            (report,) = folder.glob(f"trials/*/{method}/{int(row['trial']):04d}/unlearning_results.json")
            assert validation_gap(json.loads(report.read_text())) == pytest.approx(
                float(row["validation_gap"])
            )
    assert all(r["param:learning_rate"] for r in table if r["method"] == "grad_ascent")
    assert all(r["param:dampening_constant"] for r in table if r["method"] == "ssd")
    assert (folder / "hpo.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    notes = (folder / "results.md").read_text()
    assert "grad_ascent importances: learning_rate" in notes or "grad_ascent importances: max_steps" in notes
    assert "ssd importances: " in notes and "best trial" in printed
    # the picks load as a grid's hyperparameters and equal the best trial's settings
    picked = (folder / "hyperparameters.yaml").read_text()
    grid_file = output / "grid.yaml"
    grid_file.write_text(
        "task: digits\nmethods: [grad_ascent, ssd]\nhyperparameters:\n"
        + "".join(f"  {line}\n" for line in picked.splitlines())
    )
    grid = load_grid(grid_file, {"output": str(output / "run")})
    best = {r["method"]: r for r in table if r["best"] == "True"}
    arguments = grid.method_arguments("ssd")
    assert arguments["dampening_constant"] == pytest.approx(
        float(best["ssd"]["param:dampening_constant"]), 1e-5
    )
    assert grid.method_arguments("grad_ascent")["max_steps"] == int(best["grad_ascent"]["param:max_steps"])
