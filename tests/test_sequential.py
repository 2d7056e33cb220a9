"""Sequential unlearning (request schedules): the step configs are disjoint, nested requests stored once;
each step of a chain starts from the previous step's model (not θo) and is scored against the retrain model
of its own step, which never saw any requested row; a chain cut short resumes at its first unfinished step
with the same results as an uninterrupted run; the leaderboard has a sustainability section and figure.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from mubench_hf.errors import MubenchError
from mubench_hf.splits import build_splits, load_deletion_config, read_manifest
from mubench_hf.splits.requests import parse_schedule, step_of_config
from mubench_hf.sweeps import make_grid, run_grid
from mubench_hf.sweeps.cells import CELL_FILE, is_done
from mubench_hf.sweeps.references import DONE_FILE
from mubench_hf.sweeps.sustainability import curve_area, sustainability

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QUICK = {"max_steps": 2}
GRID = {
    "task": "digits",
    "methods": ["retrain", "grad_ascent", "npo"],
    "requests": "4x2.5",
    "seeds": [42],
    "base_recipe": {"num_train_epochs": 1},
    "hyperparameters": {"grad_ascent": QUICK, "npo": QUICK},
}
STEPS = [1, 2, 3, 4]
TIMING_WORDS = ("time", "runtime", "per_second")


def _ids(split) -> np.ndarray:
    return np.asarray(split["sample_id"], dtype=np.int64)


def _step_folder(output: Path, step: int, method: str) -> Path:
    return output / "cells" / f"digits_req4x2.5_step{step}" / "seed42" / method


def _record(output: Path, step: int, method: str) -> dict:
    return json.loads((_step_folder(output, step, method) / CELL_FILE).read_text())


def _one_method_grid(output: Path):
    return make_grid(
        {**GRID, "methods": ["grad_ascent"], "hyperparameters": {"grad_ascent": QUICK}, "output": str(output)}
    )


def _untimed(record: dict) -> dict:
    return {k: v for k, v in record["metrics"].items() if not any(w in k for w in TIMING_WORDS)}


# --------------------------------------------------------------------------- the step configs


def test_schedules_parse_and_refuse_what_cannot_be_cut():
    schedule = parse_schedule("4x2.5")
    assert (schedule.count, float(schedule.size), schedule.name) == (4, 2.5, "4x2.5")
    assert [float(r) for r in schedule.cumulative_ratios] == [2.5, 5.0, 7.5, 10.0]
    assert schedule.step_config("digits", 2) == "digits_req4x2.5_step2"
    assert schedule.cumulative_config("digits", 2) == "digits_del5"
    assert step_of_config("digits_req4x2.5_step3")[2] == 3 and step_of_config("digits_del5") is None
    for bad, words in [("4", "<k>x<p>"), ("0x5", "1..100"), ("30x5", "at most 100"), ("2x0", "out of range")]:
        with pytest.raises(MubenchError, match=words):
            parse_schedule(bad)


def test_step_configs_are_disjoint_nested_requests_stored_once(tmp_path):
    repo = tmp_path / "repo"
    build_splits("digits", repo, ratios=[5], requests="4x2.5", show_progress=False)
    entry = read_manifest(repo)["tasks"]["digits"]
    assert entry["requests"] == ["4x2.5"] and entry["ratios"] == ["2.5", "5", "7.5", "10"]
    order = np.loadtxt(repo / "data" / "digits" / "deletion_order.txt", dtype=np.int64)
    cache = str(tmp_path / "cache")
    seen = np.array([], dtype=np.int64)
    train = None
    for step in STEPS:
        config = f"digits_req4x2.5_step{step}"
        splits = load_deletion_config(repo, config, cache_dir=cache)
        new, cumulative, retain = (
            _ids(splits["forget"]),
            _ids(splits["forget_cumulative"]),
            _ids(splits["retain"]),
        )
        train = _ids(splits["train"])
        assert not np.intersect1d(new, seen).size  # request i holds no row of an earlier request
        assert np.array_equal(np.sort(cumulative), np.sort(np.concatenate([seen, new])))  # nested: the union
        # the union of the first i requests is a prefix of the deletion order
        assert np.array_equal(np.sort(cumulative), np.sort(order[: len(cumulative)]))
        assert not np.intersect1d(retain, cumulative).size
        assert np.array_equal(np.sort(np.concatenate([retain, cumulative])), np.sort(train))
        # the same rows as the ordinary config of everything requested so far
        plain = load_deletion_config(repo, f"digits_del{[2.5, 5, 7.5, 10][step - 1]:g}", cache_dir=cache)
        assert np.array_equal(_ids(plain["forget"]), cumulative)
        assert np.array_equal(_ids(plain["retain"]), retain)
        seen = cumulative
    # no second copy: every file a step config lists is one of the ordinary configs' files
    configs = entry["configs"]
    plain_files = {
        f for name, splits in configs.items() if "_del" in name for fs in splits.values() for f in fs
    }
    step_files = {
        f for name, splits in configs.items() if "_req" in name for fs in splits.values() for f in fs
    }
    assert step_files <= plain_files
    on_disk = sum(p.stat().st_size for p in (repo / "data" / "digits" / "train").glob("*.parquet"))
    one_copy = tmp_path / "train.parquet"
    load_deletion_config(repo, "digits_del5", cache_dir=cache)["train"].to_parquet(str(one_copy))
    # measured 1.06 on digits (five files); the bench's bound for the stored train rows is 1.15
    assert on_disk / one_copy.stat().st_size <= 1.15


# --------------------------------------------------------------------------- a chain


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """The digits chain of GRID, with what each unlearning run started from and what each retrain model
    was trained on (recorded by wrapping the trainer factory and the reference recipe)."""
    import torch

    from mubench_hf import pipeline
    from mubench_hf.reference_models import train as reference_train

    output = tmp_path_factory.mktemp("chain")
    started: dict[str, dict[str, np.ndarray]] = {}  # cell folder -> parameters at the start of training
    forget_rows: dict[str, int] = {}  # cell folder -> rows of the forget split the method got
    retrained: dict[str, np.ndarray] = {}  # retrain folder -> sample ids it was trained on
    real_trainer, real_fit = pipeline.unlearning_trainer, reference_train.fit

    def trainer(prepared, args, **kwargs):
        started[args.output_dir] = {
            k: v.detach().clone().numpy() for k, v in prepared.model.state_dict().items()
        }
        forget_rows[args.output_dir] = len(prepared.splits["forget"])
        return real_trainer(prepared, args, **kwargs)

    def fit(kind, prepared, args, **kwargs):
        if kind == "retrain":
            retrained[str(args.output_dir)] = _ids(prepared.raw["retain"])
        return real_fit(kind, prepared, args, **kwargs)

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "unlearning_trainer", trainer)
        patch.setattr(reference_train, "fit", fit)
        try:
            result = run_grid(
                make_grid({**GRID, "output": str(output)}), show_progress=False, log=lambda _: None
            )
        finally:
            torch.set_num_threads(before)
    return output, result, started, forget_rows, retrained


def test_every_step_of_every_chain_is_a_finished_cell_with_finite_metrics(chain):
    output, result, *_ = chain
    assert not result.failed
    assert result.ran == len(STEPS) * len(GRID["methods"]) and result.reused == 0
    for method in GRID["methods"]:
        for step in STEPS:
            record = _record(output, step, method)
            assert is_done(record), record.get("error")
            metrics = record["metrics"]
            for name in ("forget_accuracy", "test_accuracy", "gap_to_retrain", "new_forget_accuracy"):
                assert math.isfinite(metrics[name]), name
            assert ("earlier_forget_accuracy" in metrics) == (step > 1)  # step 1 has no earlier request
    # the retrain row of a step is that step's retrain model: its gap is 0 by construction
    assert all(_record(output, s, "retrain")["metrics"]["gap_to_retrain"] == 0 for s in STEPS)


def test_step_i_starts_from_step_i_minus_1s_weights_not_from_the_base_model(chain):
    from safetensors.numpy import load_file

    output, _, started, forget_rows, _ = chain
    base = load_file(output / "models" / "base_digits_seed42" / "model.safetensors")
    for method in ("grad_ascent", "npo"):
        first = started[str(_step_folder(output, 1, method))]
        assert all(np.array_equal(first[k], base[k]) for k in base)  # step 1: θo
        for step in STEPS[1:]:
            start = started[str(_step_folder(output, step, method))]
            previous = load_file(_step_folder(output, step - 1, method) / "model.safetensors")
            assert all(np.array_equal(start[k], previous[k]) for k in previous)
            assert not all(np.array_equal(start[k], base[k]) for k in base)  # not θo again
            record, before = _record(output, step, method), _record(output, step - 1, method)
            assert record["start_weights"] == before["model_weights"]
            # a "new" method unlearns the rows of request i only (31 or 32 rows of digits' 2.5 %)
            assert forget_rows[str(_step_folder(output, step, method))] in (31, 32)


def test_the_retrain_reference_of_step_i_never_saw_a_requested_row(chain):
    output, _, _, _, retrained = chain
    repo, cache = output / "mubench", str(output / ".hf_cache")
    for step in STEPS:
        requested = _ids(
            load_deletion_config(repo, f"digits_req4x2.5_step{step}", cache_dir=cache)["forget_cumulative"]
        )
        record = _record(output, step, "grad_ascent")
        folder = output / "models" / f"retrain_digits_del{[2.5, 5, 7.5, 10][step - 1]:g}_seed42"
        done = json.loads((folder / DONE_FILE).read_text())
        assert record["settings"]["references"]["retrain"] == done["weights"]  # scored against this model
        seen = retrained[str(folder)]
        assert not np.intersect1d(seen, requested).size
        assert len(seen) + len(requested) == 1257  # trained on everything else (digits' train split)


def test_leaderboard_has_a_sustainability_section_and_figure(chain):
    output, result, *_ = chain
    text = (output / "leaderboard.md").read_text()
    assert "## Sustainability" in text and "### digits, requests 4x2.5" in text
    entries = {e["method"]: e for e in sustainability(result.rows)}
    assert set(entries) == set(GRID["methods"])
    assert entries["retrain"]["gap"] == [0.0] * 4 and entries["retrain"]["gap_area"] == 0.0
    for entry in entries.values():
        assert entry["gap_area"] == pytest.approx(curve_area(entry["gap"]))
        assert all(math.isfinite(v) for v in entry["utility"])
    figure = output / "figures" / "digits_requests4x2.5_sustainability.png"
    assert figure in result.figures and figure.read_bytes().startswith(b"\x89PNG")
    csv_configs = {row["config"] for row in result.rows}
    assert {f"digits_req4x2.5_step{s}" for s in STEPS} <= csv_configs  # per-step rows in results.csv


def test_curve_area_is_the_mean_height_of_the_trapezoids():
    assert curve_area([0.0, 1.0, 1.0]) == pytest.approx(((0 + 1) / 2 + 1) / 2)
    assert curve_area([0.3]) == 0.3 and curve_area([0.1, None]) is None


def _copy_without_chain(chain, tmp_path: Path, method: str) -> Path:
    """A copy of the finished sweep (models kept) without ``method``'s chain, as before it ran."""
    output = tmp_path / "copy"
    shutil.copytree(chain[0], output)
    for step in STEPS:
        shutil.rmtree(_step_folder(output, step, method))
    return output


