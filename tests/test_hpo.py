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


def test_spaces_are_declared_with_the_methods_registration() -> None:
    from mubench_hf.studies import hpo_space
    from mubench_hf.trainers import get_spec, method_specs

    assert not hasattr(hpo_space, "BUILTIN_SPACES")  # no second table beside the declarations
    for method in ("salun", "scrub", "ssd", "l1_sparse", "fisher", "influence"):
        assert get_spec(method).search_space, method
    for spec in method_specs():  # what hpo searches is the declaration, else the default space
        assert hpo_space.declared_space(spec.name) == (spec.search_space or DEFAULT_SPACE)


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


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--trials", "0"], "--trials must be at least 1, got 0"),
        (["--workers", "0"], "--workers must be at least 1, got 0"),
        (["--timeout", "-5"], "--timeout must be positive seconds"),
        (["--report-every", "-1"], "--report-every must be >= 0"),
        (["--storage", "hpo.db"], "--storage takes a database URL"),
    ],
)
def test_bad_hpo_flags_are_refused_before_any_work(flags, message, tmp_path, capsys) -> None:
    assert main(["study", "hpo", "--output", str(tmp_path), "--no-progress", *flags]) == 1
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_without_optuna_the_search_says_what_to_install(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now raises ImportError
    assert main(["study", "hpo", "--output", str(tmp_path), "--no-progress"]) == 1
    assert "pip install 'mubench-hf[hpo]'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


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


def _trials_so_far(url: str, method: str) -> list:
    storage = open_storage(url)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage) if f"/{method}/" in s.study_name]
    return optuna.load_study(study_name=names[0], storage=storage).get_trials() if names else []


def _finished(trials: list) -> list:
    return [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]


CLI = "import sys; from mubench_hf.cli import main; sys.exit(main(sys.argv[1:]))"


