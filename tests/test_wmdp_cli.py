"""``mubench evaluate --lm-eval``: lm-evaluation-harness runs in process on the model being scored, on the
config's local question splits, and its accuracies land in ``unlearning_results.json`` beside ours, equal
to them (the same rows, scored the same way). Bad flags are refused before anything is scored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mubench_hf import build_splits
from mubench_hf.tasks import TASKS, register_task
from mubench_hf.tasks.domain_task import DomainTask
from mubench_hf.tasks.wmdp import load_wmdp
from tests.cli_harness import run_cli
from tests.fixtures.wmdp_upstream import wmdp_source

pytest.importorskip("lm_eval", reason="lm-eval is an extra: pip install 'mubench-hf[lmeval]'")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

WMDP_CLI = DomainTask(
    name="wmdp_cli", modality="text", build=lambda source: load_wmdp("cyber", wmdp_source())
)
CONFIG = "wmdp_cli_del10"
LOCAL = "wmdp_cli_forget_mcq,wmdp_cli_utility_mcq"


@pytest.fixture(scope="module", autouse=True)
def _wmdp_cli_task():
    """Registered only while this module runs, so other tests see the shipped registry."""
    register_task(WMDP_CLI, replace=True)
    yield
    TASKS.pop(WMDP_CLI.name, None)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wmdp_cli") / "repo"
    build_splits("wmdp_cli", out, ratios=(10,), order="upstream", show_progress=False)
    return out


@pytest.fixture(scope="module")
def base(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mubench_hf.cli import main

    out = tmp_path_factory.mktemp("wmdp_cli_base") / "base"
    assert main(["train-base", "--dataset", str(repo), "--task", "wmdp_cli", "--model", "tiny:gpt2", "--output_dir",
                 str(out), "--max_steps", "2", "--disable_tqdm", "true", "--report_to", "none"]) == 0  # fmt: skip
    return out


def test_evaluate_with_lm_eval_reports_the_harness_accuracy(
    base: Path, repo: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "scored"
    result = run_cli(["evaluate", "--model", str(base), "--dataset", str(repo), "--config", CONFIG, "--output_dir",
                      str(out), "--max-new-tokens", "2", "--lm-eval", LOCAL, "--lm-eval-batch-size", "4"], capsys)  # fmt: skip
    assert result.code == 0, result.err
    scores = json.loads((out / "unlearning_results.json").read_text())
    for split in ("forget_mcq", "utility_mcq"):
        assert scores[f"lm_eval/wmdp_cli_{split}/acc"] == pytest.approx(
            scores[f"{split}_accuracy"], abs=1e-12
        )
    # six WMDP-shaped questions and five MMLU-shaped ones: accuracies are multiples of 1/6 and 1/5
    assert (
        round(scores["forget_mcq_accuracy"] * 6, 9) % 1 == 0
        and round(scores["utility_mcq_accuracy"] * 5, 9) % 1 == 0
    )


def test_evaluate_refuses_bad_lm_eval_flags(base: Path, repo: Path, tmp_path: Path, capsys) -> None:
    common = [
        "evaluate",
        "--model",
        str(base),
        "--dataset",
        str(repo),
        "--config",
        CONFIG,
        "--output_dir",
        str(tmp_path / "x"),
    ]
    alone = run_cli([*common, "--lm-eval-limit", "3"], capsys)
    assert alone.code != 0 and "--lm-eval-limit: give --lm-eval TASKS too" in alone.err
    unknown = run_cli([*common, "--max-new-tokens", "1", "--lm-eval", "wmdp_cli_forget"], capsys)
    assert unknown.code != 0
    assert "lm-eval knows no task ['wmdp_cli_forget']" in unknown.err and "wmdp_cli_forget_mcq" in unknown.err
    assert not (tmp_path / "x" / "unlearning_results.json").exists()
    empty = run_cli([*common, "--lm-eval", " , "], capsys)
    assert empty.code != 0 and "--lm-eval needs task names" in empty.err


@pytest.mark.slow
def test_unlearning_wmdp_pydocs_lowers_forget_domain_accuracy_and_keeps_utility(tmp_path: Path) -> None:
    """The README's measurement, for NPO: base model trained with the task's recipe, then unlearned."""
    import subprocess
    import sys

    example = Path(__file__).parents[1] / "examples" / "wmdp_pydocs_unlearning.py"
    subprocess.run([sys.executable, str(example), "--output", str(tmp_path), "--methods", "npo"], check=True)
    scores = json.loads((tmp_path / "npo" / "unlearning_results.json").read_text())
    assert scores["original_forget_mcq_accuracy"] > 0.6  # memorised: chance is 0.25
    assert scores["retrain_forget_mcq_accuracy"] < 0.45  # never saw the forget corpus
    assert scores["forget_mcq_accuracy"] < scores["original_forget_mcq_accuracy"] - 0.2
    assert scores["utility_mcq_accuracy"] > scores["original_utility_mcq_accuracy"] - 0.1
    assert scores["lm_eval/wmdp_pydocs_forget_mcq/acc"] == pytest.approx(
        scores["forget_mcq_accuracy"], abs=1e-12
    )


def test_tasks_json_lists_the_wmdp_tasks_and_the_offline_stand_in(capsys) -> None:
    result = run_cli(["tasks", "--json"], capsys)
    listed = {t["name"]: t for t in json.loads(result.out)}
    assert listed["wmdp_bio"]["offline"] is False and listed["wmdp_bio"]["source"].startswith("cais/wmdp")
    assert listed["wmdp_cyber"]["kind"] == "generation"
    assert listed["wmdp_pydocs"]["offline"] is True and listed["wmdp_pydocs"]["license"] == "psf-2.0"