def test_a_chain_cut_after_step_2_resumes_at_step_3_with_the_uninterrupted_results(chain, tmp_path):
    from mubench_hf.sweeps import cells

    output = _copy_without_chain(chain, tmp_path, "grad_ascent")
    grid = _one_method_grid(output)
    real = cells.run_step

    def stop_at_step_3(cell):
        if cell.step["step"] == 3:
            raise KeyboardInterrupt  # as Ctrl-C or a killed run: nothing of step 3 is recorded
        return real(cell)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cells, "run_step", stop_at_step_3)
        with pytest.raises(KeyboardInterrupt):
            run_grid(grid, show_progress=False, log=lambda _: None)
    assert is_done(_record(output, 2, "grad_ascent"))
    assert not (_step_folder(output, 3, "grad_ascent") / CELL_FILE).exists()
    first_two = [_record(output, s, "grad_ascent") for s in (1, 2)]

    result = run_grid(grid, show_progress=False, log=lambda _: None)
    # steps 3 and 4 run; steps 1 and 2 are reused, as is the retrain chain (always scored)
    assert (result.ran, result.reused) == (2, 2 + len(STEPS))
    assert [_record(output, s, "grad_ascent") for s in (1, 2)] == first_two
    for step in STEPS:  # the same numbers as the uninterrupted chain (one thread, seeded)
        assert _untimed(_record(output, step, "grad_ascent")) == _untimed(
            _record(chain[0], step, "grad_ascent")
        )


