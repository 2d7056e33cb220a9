"""Bad input to ``mubench run``, ``mubench demo`` and ``mubench leaderboard``: one row per mistake.

Every case must end in a non-zero exit with a one-line error (no traceback) that names the fix, and
must leave the files as they were: nothing written, no output folder created. Every case fails while
the input is checked, before any splits are built or any model is trained, so the suite is fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cli_harness import assert_clean_error, run_cli, snapshot

GOOD = {"task": "digits", "methods": ["grad_ascent"], "ratios": [5], "seeds": [1]}


@dataclass
class Case:
    id: str
    argv: list[str]  # "{t}" is the test's folder: {t}/out is the output, {t}/in holds the files below
    needles: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)  # name in {t}/in -> text
    setup: str | None = None  # "splits", "cards" or "read_only" (see _prepare)


def grid(**changes: object) -> dict[str, str]:
    """A grid file ``grid.json`` that is GOOD with ``changes`` (a value None drops the key)."""
    values = {**GOOD, "output": "{t}/out", **changes}
    return {"grid.json": json.dumps({k: v for k, v in values.items() if v is not None})}


def run_grid_file(*extra: str) -> list[str]:
    return ["run", "{t}/in/grid.json", "--no-progress", *extra]


def flags(*extra: str) -> list[str]:
    return [
        "run",
        "--task",
        "digits",
        "--methods",
        "grad_ascent",
        "--seeds",
        "1",
        "--output",
        "{t}/out",
        *extra,
    ]


RUN_CASES = [
    Case("run-no-grid-no-task", ["run", "--output", "{t}/out"], ("grid file or --task",)),
    Case("run-unknown-task", ["run", "--task", "nope", "--output", "{t}/out"], ("nope", "digits")),
    Case("run-unknown-method", flags("--methods", "forgetall"), ("forgetall", "known", "salun")),
    Case("run-duplicate-method", flags("--methods", "salun,salun"), ("salun", "twice")),
    Case("run-all-with-others", flags("--methods", "all,salun"), ("'all' stands alone",)),
    Case("run-ratio-zero", flags("--ratios", "0"), ("ratios", "(0, 100]")),
    Case("run-ratio-negative", flags("--ratios=-1"), ("ratios", "(0, 100]")),
    Case("run-ratio-above-100", flags("--ratios", "101"), ("ratios", "(0, 100]")),
    Case("run-ratio-text", flags("--ratios", "five"), ("five", "not a number")),
    Case("run-ratio-duplicate", flags("--ratios", "5,5.0"), ("ratios", "twice")),
    Case("run-class-not-a-label", flags("--classes", "10"), ("classes", "[0, 10)")),
    Case("run-class-unknown-name", flags("--classes", "seven"), ("seven", "not a class")),
    Case("run-class-duplicate", flags("--classes", "3,3"), ("classes", "twice")),
    Case(
        "run-classes-on-a-generation-task",
        ["run", "--task", "fictitious_authors", "--classes", "1", "--output", "{t}/out"],
        ("generation task", "no classes"),
    ),
    Case("run-seed-text", flags("--seeds", "forty-two"), ("seeds", "integer")),
    Case("run-seed-negative", flags("--seeds=-1"), ("seeds", "out of range")),
    Case("run-seed-duplicate", flags("--seeds", "1,1"), ("seeds", "twice")),
    Case("run-threads-zero", flags("--threads", "0"), ("--threads", "at least 1")),
    Case(
        "run-output-is-a-file",
        ["run", "--task", "digits", "--output", "{t}/in/taken"],
        ("is a file",),
        {"taken": "x"},
    ),
    Case(
        "run-output-inside-a-file",
        ["run", "--task", "digits", "--output", "{t}/in/taken/sub"],
        ("which is a file",),
        {"taken": "x"},
    ),
    Case("run-grid-missing", ["run", "{t}/in/nope.yaml"], ("grid file", "does not exist")),
    Case("run-grid-is-a-folder", ["run", "{t}/in"], ("is a folder",), {"placeholder": "x"}),
    Case(
        "run-grid-is-a-list",
        ["run", "{t}/in/grid.yaml"],
        ("mapping", "a list"),
        {"grid.yaml": "- digits\n- salun\n"},
    ),
    Case("run-grid-empty", ["run", "{t}/in/grid.yaml"], ("mapping", "empty file"), {"grid.yaml": ""}),
    Case(
        "run-grid-invalid-yaml",
        ["run", "{t}/in/grid.yaml"],
        ("not valid YAML", "line 2"),
        {"grid.yaml": "task: digits\nmethods: [salun\n"},
    ),
    Case(
        "run-grid-invalid-json",
        ["run", "{t}/in/grid.json"],
        ("not valid JSON", "line 2"),
        {"grid.json": '{"task": "digits",\n "methods": }\n'},
    ),
    Case(
        "run-grid-duplicate-key",
        ["run", "{t}/in/grid.yaml"],
        ("methods", "twice", "line 3"),
        {"grid.yaml": "task: digits\nmethods: [salun]\nmethods: [scrub]\n"},
    ),
    Case("run-grid-unknown-key", run_grid_file(), ("metods", "known keys"), grid(metods=["salun"])),
    Case("run-grid-task-missing", run_grid_file(), ("'task' is missing",), grid(task=None)),
    Case("run-grid-task-not-text", run_grid_file(), ("task", "a string"), grid(task=5)),
    Case("run-grid-methods-number", run_grid_file(), ("methods", "a string or a list"), grid(methods=3)),
    Case("run-grid-method-not-text", run_grid_file(), ("methods", "strings"), grid(methods=[1])),
    Case("run-grid-ratios-bool", run_grid_file(), ("ratios",), grid(ratios=True)),
    Case("run-grid-ratios-empty", run_grid_file(), ("ratios", "at least one"), grid(ratios=[])),
    Case("run-grid-seeds-empty", run_grid_file(), ("seeds", "at least one"), grid(seeds=[])),
    Case("run-grid-seed-float", run_grid_file(), ("seeds", "integer"), grid(seeds=[1.5])),
    Case("run-grid-split-seed-text", run_grid_file(), ("split_seed", "an integer"), grid(split_seed="x")),
    Case(
        "run-grid-split-seed-negative", run_grid_file(), ("split_seed", "out of range"), grid(split_seed=-1)
    ),
    Case("run-grid-output-number", run_grid_file(), ("output", "a string"), grid(output=3)),
    Case("run-grid-model-number", run_grid_file(), ("model", "a string"), grid(model=3)),
    Case("run-grid-unknown-tiny-model", run_grid_file(), ("tiny:resnet", "nope"), grid(model="tiny:nope")),
    Case(
        "run-grid-save-models-text",
        run_grid_file(),
        ("save_models", "true or false"),
        grid(save_models="yes"),
    ),
    Case("run-grid-base-recipe-list", run_grid_file(), ("base_recipe", "a mapping"), grid(base_recipe=[1])),
    Case(
        "run-grid-epochs-text",
        run_grid_file(),
        ("base_recipe.num_train_epochs", "a number", "eight"),
        grid(base_recipe={"num_train_epochs": "eight"}),
    ),
    Case(
        "run-grid-strategy-unknown",
        run_grid_file(),
        ("base_recipe.eval_strategy", "'epoch'"),
        grid(base_recipe={"eval_strategy": "epochs"}),
    ),
    Case(
        "run-grid-recipe-bool-for-int",
        run_grid_file(),
        ("per_device_train_batch_size", "an integer"),
        grid(base_recipe={"per_device_train_batch_size": True}),
    ),
    Case(
        "run-grid-recipe-lr-negative",
        run_grid_file(),
        ("base_recipe", "learning_rate", "> 0"),
        grid(base_recipe={"learning_rate": -1}),
    ),
    Case(
        "run-grid-recipe-unknown-key",
        run_grid_file(),
        ("num_epochs", "TrainingArguments"),
        grid(base_recipe={"num_epochs": 1}),
    ),
    Case("run-grid-unlearn-args-list", run_grid_file(), ("unlearn_args", "a mapping"), grid(unlearn_args=[])),
    Case(
        "run-grid-unlearn-batch-text",
        run_grid_file(),
        ("unlearn_args.per_device_train_batch_size", "an integer"),
        grid(unlearn_args={"per_device_train_batch_size": "32"}),
    ),
    Case(
        "run-grid-unlearn-args-not-common",
        run_grid_file(),
        ("unlearn_args", "mask_ratio"),
        grid(methods=["grad_ascent", "salun"], unlearn_args={"mask_ratio": 0.5}),
    ),
    Case(
        "run-grid-hyperparameter-text",
        run_grid_file(),
        ("hyperparameters.salun.mask_ratio", "a number"),
        grid(methods=["salun"], hyperparameters={"salun": {"mask_ratio": "half"}}),
    ),
    Case(
        "run-grid-hyperparameter-choice",
        run_grid_file(),
        ("pair_anchor", "'longest'"),
        grid(methods=["grad_diff"], hyperparameters={"grad_diff": {"pair_anchor": "both"}}),
    ),
    Case(
        "run-grid-hyperparameter-unknown",
        run_grid_file(),
        ("mask_ration",),
        grid(methods=["salun"], hyperparameters={"salun": {"mask_ration": 0.5}}),
    ),
    Case(
        "run-grid-hyperparameters-other-method",
        run_grid_file(),
        ("hyperparameters.scrub", "not in methods"),
        grid(hyperparameters={"scrub": {"learning_rate": 1e-3}}),
    ),
    Case(
        "run-grid-hyperparameters-retrain",
        run_grid_file(),
        ("hyperparameters.retrain", "base_recipe"),
        grid(methods=["retrain"], hyperparameters={"retrain": {"learning_rate": 1e-3}}),
    ),
    Case(
        "run-grid-hyperparameters-not-mapping",
        run_grid_file(),
        ("hyperparameters.grad_ascent", "mapping"),
        grid(hyperparameters={"grad_ascent": 5}),
    ),
    Case(
        "run-grid-max-steps-zero",
        run_grid_file(),
        ("grad_ascent", "max_steps must be > 0"),
        grid(hyperparameters={"grad_ascent": {"max_steps": 0}}),
    ),
    Case(
        "run-grid-yaml-numbers-still-checked",
        ["run", "{t}/in/grid.yaml"],
        ("learning_rate", "> 0"),
        {"grid.yaml": "task: digits\nmethods: [salun]\nhyperparameters: {salun: {learning_rate: -3e-3}}\n"},
    ),
    Case(
        "run-splits-lack-the-ratio",
        flags("--ratios", "10"),
        ("ratio(s) 10 are not among them", "--overwrite", "another --output"),
        setup="splits",
    ),
    Case(
        "run-splits-lack-the-class",
        flags("--classes", "3"),
        ("forget class(es) 3 are not among them", "--overwrite", "another --output"),
        setup="splits",
    ),
    Case(
        "run-splits-other-split-seed",
        run_grid_file(),
        ("split seed 42", "--overwrite"),
        grid(split_seed=7),
        setup="splits",
    ),
    Case("run-read-only-output", flags(), ("cannot write", "--output"), setup="read_only"),
]

DEMO_CASES = [
    Case("demo-output-is-a-file", ["demo", "--output", "{t}/in/taken"], ("is a file",), {"taken": "x"}),
    Case(
        "demo-output-inside-a-file",
        ["demo", "--output", "{t}/in/taken/x"],
        ("which is a file",),
        {"taken": "x"},
    ),
    Case("demo-seed-negative", ["demo", "--output", "{t}/out", "--seed=-1"], ("--seed", "[0,")),
    Case("demo-seed-too-big", ["demo", "--output", "{t}/out", "--seed", str(2**32)], ("--seed",)),
    Case("demo-seed-text", ["demo", "--output", "{t}/out", "--seed", "abc"], ("--seed", "invalid int")),
    Case("demo-threads-zero", ["demo", "--output", "{t}/out", "--threads", "0"], ("--threads",)),
    Case("demo-unknown-flag", ["demo", "--output", "{t}/out", "--methods", "salun"], ("unrecognized",)),
]

LEADERBOARD_CASES = [
    Case(
        "leaderboard-nothing-to-rank",
        ["leaderboard", "--output", "{t}/out"],
        ("nothing to rank", "--hub-author"),
    ),
    Case("leaderboard-missing-path", ["leaderboard", "{t}/nope", "--output", "{t}/out"], ("does not exist",)),
    Case(
        "leaderboard-path-is-a-file",
        ["leaderboard", "{t}/in/notes.txt", "--output", "{t}/out"],
        ("neither a model folder",),
        {"notes.txt": "x"},
    ),
    Case(
        "leaderboard-empty-folder",
        ["leaderboard", "{t}/in", "--output", "{t}/out"],
        ("no mubench model card", "README.md"),
        {"placeholder": "x"},
    ),
    Case(
        "leaderboard-not-a-mubench-card",
        ["leaderboard", "{t}/in", "--output", "{t}/out"],
        ("not a mubench model card",),
        {"README.md": "# just notes\n"},
    ),
    Case(
        "leaderboard-unknown-task",
        ["leaderboard", "{t}/cards", "--task", "nope", "--output", "{t}/out"],
        ("--task", "nope", "digits"),
        setup="cards",
    ),
    Case(
        "leaderboard-unknown-config",
        ["leaderboard", "{t}/cards", "--config", "digits_del9", "--output", "{t}/out"],
        ("--config", "digits_del9", "digits_del5"),
        setup="cards",
    ),
    Case(
        "leaderboard-output-is-a-file",
        ["leaderboard", "{t}/cards", "--output", "{t}/in/taken"],
        ("--output", "is a file"),
        {"taken": "x"},
        setup="cards",
    ),
    Case(
        "leaderboard-output-inside-a-file",
        ["leaderboard", "{t}/cards", "--output", "{t}/in/taken/board"],
        ("which is a file",),
        {"taken": "x"},
        setup="cards",
    ),
]

CASES = RUN_CASES + DEMO_CASES + LEADERBOARD_CASES


def _write_card(folder: Path) -> None:
    from mubench_hf.hub import render_model_card

    folder.mkdir(parents=True)
    render_model_card(
        "unlearned",
        task="digits",
        config="digits_del5",
        dataset_repo="org/mubench-splits",
        dataset_hash="c" * 64,
        backbone="resnet",
        recipe={"learning_rate": 0.01},
        seed=0,
        results={"mubench_score": 0.5, "gap_to_retrain": 0.1},
        base_model="org/base",
        method="salun",
        unlearn_time_s=1.0,
        model_name="org/salun",
    ).save(folder / "README.md")


def _prepare(case: Case, root: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Write the case's files and set up its state; returns what to do just before the command runs."""
    (root / "in").mkdir()
    for name, text in case.files.items():
        (root / "in" / name).write_text(text.replace("{t}", str(root)))
    if case.setup == "splits":  # a sweep folder whose splits hold ratio 5, split seed 42
        from mubench_hf import build_splits

        build_splits("digits", root / "out" / "mubench", ratios=[5], seed=42, show_progress=False)
    if case.setup == "cards":
        _write_card(root / "cards" / "salun")
    if case.setup == "read_only":
        from tests.test_sweep_faults import read_only

        return lambda: read_only(monkeypatch, root)
    return lambda: None


def _log_to_this_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub's log handler keeps the stderr of the test that first used it, which pytest has
    closed since; point it at this test's stderr, so its warnings are captured and not a logging error."""
    import logging
    import sys

    for handler in logging.getLogger("huggingface_hub").handlers:
        if isinstance(handler, logging.StreamHandler):
            monkeypatch.setattr(handler, "stream", sys.stderr)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_a_clean_error_and_writes_nothing(case, tmp_path, monkeypatch, capsys):
    just_before = _prepare(case, tmp_path, monkeypatch)
    before = snapshot(tmp_path)
    folders_before = sorted(p for p in tmp_path.rglob("*") if p.is_dir())
    _log_to_this_test(monkeypatch)
    just_before()
    result = run_cli([arg.replace("{t}", str(tmp_path)) for arg in case.argv], capsys)
    monkeypatch.undo()
    assert_clean_error(result, *case.needles)
    errors = [line for line in result.err.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, result.err  # one error line (argparse prints its usage above it)
    assert snapshot(tmp_path) == before
    assert sorted(p for p in tmp_path.rglob("*") if p.is_dir()) == folders_before  # no folder made either


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)
