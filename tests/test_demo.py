"""``mubench demo``'s presets: which grids they run (tasks, methods, configs, folders), the bad flags they
refuse before anything runs, the combined summary of several task folders; and (slow) the whole
``--all-modalities`` preset end to end: finite metrics, a leaderboard section per task and config, and
every forgetting method lowering the forgotten class's accuracy."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from mubench_hf.cli import demo
from mubench_hf.errors import MubenchError
from mubench_hf.sweeps.grid import RETRAIN, make_grid
from mubench_hf.tasks import get_task
from mubench_hf.trainers import list_methods

MODALITIES = {
    "digits": "image",
    "spoken_keywords": "audio",
    "moving_digits": "video",
    "digit_pairs": "image_text",
}


def _grids(*flags: str, output: Path) -> list[Any]:
    return demo.make_demo_grids(demo.build_parser().parse_args([*flags, "--output", str(output)]))


def test_the_quick_demo_is_every_method_on_digits_then_a_short_generation_grid(tmp_path: Path) -> None:
    digits, generation = _grids(output=tmp_path / "out")
    assert digits.task == "digits" and sorted(digits.methods) == sorted(list_methods("classification"))
    assert digits.configs == ["digits_del5"] and digits.seeds == [42] and digits.classes == []
    assert generation.task == "fictitious_authors_small" and get_task(generation.task).kind == "generation"
    assert generation.methods == ["retrain", "grad_ascent", "npo", "idk"]
    assert set(generation.methods) <= set(list_methods("generation")) | {RETRAIN}
    assert generation.configs == ["fictitious_authors_small_del10"] and generation.seeds == [42]
    assert generation.base_recipe == {}  # the task's own recipe: it memorises the answers
    # each grid is a sweep folder of its own inside the output, and keeps its unlearned weights
    assert [Path(g.output) for g in (digits, generation)] == [
        tmp_path / "out" / "digits",
        tmp_path / "out" / "fictitious_authors_small",
    ]
    assert digits.save_models and generation.save_models
    assert digits.split_seed == generation.split_seed == 42


def test_no_generation_leaves_the_digits_grid_alone(tmp_path: Path) -> None:
    (digits,) = _grids("--no-generation", output=tmp_path)
    assert digits.task == "digits" and digits.configs == ["digits_del5"]
    assert [g["task"] for g in demo.demo_grids(generation=False)] == ["digits"]


def test_seed_sets_the_models_and_the_deletion_order(tmp_path: Path) -> None:
    grids = _grids("--seed", "7", output=tmp_path)
    assert all(g.seeds == [7] and g.split_seed == 7 for g in grids)


def test_all_modalities_runs_every_offline_classification_task_with_a_class_config_then_generation(
    tmp_path: Path,
) -> None:
    grids = _grids("--all-modalities", output=tmp_path)
    assert [g.task for g in grids] == [*MODALITIES, "fictitious_authors_small"]
    every_method = sorted(list_methods("classification"))
    for grid in grids[:-1]:
        spec = get_task(grid.task)
        assert spec.modality == MODALITIES[grid.task] and spec.kind == "classification"
        assert sorted(grid.methods) == every_method
        assert grid.configs == [f"{grid.task}_del5", f"{grid.task}_class0"]
        assert grid.output == str(tmp_path / grid.task)
    assert grids[-1].configs == ["fictitious_authors_small_del10"]
    without = _grids("--all-modalities", "--no-generation", output=tmp_path)
    assert [g.task for g in without] == list(MODALITIES)


def test_the_presets_have_their_own_default_folders() -> None:
    parse = demo.build_parser().parse_args
    assert demo.output_of(parse([])) == Path("demo_out")
    assert demo.output_of(parse(["--all-modalities"])) == Path("demo_all_modalities_out")
    assert demo.output_of(parse(["--all-modalities", "--output", "x"])) == Path("x")


def test_the_preset_grids_are_valid_grids_as_written() -> None:
    """The module's preset values go through make_grid unchanged (a typo in a method name would not)."""
    for values in demo.demo_grids(all_modalities=True):
        grid = make_grid({**values, "output": "unused"})
        assert grid.task == values["task"]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--all-modalities=yes"], "ignored explicit argument"),
        (["--no-generation", "x"], "unrecognized arguments"),
        (["--classes", "3"], "unrecognized arguments"),
        (["--ratios", "5"], "unrecognized arguments"),
    ],
)
def test_bad_flags_are_refused_by_the_parser(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as raised:
        demo.main([*flags, "--output", str(tmp_path / "out")])
    assert raised.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_output_inside_a_file_is_refused_for_every_preset(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("x")
    for flags in ([], ["--all-modalities"]):
        with pytest.raises(MubenchError, match="is a file"):
            demo.main([*flags, "--output", str(taken)])
        with pytest.raises(MubenchError, match="which is a file"):
            demo.main([*flags, "--output", str(taken / "sub")])


def test_splits_that_cannot_serve_a_later_grid_are_refused_before_any_grid_runs(tmp_path: Path) -> None:
    """The quick demo's digits splits hold no class-wise config: --all-modalities into the same folder
    says so (and how to go on) before it trains anything, also for the tasks after digits."""
    from mubench_hf.splits import build_splits

    out = tmp_path / "demo_out"
    build_splits("digits", out / "digits" / "mubench", ratios=["5"], seed=42, show_progress=False)
    with pytest.raises(MubenchError, match="--overwrite") as raised:
        demo.main(["--all-modalities", "--output", str(out), "--no-progress"])
    assert "forget class(es) 0" in str(raised.value)
    assert sorted(p.name for p in out.iterdir()) == ["digits"]  # nothing else was started
    assert not (out / "digits" / "models").exists()


def _record(task: str, config: str, method: str, **metrics: float) -> dict[str, Any]:
    return {
        "task": task,
        "config": config,
        "seed": 42,
        "method": method,
        "status": "done",
        "metrics": metrics,
    }


def test_the_summary_of_several_task_folders_is_one_leaderboard_with_a_section_per_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """write_summary combines the folders' finished cells: one results file, a leaderboard section per
    config ranked by its task kind's rule, and figures for both kinds."""
    import mubench_hf.sweeps.summary as summary

    classification = dict(forget_accuracy=0.9, retain_accuracy=1.0, test_accuracy=0.95, mia_efficacy=0.1)
    cells = {
        "digits": [
            _record(
                "digits", "digits_del5", RETRAIN, **classification, mubench_score=0.2, gap_to_retrain=0.0
            ),
            _record("digits", "digits_del5", "npo", **classification, mubench_score=0.3, gap_to_retrain=0.05),
            _record("digits", "digits_del5", "ssd", **classification, mubench_score=0.1, gap_to_retrain=0.01),
        ],
        "fictitious_authors": [
            _record(
                "fictitious_authors",
                "fictitious_authors_del5",
                RETRAIN,
                forget_quality=1.0,
                model_utility=0.5,
            ),
            _record(
                "fictitious_authors",
                "fictitious_authors_del5",
                "npo",
                forget_quality=0.01,
                model_utility=0.6,
                forget_rouge_l=0.3,
            ),  # fmt: skip
            _record(
                "fictitious_authors",
                "fictitious_authors_del5",
                "idk",
                forget_quality=0.2,
                model_utility=0.4,
                forget_rouge_l=0.1,
            ),  # fmt: skip
        ],
    }
    monkeypatch.setattr(
        summary, "folder_records", lambda folder: summary.FolderRecords(cells[Path(folder).name])
    )
    result = demo.write_summary(tmp_path, [tmp_path / "digits", tmp_path / "fictitious_authors"])
    board = (tmp_path / "leaderboard.md").read_text()
    assert "## digits_del5" in board and "## fictitious_authors_del5" in board
    generation = board.split("## fictitious_authors_del5")[1]
    assert "forget quality ↑" in generation and "forget acc" not in generation
    # generation ranks by forget quality (idk 0.2 before npo 0.01) though npo has the higher utility
    assert generation.index("| 1 | idk") < generation.index("| 2 | npo")
    digits_section = board.split("## digits_del5")[1].split("##")[0]
    assert digits_section.index("| 1 | ssd") < digits_section.index("| 2 | npo")  # gap to retrain
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 6
    csv_lines = (tmp_path / "results.csv").read_text().splitlines()
    assert len(csv_lines) == 7 and {line.split(",")[0] for line in csv_lines[1:]} == set(cells)
    names = sorted(p.name for p in result["figures"])
    assert "digits_del5_forget_vs_test.png" in names
    assert "fictitious_authors_del5_quality_vs_utility.png" in names
    assert "fictitious_authors_del5_forget_rouge_l.png" in names
    assert all(p.is_file() and p.stat().st_size > 0 for p in result["figures"])


# Measured (mubench run --methods all --ratios 5 --classes 0 --seeds 42 with the quick settings): every
# forgetting method lowers the class-wise config's forget accuracy on all four tasks. SSD needs its per-task
# α (6 on spoken_keywords and moving_digits) and on digit_pairs, whose class 0 is half of train, a
# class-wise-only α 1.2 and λ 0.1 (0.765 -> 0.147; sweeps/defaults.py). A method listed here is expected
# not to lower it (the slow test is strict both ways).
# boundary_expand on digit_pairs (measured with the demo's own cell, `mubench run --task digit_pairs --methods
# boundary_expand --ratios 5 --classes 0 --seeds 42`): class 0 is half of this binary task, and once its rows
# have been pushed into the shadow class and the shadow output is removed, the model calls every row class
# 0 (forget accuracy 0.766 -> 1.000, test 0.500); boundary_shrink lowers it there (0.766 -> 0.446).
# fisher on digit_pairs (the same command with --methods all): measured, the model calls nearly every row class
# 0 afterwards (forget accuracy 0.752 -> 0.995, test 0.505). Our reading, not checked further: with class 0
# forgotten the retain set is class 1 only, whose Fisher information leaves the weights that tell the two
# classes apart unconstrained, so the noise scaled by its inverse is largest there. The other 28 methods lower
# it (retrain: 0.000).
NOT_LOWERED: set[tuple[str, str]] = {("digit_pairs", "boundary_expand"), ("digit_pairs", "fisher")}
# influence on digit_pairs: its single Newton step sends this binary model to one class or the other, and which
# one changes with the float path: measured 0.752 -> 0.021 in the `mubench run` above (2 threads) and -> 0.990
# in this test (1 thread, test 0.50 both times). Asserted: it collapses to one class (forget accuracy <= 0.05
# or >= 0.95), not which.
ONE_CLASS: set[tuple[str, str]] = {("digit_pairs", "influence")}


def test_ssd_gets_its_per_task_alpha_on_the_audio_and_video_tasks() -> None:
    from mubench_hf.sweeps.defaults import default_hyperparameters

    assert default_hyperparameters("digits")["ssd"] == {"selection_weighting": 8.0}
    for task in ("spoken_keywords", "moving_digits"):
        settings = default_hyperparameters(task)
        assert settings["ssd"] == {"selection_weighting": 6.0}
        assert settings["grad_ascent"] == default_hyperparameters("digits")["grad_ascent"]
        assert default_hyperparameters(task, class_wise=True) == settings  # no class-wise changes
    assert default_hyperparameters("go_relations")["ssd"] == {"selection_weighting": 4.0}
    assert default_hyperparameters("digit_pairs")["ssd"] == {"selection_weighting": 8.0}
    class_wise = default_hyperparameters("digit_pairs", class_wise=True)
    assert class_wise["ssd"] == {"selection_weighting": 1.2, "dampening_constant": 0.1}
    assert class_wise["salun"] == default_hyperparameters("digit_pairs")["salun"]
    assert default_hyperparameters("cifar10") == {}
    assert default_hyperparameters("cifar10", class_wise=True) == {}


def test_class_wise_cells_get_the_class_wise_defaults_and_grid_settings_still_win(tmp_path: Path) -> None:
    from mubench_hf.sweeps.runner import make_cell

    grid = make_grid({"task": "digit_pairs", "methods": ["ssd"], "ratios": [5], "classes": [0],
                      "seeds": [42], "output": str(tmp_path)})  # fmt: skip
    cells = {c: make_cell(grid, c, 42, "ssd", "s", "b", "r") for c in grid.configs}
    assert cells["digit_pairs_del5"].arguments["selection_weighting"] == 8.0
    assert "dampening_constant" not in cells["digit_pairs_del5"].arguments
    assert cells["digit_pairs_class0"].arguments["selection_weighting"] == 1.2
    assert cells["digit_pairs_class0"].arguments["dampening_constant"] == 0.1
    mine = make_grid({**grid.__dict__, "hyperparameters": {"ssd": {"selection_weighting": 1.5}}})
    assert mine.method_arguments("ssd", "digit_pairs_class0")["selection_weighting"] == 1.5
    assert mine.method_arguments("ssd", "digit_pairs_class0")["dampening_constant"] == 0.1


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_all_modalities_end_to_end(tmp_path: Path, one_torch_thread: None) -> None:
    import csv
    import json

    out = tmp_path / "demo"
    assert demo.main(["--all-modalities", "--output", str(out), "--no-progress"]) == 0
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    board = (out / "leaderboard.md").read_text()
    for task in MODALITIES:
        assert f"## {task}_del5" in board and f"## {task}_class0" in board
    assert "## fictitious_authors_small_del10" in board
    assert {r["task"] for r in records} == {*MODALITIES, "fictitious_authors_small"}
    assert all(r["status"] == "done" for r in records)
    for record in records:
        for name, value in record["metrics"].items():
            if isinstance(value, float):
                assert math.isfinite(value), (record["config"], record["method"], name)
    for record in records:
        metrics = record["metrics"]
        if record["config"].endswith("_class0") and record["method"] != RETRAIN:
            lowered = metrics["forget_accuracy"] < metrics["original_forget_accuracy"]
            if (record["task"], record["method"]) in ONE_CLASS:
                accuracy = metrics["forget_accuracy"]
                assert accuracy <= 0.05 or accuracy >= 0.95, (record["config"], record["method"], accuracy)
            elif (record["task"], record["method"]) in NOT_LOWERED:  # strict: drop it once it forgets
                assert not lowered, (
                    f"{record['config']} {record['method']} forgets now: drop it from NOT_LOWERED"
                )
            else:
                assert lowered, (record["config"], record["method"], metrics["forget_accuracy"])
        if record["task"] == "fictitious_authors_small" and record["method"] != RETRAIN:
            assert metrics["forget_rouge_l"] < metrics["original_forget_rouge_l"], record["method"]
    with (out / "results.csv").open() as handle:
        assert {row["config"] for row in csv.DictReader(handle)} >= {f"{t}_class0" for t in MODALITIES}
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {f"{t}_class0_forget_vs_test.png" for t in MODALITIES} <= figures
    assert "fictitious_authors_small_del10_quality_vs_utility.png" in figures


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_the_demo_generation_grid_memorises_then_forgets(tmp_path: Path, one_torch_thread: None) -> None:
    """The default demo's generation grid: the base model knows the forget authors far better than the
    retrain model that never saw them, and every method moves forget ROUGE-L down from the base's."""
    import json

    from mubench_hf.sweeps.grid import make_grid
    from mubench_hf.sweeps.runner import run_grid
    from mubench_hf.sweeps.summary import folder_records

    grid = make_grid({**demo.GENERATION_GRID, "output": str(tmp_path / "generation")})
    assert not run_grid(grid, show_progress=False).failed
    records = {r["method"]: r["metrics"] for r in folder_records(tmp_path / "generation").records}
    base = records[RETRAIN]["original_forget_rouge_l"]
    # memorised, not just the answers' wording: far above the retrain model, which never saw those authors
    assert base > records[RETRAIN]["forget_rouge_l"] + 0.2, records[RETRAIN]

    cell = tmp_path / "generation" / "cells" / grid.configs[0] / "seed42" / RETRAIN
    warned = json.loads((cell / "unlearning_results.json").read_text()).get("warnings", [])
    assert not [w for w in warned if "memorised" in w], warned
    for method in demo.GENERATION_METHODS[1:]:
        assert records[method]["forget_rouge_l"] < base, method