def test_a_killed_search_run_again_keeps_its_trials_and_goes_on_to_the_budget(output) -> None:
    url = f"sqlite:///{output / 'hpo.db'}"
    argv = ["study", "hpo", "--output", str(output), *TINY, "--methods", "grad_ascent", "--trials", "4",
            "--report-every", "0", "--storage", url]  # fmt: skip
    process = subprocess.Popen([sys.executable, "-c", CLI, *argv], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 480
        while len(_finished(_trials_so_far(url, "grad_ascent"))) < 2:
            assert process.poll() is None, "the search ended before it could be killed"
            assert time.monotonic() < deadline, "no two trials finished in time"
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    before = {t.number: t.value for t in _trials_so_far(url, "grad_ascent") if t.state is TrialState.COMPLETE}
    assert 2 <= len(before) < 4  # killed mid-study
    assert main(argv) == 0
    after = _trials_so_far(url, "grad_ascent")
    assert {t.number: t.value for t in after if t.number in before} == before  # finished trials are kept
    assert len(_finished(after)) == 4  # the count went on to the budget, not 4 more
    assert all(t.number > max(before) for t in _finished(after) if t.number not in before)
    assert not [t for t in after if t.state is TrialState.RUNNING]  # the killed trial was marked failed
    assert len(_rows(output / "hpo" / "results.csv")) == len(after)


def test_two_workers_share_one_study_with_distinct_trials_that_sum_to_the_budget(output, capsys) -> None:
    url = f"sqlite:///{output / 'hpo.db'}"
    argv = ["study", "hpo", "--output", str(output), *TINY, "--methods", "grad_ascent", "--trials", "6",
            "--report-every", "0", "--storage", url, "--workers", "2"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    trials = _trials_so_far(url, "grad_ascent")
    counted = [t for t in _finished(trials) if not t.user_attrs.get(SURPLUS_ATTR)]
    assert len(counted) == 6 and len({t.number for t in counted}) == 6
    assert not [t for t in trials if t.state is TrialState.RUNNING]
    workers = {t.user_attrs[WORKER_ATTR] for t in counted}
    assert f"{socket.gethostname()}:{os.getpid()}" in workers and len(workers) == 2  # both took trials


def test_the_test_split_never_changes_a_trials_value_or_its_pruning_reports(output, monkeypatch) -> None:
    from mubench_hf import pipeline
    from mubench_hf.studies import StudyOptions
    from mubench_hf.studies.hpo import prepare_job
    from mubench_hf.studies.hpo_worker import open_study, search_method

    options = StudyOptions(
        methods=["grad_ascent"], output=str(output), base_recipe={"num_train_epochs": 1.0},
        unlearn_args={"max_steps": 3}, show_progress=False, log=lambda _: None,
    )  # fmt: skip
    job, _ = prepare_job(options, trials=1, timeout_s=None, storage=None, report_every=1,
                         pruning_warmup_trials=4, threads=1)  # fmt: skip
    (search,) = job.searches

    def one_trial(name: str):
        url = f"sqlite:///{output / name}"
        study = open_study(replace(job, storage=url), search)
        study.enqueue_trial({"learning_rate": 2e-3, "max_steps": 3})
        search_method(replace(job, storage=url), search)
        (trial,) = study.get_trials()
        assert trial.state is TrialState.COMPLETE
        return trial

    plain = one_trial("plain.db")
    assert sorted(plain.intermediate_values) == [1, 2]  # every step but the last, which the report scores
    loader = pipeline.load_config_splits

    def wrong_test_labels(*args, **kwargs):
        splits = loader(*args, **kwargs)
        if "test" in splits:
            splits["test"] = splits["test"].map(lambda row: {"label": (row["label"] + 1) % 10})
        return splits

    monkeypatch.setattr(pipeline, "load_config_splits", wrong_test_labels)
    scrambled = one_trial("scrambled.db")
    assert scrambled.user_attrs["test_accuracy"] < 0.2 < plain.user_attrs["test_accuracy"]  # it took effect
    assert scrambled.value == plain.value
    assert scrambled.intermediate_values == plain.intermediate_values


# --------------------------------------------------------------------------- PostgreSQL
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def postgres_url():
    """A PostgreSQL server of Debian's package on 127.0.0.1, in a temporary folder, stopped afterwards."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL's server (Debian's postgresql package: initdb, pg_ctl) is not installed")
    pytest.importorskip("psycopg", reason="psycopg (the hpo extra's PostgreSQL driver) is not installed")
    bin_dir = found[-1].parent
    as_user: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="mubench-pg-"))
    if os.geteuid() == 0:  # the server refuses to run as root: run it as the package's own user
        if shutil.which("runuser") is None:
            shutil.rmtree(folder)
            pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
        try:
            shutil.chown(folder, "postgres")
        except LookupError:
            shutil.rmtree(folder)
            pytest.skip("running as root and there is no 'postgres' user to start PostgreSQL as")
        as_user = ["runuser", "-u", "postgres", "--"]
    port, data = _free_port(), folder / "data"
    ctl = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data)]
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "mubench",
                    "--no-sync"], check=True, capture_output=True)  # fmt: skip
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    try:
        subprocess.run([*ctl, "-o", options, "-l", str(folder / "log"), "-w", "start"], check=True,
                       capture_output=True)  # fmt: skip
        yield f"postgresql://mubench@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*ctl, "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_postgresql_storage_works_unchanged_and_resumes(output, postgres_url, capsys) -> None:
    argv = ["study", "hpo", "--output", str(output), *TINY, "--methods", "ssd", "--report-every", "0",
            "--storage", postgres_url]  # fmt: skip
    assert main([*argv, "--trials", "2"]) == 0, capsys.readouterr().err
    first = {t.number: t.value for t in _trials_so_far(postgres_url, "ssd")}
    assert len(first) == 2 and all(isinstance(v, float) for v in first.values())
    assert main([*argv, "--trials", "3"]) == 0, capsys.readouterr().err
    after = _trials_so_far(postgres_url, "ssd")
    assert len(_finished(after)) == 3 and {t.number: t.value for t in after if t.number in first} == first
    assert "postgresql://" in capsys.readouterr().out
