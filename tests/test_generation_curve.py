"""Unlearning curves on a generation task: ``--eval_during_unlearning N`` scores forget quality and model
utility on the validation-side question sets (never the test split) every N steps, and
``--select_checkpoint best`` keeps the step with the highest ½(forget quality + model utility).

A sweep cell of ``fictitious_authors_small_del5`` (tiny:llama, one base epoch, 4 grad_ascent steps scored
every 2) runs it the way ``mubench run`` and ``mubench unlearn`` do.
"""

from __future__ import annotations

import json
import math

import pytest

from mubench_hf.sweeps import make_grid, run_grid
from mubench_hf.sweeps.cells import CELL_FILE, is_done
from mubench_hf.trainers.curves import CRITERIA, CURVE_FILE, selection_text
from mubench_hf.trainers.generation_curve import CRITERION, CURVE_SPLITS

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def curve_cell(tmp_path_factory):
    import torch

    output = tmp_path_factory.mktemp("gen_curve")
    grid = make_grid(
        {
            "task": "fictitious_authors_small",
            "methods": ["grad_ascent"],
            "ratios": [5],
            "seeds": [42],
            "output": str(output),
            "base_recipe": {"num_train_epochs": 1},
            "hyperparameters": {
                "grad_ascent": {"max_steps": 4, "eval_during_unlearning": 2, "select_checkpoint": "best"}
            },
        }
    )
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_grid(grid, show_progress=False, log=lambda _: None)
    finally:
        torch.set_num_threads(before)
    return output / "cells" / "fictitious_authors_small_del5" / "seed42" / "grad_ascent"


def test_the_generation_curve_scores_forget_quality_and_model_utility(curve_cell):
    record = json.loads((curve_cell / CELL_FILE).read_text())
    assert is_done(record), record.get("error")
    points = [json.loads(line) for line in (curve_cell / CURVE_FILE).read_text().splitlines()]
    assert [p["step"] for p in points] == [2, 4]
    for point in points:
        for name in ("forget_quality", "model_utility", CRITERION):
            assert math.isfinite(point[name]), name
        assert point[CRITERION] == pytest.approx((point["forget_quality"] + point["model_utility"]) / 2)
    assert (curve_cell / "curve.png").read_bytes().startswith(b"\x89PNG")


def test_best_keeps_the_step_with_the_highest_half_quality_plus_utility(curve_cell):
    points = [json.loads(line) for line in (curve_cell / CURVE_FILE).read_text().splitlines()]
    best = max(points, key=lambda p: (p[CRITERION], -p["step"]))  # the earliest on ties
    results = json.loads((curve_cell / "unlearning_results.json").read_text())
    selection = results["checkpoint_selection"]
    assert selection["criterion"] == CRITERION and selection["step"] == best["step"]
    assert selection["value"] == pytest.approx(best[CRITERION])
    assert "highest forget_quality_utility_mean" in selection_text(selection)
    assert CRITERIA["generation"] == (CRITERION, False)  # higher is better


def test_the_curve_never_reads_the_test_split():
    assert "test" not in CURVE_SPLITS  # the generation report's holdout for membership attacks