def test_a_step_runs_again_when_its_model_or_the_model_it_started_from_changed(chain, tmp_path):
    from mubench_hf.sweeps.cells import record_checksum

    output = tmp_path / "copy"
    shutil.copytree(chain[0], output)
    grid = _one_method_grid(output)
    step2 = _step_folder(output, 2, "grad_ascent")
    (step2 / "model.safetensors").write_bytes(b"damaged")
    result = run_grid(grid, show_progress=False, log=lambda _: None)
    # step 2 runs again; its model comes out the same (seeded), so the steps made from it still hold
    assert (result.ran, result.reused) == (1, 3 + len(STEPS)) and not result.failed
    assert (
        _record(output, 2, "grad_ascent")["model_weights"]
        == _record(chain[0], 2, "grad_ascent")["model_weights"]
    )

    # a step 3 that started from another model than the one step 2 holds is redone
    path = _step_folder(output, 3, "grad_ascent") / CELL_FILE
    record = json.loads(path.read_text())
    record["start_weights"] = "0" * 64
    record["checksum"] = record_checksum(record)
    path.write_text(json.dumps(record))
    result = run_grid(grid, show_progress=False, log=lambda _: None)
    assert (result.ran, result.reused) == (1, 3 + len(STEPS))
    assert (
        _record(output, 3, "grad_ascent")["start_weights"]
        == _record(output, 2, "grad_ascent")["model_weights"]
    )


