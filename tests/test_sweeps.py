"""``mubench run``: a tiny real sweep (digits, 4 methods × 1 ratio × 2 seeds, one-epoch base recipe).

It checks resuming (finished cells are not run again), recovery (a corrupt cell file is redone),
isolation (a failing cell is recorded and the others still run), aggregation (equal to NumPy on the
cell results), grid validation (errors name the key) and the figures (real PNG files).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mubench_hf.errors import MubenchError
from mubench_hf.sweeps import load_grid, run_grid
from mubench_hf.sweeps.aggregate import aggregate
from mubench_hf.sweeps.cells import CELL_FILE
from mubench_hf.sweeps.grid import make_grid
from mubench_hf.sweeps.references import DONE_FILE

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SEEDS = [1, 2]
# salun's mask_ratio must lie in (0, 1]: its cells fail, and the cells after them must still run.
TINY_GRID = {
    "task": "digits",
    "methods": ["retrain", "salun", "grad_ascent", "finetune"],
    "ratios": [5],
    "seeds": SEEDS,
    "base_recipe": {"num_train_epochs": 1},
    "hyperparameters": {
        "salun": {"mask_ratio": 5.0},
        "grad_ascent": {"max_steps": 2},
        "finetune": {"max_steps": 2},
    },
}
DONE_METHODS = ["retrain", "grad_ascent", "finetune"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _grid(output: Path):
    return make_grid({**TINY_GRID, "output": str(output)})


def _cell_file(output: Path, method: str, seed: int) -> Path:
    return output / "cells" / "digits_del5" / f"seed{seed}" / method / CELL_FILE


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    import torch

    output = tmp_path_factory.mktemp("sweep")
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # module-scoped: runs before the function-scoped one_torch_thread
    try:
        yield output, run_grid(_grid(output), show_progress=False, log=lambda _: None)
    finally:
        torch.set_num_threads(before)


def _copy(sweep, tmp_path: Path) -> Path:
    """A private copy of the finished sweep, for tests that rerun or damage it."""
    copy = tmp_path / "sweep"
    shutil.copytree(sweep[0], copy)
    return copy


def test_every_cell_is_recorded_and_a_failing_cell_does_not_stop_the_grid(sweep):
    output, result = sweep
    assert len(result.records) == len(SEEDS) * len(TINY_GRID["methods"])
    assert result.ran == len(result.records) and result.reused == 0
    for record in result.records:
        if record["method"] == "salun":
            assert record["status"] == "failed"
            assert "mask_ratio" in record["error"]
        else:
            assert record["status"] == "done", record.get("error")
            assert 0.0 <= record["metrics"]["forget_accuracy"] <= 1.0
    lines = (output / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["method"] for line in lines] == [r["method"] for r in result.records]
    failed = json.loads(_cell_file(output, "salun", 1).read_text())
    assert failed["status"] == "failed" and "Traceback" in failed["traceback"]


def test_retrain_row_is_the_reference_model_itself(sweep):
    _, result = sweep
    for record in result.records:
        if record["method"] == "retrain":
            metrics = record["metrics"]
            assert metrics["gap_to_retrain"] == pytest.approx(0.0, abs=1e-12)
            assert metrics["forget_accuracy"] == pytest.approx(metrics["retrain_forget_accuracy"])


def test_rerun_skips_finished_cells_and_reference_models(sweep, tmp_path):
    output = _copy(sweep, tmp_path)
    finished = [_cell_file(output, m, s) for m in DONE_METHODS for s in SEEDS]
    models = list((output / "models").glob(f"*/{DONE_FILE}"))
    assert len(models) == 2 * len(SEEDS)  # one base and one retrain model per seed
    before = {p: p.stat().st_mtime_ns for p in finished + models}
    result = run_grid(_grid(output), show_progress=False, log=lambda _: None)
    assert result.reused == len(finished)
    assert result.ran == len(SEEDS)  # only the failed salun cells are tried again
    assert {p: p.stat().st_mtime_ns for p in finished + models} == before


def test_corrupt_or_partial_cell_file_is_redone(sweep, tmp_path):
    output = _copy(sweep, tmp_path)
    corrupt = _cell_file(output, "grad_ascent", 2)
    corrupt.write_text(corrupt.read_text()[:40])  # half a file, as a crash mid-write would leave
    partial = _cell_file(output, "finetune", 1)
    record = json.loads(partial.read_text())
    del record["metrics"]["test_accuracy"]  # valid JSON, but not a complete result
    partial.write_text(json.dumps(record))
    result = run_grid(_grid(output), show_progress=False, log=lambda _: None)
    assert result.ran == len(SEEDS) + 2  # the two damaged cells and the two failed salun cells
    for path in (corrupt, partial):
        redone = json.loads(path.read_text())
        assert redone["status"] == "done" and "test_accuracy" in redone["metrics"]


def test_aggregated_mean_and_std_equal_numpy_on_the_cells(sweep):
    output, result = sweep
    with (output / "results.csv").open() as handle:
        csv_rows = {row["method"]: row for row in csv.DictReader(handle)}
    for method in DONE_METHODS:
        cells = [r["metrics"] for r in result.records if r["method"] == method]
        for metric in ("forget_accuracy", "test_accuracy", "mubench_score", "gap_to_retrain"):
            values = np.array([m[metric] for m in cells])
            assert float(csv_rows[method][f"{metric}_mean"]) == pytest.approx(values.mean(), abs=1e-12)
            assert float(csv_rows[method][f"{metric}_std"]) == pytest.approx(values.std(), abs=1e-12)
        assert csv_rows[method]["n_seeds"] == str(len(SEEDS))
    assert csv_rows["salun"]["n_seeds"] == "0" and csv_rows["salun"]["n_failed"] == str(len(SEEDS))


def test_aggregate_counts_failures_and_keeps_method_order():
    records = [
        {"task": "t", "config": "c", "method": "b", "status": "done", "metrics": {"x": 1.0}},
        {"task": "t", "config": "c", "method": "a", "status": "failed", "error": "boom"},
        {"task": "t", "config": "c", "method": "b", "status": "done", "metrics": {"x": 4.0}},
    ]
    rows = aggregate(records)
    assert [r["method"] for r in rows] == ["b", "a"]
    assert rows[0]["x_mean"] == 2.5 and rows[0]["x_std"] == 1.5 and rows[0]["n_seeds"] == 2
    assert rows[1]["n_seeds"] == 0 and rows[1]["n_failed"] == 1 and "x_mean" not in rows[1]


def _cell(method: str, seed: int, **metrics: float) -> dict:
    return {"task": "t", "config": "c", "method": method, "seed": seed, "status": "done", "metrics": metrics}


def test_seed_intervals_are_student_t_on_the_sample_deviation():
    values = [0.50, 0.62, 0.55, 0.58, 0.47]
    rows = aggregate([_cell("m", seed, x=v) for seed, v in enumerate(values)])
    # hand-computed: mean 0.544, s = 0.060249, t(0.975, 4) = 2.776445 -> half-width 0.074808
    assert rows[0]["x_seeds_ci_low"] == pytest.approx(0.544 - 0.074808, abs=1e-5)
    assert rows[0]["x_seeds_ci_high"] == pytest.approx(0.544 + 0.074808, abs=1e-5)
    one_seed = aggregate([_cell("m", 0, x=0.5, x_ci_low=0.4)])[0]
    assert "x_seeds_ci_low" not in one_seed and "x_ci_low_seeds_ci_low" not in one_seed
    assert one_seed["x_ci_low_mean"] == 0.4  # per-cell bootstrap bounds are averaged, not re-intervalled


def test_same_as_retrain_pairs_seeds_and_needs_every_compared_metric_to_hold_zero():
    retrain = [_cell("retrain", s, forget_accuracy=0.90 + 0.01 * s, test_accuracy=0.95) for s in range(3)]
    close = [_cell("close", s, forget_accuracy=0.90 + 0.01 * s + d, test_accuracy=0.95 + d)
             for s, d in zip(range(3), (0.01, -0.01, 0.002))]  # fmt: skip
    far = [_cell("far", s, forget_accuracy=0.20 + 0.01 * s, test_accuracy=0.95) for s in range(3)]
    lonely = [_cell("lonely", 7, forget_accuracy=0.9, test_accuracy=0.95)]  # no retrain of seed 7
    rows = {r["method"]: r for r in aggregate(retrain + close + far + lonely)}
    assert rows["close"]["same_as_retrain"] is True
    assert rows["far"]["same_as_retrain"] is False
    assert rows["lonely"]["same_as_retrain"] is None and rows["retrain"]["same_as_retrain"] is None


def test_results_csv_and_leaderboard_carry_seed_intervals_and_the_retrain_verdict(sweep):
    output, result = sweep
    with (output / "results.csv").open() as handle:
        csv_rows = {row["method"]: row for row in csv.DictReader(handle)}
    for method in DONE_METHODS:
        values = np.array([r["metrics"]["forget_accuracy"] for r in result.records if r["method"] == method])
        low, high = (
            float(csv_rows[method]["forget_accuracy_seeds_ci_low"]),
            float(csv_rows[method]["forget_accuracy_seeds_ci_high"]),
        )
        half = 12.7062047362 * values.std(ddof=1) / np.sqrt(2)  # t(0.975, 1): two seeds
        assert (low, high) == pytest.approx((values.mean() - half, values.mean() + half), abs=1e-9)
    text = (output / "leaderboard.md").read_text()
    assert "| ≈ retrain | seeds |" in text and "95 % t-interval over seeds" in text


def test_leaderboard_ranks_retrain_first_then_by_gap(sweep):
    output, result = sweep
    text = (output / "leaderboard.md").read_text()
    table = [line for line in text.splitlines() if line.startswith("| ") and "method" not in line]
    methods = [line.split("|")[2].strip() for line in table]
    assert methods[0] == "retrain" and methods[-1] == "salun"  # no result: last
    gaps = {r["method"]: r["gap_to_retrain_mean"] for r in result.rows if r["n_seeds"]}
    ranked = [m for m in methods if m in gaps and m != "retrain"]
    assert ranked == sorted(ranked, key=gaps.get)


def test_figures_are_png_files(sweep):
    output, result = sweep
    names = sorted(p.name for p in result.figures)
    assert names == [
        "digits_del5_forget_vs_test.png",
        "digits_del5_gap_to_retrain.png",
        "digits_del5_mubench_score.png",
    ]
    for path in result.figures:
        data = path.read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) > 1000
        assert path.parent == output / "figures"


def test_cli_run_with_a_grid_file_reuses_the_sweep(sweep, tmp_path, capsys):
    from mubench_hf.cli import main

    output = _copy(sweep, tmp_path)
    grid_file = tmp_path / "grid.yaml"
    settings = {**TINY_GRID, "methods": ["retrain", "grad_ascent"], "output": str(output)}
    settings["hyperparameters"] = {"grad_ascent": TINY_GRID["hyperparameters"]["grad_ascent"]}
    grid_file.write_text(json.dumps(settings))  # JSON is YAML too
    assert main(["run", str(grid_file), "--threads", "1", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "4 reused" in printed and "0 run now" in printed
    assert "| ref | retrain |" in printed and str(output / "leaderboard.md") in printed


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"metods": ["salun"]}, "metods"),
        ({"seeds": "forty-two"}, "seeds"),
        ({"ratios": True}, "ratios"),
        ({"methods": ["salun", "forgetall"]}, "forgetall"),
        ({"hyperparameters": {"salun": {"mask_ration": 0.5}}}, "mask_ration"),
        ({"hyperparameters": {"scrub": {"learning_rate": 1e-3}}}, "hyperparameters.scrub"),
        ({"base_recipe": {"num_epochs": 1}}, "num_epochs"),
        ({"unlearn_args": {"bogus": 1}}, "bogus"),
        ({"classes": [0], "class_wise_hyperparameters": {"salun": {"mask_ration": 0.5}}}, "mask_ration"),
        ({"classes": [0], "class_wise_hyperparameters": {"scrub": {}}}, "class_wise_hyperparameters.scrub"),
        ({"class_wise_hyperparameters": {"salun": {"learning_rate": 1e-3}}}, "add classes"),
        (
            {"classes": [0], "class_wise_hyperparameters": {"salun": {"learning_rate": -1.0}}},
            "class_wise_hyperparameters.salun",
        ),
    ],
)
def test_invalid_grid_file_names_the_key(tmp_path, change, named):
    grid_file = tmp_path / "grid.yaml"
    import yaml

    grid_file.write_text(yaml.safe_dump({"task": "digits", "methods": ["salun"], **change}))
    with pytest.raises(MubenchError, match=named):
        load_grid(grid_file)


def test_grid_file_that_is_not_a_mapping_is_refused(tmp_path):
    grid_file = tmp_path / "grid.yaml"
    grid_file.write_text("- digits\n- salun\n")
    with pytest.raises(MubenchError, match="mapping"):
        load_grid(grid_file)


def test_method_arguments_layer_grid_settings_over_the_defaults():
    grid = make_grid({"task": "digits", "methods": "all", "hyperparameters": {"salun": {"mask_ratio": 0.3}}})
    assert grid.methods[0] == "retrain" and "ssd" in grid.methods
    salun = grid.method_arguments("salun")
    assert salun["mask_ratio"] == 0.3 and salun["learning_rate"] == 3e-3
    assert salun["per_device_train_batch_size"] == 32
    assert make_grid({"task": "digits", "methods": ["retrain"]}).methods == ["retrain"]


def test_class_wise_hyperparameters_reach_the_class_wise_configs_only():
    grid = make_grid({"task": "digits", "methods": ["salun", "ssd"], "ratios": [5], "classes": [3],
                      "hyperparameters": {"salun": {"learning_rate": 1e-3, "mask_ratio": 0.3}},
                      "class_wise_hyperparameters": {"salun": {"learning_rate": 2e-2}}})  # fmt: skip
    random, class_wise = (grid.method_arguments("salun", c) for c in ("digits_del5", "digits_class3"))
    assert random["learning_rate"] == 1e-3 and class_wise["learning_rate"] == 2e-2
    assert random["mask_ratio"] == class_wise["mask_ratio"] == 0.3  # the rest is shared
    assert grid.method_arguments("salun")["learning_rate"] == 1e-3  # no config: the random-deletion settings
    assert grid.method_arguments("ssd", "digits_class3") == grid.method_arguments("ssd", "digits_del5")


def test_changed_hyperparameters_rerun_only_that_method(sweep, tmp_path):
    output = _copy(sweep, tmp_path)
    settings = {**TINY_GRID, "output": str(output)}
    settings["hyperparameters"] = {**TINY_GRID["hyperparameters"], "grad_ascent": {"max_steps": 3}}
    untouched = _cell_file(output, "finetune", 1)
    before = untouched.stat().st_mtime_ns
    result = run_grid(make_grid(settings), show_progress=False, log=lambda _: None)
    assert result.ran == 2 * len(SEEDS)  # grad_ascent with its new settings, and the failed salun cells
    assert untouched.stat().st_mtime_ns == before
    record = json.loads(_cell_file(output, "grad_ascent", 1).read_text())
    assert record["settings"]["arguments"]["max_steps"] == 3


def test_demo_is_one_grid_over_every_method():
    from mubench_hf.cli.demo import DEMO_GRID
    from mubench_hf.trainers import list_methods

    grid = make_grid({**DEMO_GRID, "output": "unused"})
    assert sorted(grid.methods) == sorted(list_methods("classification"))
    assert grid.configs == ["digits_del5"] and grid.seeds == [42]


def test_a_grid_refuses_a_method_that_does_not_apply_to_its_task_kind():
    from mubench_hf.trainers import list_methods

    generation_only = sorted(set(list_methods()) - set(list_methods("classification")))
    assert generation_only  # idk, idk_dpo, rmu, undial
    with pytest.raises(MubenchError, match=f"{generation_only[0]} do\\(es\\) not apply to classification"):
        make_grid({"task": "digits", "methods": [generation_only[0]], "output": "unused"})


# ----------------------------------------------------------------------------- grid files
def test_grid_files_read_numbers_as_written(tmp_path):
    from mubench_hf.config_files import read_config_file

    path = tmp_path / "args.yaml"
    path.write_text(
        "a: 3e-3\nb: 1e-4\nc: 5\nd: -2\ne: .5\nf: 1E5\ng: no\nh: tiny:resnet\ni: '3e-3'\nj: 2024-01-01\nk: true\n"
    )
    values = read_config_file(path)
    assert values == {
        "a": 0.003, "b": 0.0001, "c": 5, "d": -2, "e": 0.5, "f": 100000.0, "g": "no", "h": "tiny:resnet",
        "i": "3e-3", "j": "2024-01-01", "k": True,
    }  # fmt: skip
    assert [type(values[k]) for k in "abcdef"] == [float, float, int, int, float, float]


def test_the_documented_grid_example_loads(tmp_path):
    import mubench_hf.sweeps.grid as grid_module

    doc = grid_module.__doc__
    example = doc[doc.index("::") + 2 : doc.index("Every name")]
    grid_file = tmp_path / "grid.yaml"
    grid_file.write_text(textwrap.dedent(example.strip("\n")))
    grid = load_grid(grid_file, overrides={"methods": ["retrain", "salun", "random_label"]})
    assert grid.hyperparameters["salun"]["learning_rate"] == 3e-3  # a number, not the string '3e-3'
    assert grid.configs == ["digits_del1", "digits_del2.5", "digits_del10", "digits_class3"]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (None, "does not exist"),
        ("", "empty file"),
        ("task: digits\nmethods: [salun\n", "line 3"),
        ("[1, 2]\n", "mapping"),
        ("task: digits\nbase_recipe: {num_train_epochs: eight}\n", "base_recipe.num_train_epochs"),
    ],
)
def test_bad_grid_files_name_the_file_and_the_fix(tmp_path, text, named):
    grid_file = tmp_path / "grid.yaml"
    if text is not None:
        grid_file.write_text(text)
    with pytest.raises(MubenchError, match=re.escape(named)):
        load_grid(grid_file)


def test_fractional_ratios_name_their_configs():
    grid = make_grid({"task": "digits", "methods": ["retrain"], "ratios": "2.5,1", "seeds": [1]})
    assert grid.ratios == [1, 2.5] and grid.configs == ["digits_del1", "digits_del2.5"]


# ----------------------------------------------------------------------------- a folder, many grids
def test_every_cell_record_and_reference_model_carries_checksums(sweep):
    from mubench_hf.sweeps.cells import is_intact

    output, _ = sweep
    record = json.loads(_cell_file(output, "grad_ascent", 1).read_text())
    assert is_intact(record) and len(record["checksum"]) == 64
    assert set(record["settings"]["references"]) == {"splits", "base", "retrain"}
    done = json.loads((output / "models" / "base_digits_seed1" / DONE_FILE).read_text())
    assert "model.safetensors" in done["files"] and len(done["weights"]) == 64


def test_a_smaller_grid_keeps_every_finished_cell_in_the_summaries(sweep, tmp_path):
    output = _copy(sweep, tmp_path)
    before = (output / "results.jsonl").read_text()
    settings = {**TINY_GRID, "methods": ["grad_ascent"], "seeds": [2], "output": str(output)}
    settings["hyperparameters"] = {"grad_ascent": TINY_GRID["hyperparameters"]["grad_ascent"]}
    result = run_grid(make_grid(settings), show_progress=False, log=lambda _: None)
    assert result.ran == 0 and result.reused == 1 and len(result.grid_records) == 1
    assert len(result.records) == len(SEEDS) * len(TINY_GRID["methods"])  # the whole folder
    assert (output / "results.jsonl").read_text() == before
    assert {r["method"] for r in result.rows} == set(TINY_GRID["methods"])


def test_leaderboard_states_the_rule_and_ranks_from_one(sweep):
    from mubench_hf.sweeps.ranking import RANKING_RULE

    output, _ = sweep
    text = (output / "leaderboard.md").read_text()
    assert RANKING_RULE in text and "Ranked by gap to retrain" in text
    labels = [
        line.split("|")[1].strip()
        for line in text.splitlines()
        if line.startswith("| ") and "method" not in line
    ]
    assert labels == ["ref", "1", "2", "–"]  # retrain, the two finished methods, salun (no result)


def test_splits_of_the_folder_serve_a_grid_with_fewer_ratios(tmp_path):
    from mubench_hf import build_splits
    from mubench_hf.sweeps.splits_repo import plan_splits

    output = tmp_path / "sweep"
    build_splits("digits", output / "mubench", ratios=[2.5, 5], seed=42, show_progress=False)
    grid = make_grid(
        {"task": "digits", "methods": ["retrain"], "ratios": [5], "seeds": [1], "output": str(output)}
    )
    assert plan_splits(grid).build is None  # reused as they are: nothing is written
    wider = make_grid({"task": "digits", "methods": ["retrain"], "ratios": [5, 10], "output": str(output)})
    with pytest.raises(MubenchError, match="--overwrite"):
        plan_splits(wider)
    assert plan_splits(wider, overwrite=True).build == ["2.5", "5", "10"]


def test_overwrite_rebuilds_the_splits_and_remakes_what_was_made_on_them(sweep, tmp_path, capsys):
    from mubench_hf.cli import main

    output = _copy(sweep, tmp_path)
    argv = ["run", "--task", "digits", "--methods", "retrain", "--ratios", "2.5", "--seeds", "1"]
    argv += ["--output", str(output), "--threads", "1", "--no-progress"]
    assert main(argv) == 1
    assert "--overwrite" in capsys.readouterr().err
    grid_file = tmp_path / "grid.json"
    grid_file.write_text(json.dumps({"base_recipe": TINY_GRID["base_recipe"]}))
    assert main([argv[0], str(grid_file), *argv[1:], "--overwrite"]) == 0
    printed = capsys.readouterr().out
    assert "| ref | retrain |" in printed and "digits_del2.5" in printed
    assert "left out of the summary" in printed  # the cells made on the old splits
    entry = json.loads((output / "mubench" / "mubench.json").read_text())["tasks"]["digits"]
    assert entry["ratios"] == ["2.5", "5"]
    records = [json.loads(line) for line in (output / "results.jsonl").read_text().splitlines()]
    assert [(r["config"], r["method"]) for r in records] == [("digits_del2.5", "retrain")]


def test_generation_configs_rank_by_forget_quality_with_their_own_columns():
    from mubench_hf.sweeps.outputs import ranked, ranked_table

    def row(method, fq, mu, n=1):
        return {"task": "fictitious_authors", "config": "fictitious_authors_del5", "method": method,
                "n_seeds": n, "n_failed": 0, "forget_quality_mean": fq, "model_utility_mean": mu,
                "forget_rouge_l_mean": 0.4, "same_as_retrain": None}  # fmt: skip

    rows = [row("npo", 0.2, 0.5), row("retrain", 1.0, 0.6), row("idk", 0.2, 0.55), row("rmu", 0.9, 0.3)]
    metric, pairs = ranked(rows)
    assert metric == "forget_quality"
    assert [(r["method"], rank) for r, rank in pairs] == [
        ("retrain", "ref"),
        ("rmu", 1),
        ("idk", 2),
        ("npo", 3),
    ]
    table = ranked_table(rows)
    header = "| # | method | forget ROUGE-L before | forget ROUGE-L | retain ROUGE-L | forget quality ↑ | model utility ↑ |"
    assert header in table
    assert "Ranked by forget quality" in table


def test_a_class_wise_config_forgets_its_class_and_reuses_the_splits(tmp_path):
    """``classes: [3]`` adds ``digits_class3`` beside the ratio config: its forget split is exactly the
    train rows of class 3, grad_ascent lowers that class's accuracy well below the base model's, and a
    rerun with the same classes reuses the splits (a new class would need --overwrite)."""
    import datasets

    from mubench_hf.sweeps.splits_repo import plan_splits

    settings = {
        "task": "digits",
        "methods": ["retrain", "grad_ascent"],
        "ratios": [5],
        "classes": [3],
        "seeds": [1],
        "output": str(tmp_path / "run"),
        "base_recipe": {"num_train_epochs": 2},
    }
    grid = make_grid(settings)
    assert grid.configs == ["digits_del5", "digits_class3"]
    run_grid(grid, show_progress=False, log=lambda _: None)
    forget = datasets.load_dataset(
        str(tmp_path / "run" / "mubench"), "digits_class3", split="forget", cache_dir=str(tmp_path / "cache")
    )
    train = datasets.load_dataset(
        str(tmp_path / "run" / "mubench"), "digits_class3", split="train", cache_dir=str(tmp_path / "cache")
    )
    assert set(forget["label"]) == {3}
    assert len(forget) == sum(1 for label in train["label"] if label == 3)

    record = json.loads(
        (tmp_path / "run" / "cells" / "digits_class3" / "seed1" / "grad_ascent" / CELL_FILE).read_text()
    )
    retrain = json.loads(
        (tmp_path / "run" / "cells" / "digits_class3" / "seed1" / "retrain" / CELL_FILE).read_text()
    )
    metrics = record["metrics"]
    assert record["status"] == "done"
    # the base model knew class 3; the retrain model never saw it; grad_ascent pushes it far down
    assert metrics["original_forget_accuracy"] > 0.8
    assert retrain["metrics"]["forget_accuracy"] < 0.2
    assert metrics["forget_accuracy"] < metrics["original_forget_accuracy"] - 0.3
    assert plan_splits(grid).build is None
    with pytest.raises(MubenchError, match=r"forget class\(es\) 4 are not among them"):
        plan_splits(make_grid({**settings, "classes": [3, 4]}))