def test_the_card_leaderboard_and_its_html_page_have_the_sustainability_section(chain):
    from mubench_hf.hub import build_leaderboard
    from mubench_hf.hub.leaderboard import leaderboard_markdown
    from mubench_hf.hub.leaderboard_page import figure_files, render_page
    from mubench_hf.hub.leaderboard_sustainability import step_rows

    output = chain[0]
    rows = build_leaderboard([output / "cells"])
    steps = step_rows(rows)
    assert {(r["config"], r["method"]) for r in steps} == {
        (f"digits_req4x2.5_step{s}", m) for s in STEPS for m in ("grad_ascent", "npo")
    }  # every unlearned step wrote a card naming its step config
    record = _record(output, 3, "npo")
    card_row = next(r for r in steps if r["config"] == "digits_req4x2.5_step3" and r["method"] == "npo")
    assert card_row["earlier_forget_accuracy_mean"] == pytest.approx(
        record["metrics"]["earlier_forget_accuracy"]
    )
    assert "### digits, requests 4x2.5" in leaderboard_markdown(rows)
    page = render_page(rows, figure_files([output]), endpoint="http://127.0.0.1")
    assert 'id="sustainability"' in page and "digits, requests 4x2.5" in page
    assert "digits requests4x2.5 sustainability" in page  # the figure, inline


def test_bad_request_schedules_are_refused_when_the_grid_is_read(tmp_path):
    for bad, words in [("3x50", "at most 100"), ("4x2.5,4x2.5", "given twice"), ("four", "<k>x<p>")]:
        with pytest.raises(MubenchError, match=f"grid key 'requests'.*{words}"):
            make_grid({**GRID, "requests": bad, "output": str(tmp_path)})
    # without ratios a grid of request chains runs only the chains; with them, both
    assert make_grid({**GRID, "output": str(tmp_path)}).configs == []
    both = make_grid({**GRID, "ratios": [5], "output": str(tmp_path)})
    assert both.configs == ["digits_del5"] and both.reference_configs == [
        "digits_del5", "digits_del2.5", "digits_del7.5", "digits_del10",
    ]  # fmt: skip


def test_build_splits_cli_takes_request_schedules(tmp_path, capsys):
    from mubench_hf.cli import main

    repo = tmp_path / "repo"
    assert (
        main(
            [
                "build-splits",
                "--task",
                "digits",
                "--output",
                str(repo),
                "--ratios",
                "5",
                "--requests",
                "2x5",
                "--quiet",
            ]
        )
        == 0
    )
    configs = read_manifest(repo)["tasks"]["digits"]["configs"]
    assert {"digits_req2x5_step1", "digits_req2x5_step2", "digits_del5", "digits_del10"} <= set(configs)
    assert configs["digits_req2x5_step2"]["forget_cumulative"] == configs["digits_del10"]["forget"]


@pytest.mark.slow
def test_a_generation_chain_scores_rouge_on_the_earlier_requests(tmp_path):
    """fictitious_authors_small, 2 requests of 5 % (one author each), quick settings: every step finishes
    with finite ROUGE-L, forget quality and model utility, and the sustainability table reads them."""
    grid = make_grid(
        {
            "task": "fictitious_authors_small",
            "methods": ["grad_ascent", "npo"],
            "requests": "2x5",
            "seeds": [42],
            "output": str(tmp_path / "gen"),
            "base_recipe": {"num_train_epochs": 1},
            "hyperparameters": {"grad_ascent": QUICK, "npo": QUICK},
        }
    )
    result = run_grid(grid, show_progress=False, log=lambda _: None)
    assert not result.failed and result.ran == 6
    for record in result.grid_records:
        metrics = record["metrics"]
        for name in ("forget_rouge_l", "new_forget_rouge_l", "model_utility", "forget_quality"):
            assert math.isfinite(metrics[name]), (record["config"], record["method"], name)
        assert ("earlier_forget_rouge_l" in metrics) == record["config"].endswith("step2")
    entries = {e["method"]: e for e in sustainability(result.rows)}
    assert entries["retrain"]["kind"] == "generation" and entries["retrain"]["gap"] == [0.0, 0.0]
    assert all(v is not None for e in entries.values() for v in e["gap"] + e["utility"])
    assert "### fictitious_authors_small, requests 2x5" in (tmp_path / "gen" / "leaderboard.md").read_text()


def test_mubench_run_takes_requests_and_reuses_a_finished_chain(chain, tmp_path, capsys):
    from mubench_hf.cli import main

    output = tmp_path / "copy"
    shutil.copytree(chain[0], output)
    grid_file = tmp_path / "grid.json"
    grid_file.write_text(json.dumps({k: v for k, v in GRID.items() if k != "requests"}))
    code = main(["run", str(grid_file), "--requests", "4x2.5", "--output", str(output), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "(0 run now, 12 reused, 0 failed)" in out
    assert "### digits, requests 4x2.5" in out  # the sustainability table, printed too
