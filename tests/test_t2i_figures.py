"""The figures of a text-to-image sweep: unlearning vs retain accuracy, the gap to retrain, and the methods'
sample grids stacked (built here from made-up aggregated rows and sample grids; no model runs)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from mubench_hf.sweeps.figures_t2i import figure_writer, write_image_generation_figures
from mubench_hf.tasks import get_task


def _row(method: str, ua: float, ira: float, gap: float | None) -> dict:
    row = {"task": "digits_t2i", "config": "digits_t2i_class3", "method": method, "n_seeds": 1, "n_failed": 0,
           "unlearning_accuracy_mean": ua, "unlearning_accuracy_std": 0.0,
           "in_domain_retain_accuracy_mean": ira, "in_domain_retain_accuracy_std": 0.0}  # fmt: skip
    if gap is not None:
        row.update(gap_to_retrain_mean=gap, gap_to_retrain_std=0.0)
    return row


def test_a_text_to_image_sweep_gets_its_own_figures(tmp_path: Path):
    rows = [_row("retrain", 1.0, 0.9, 0.0), _row("esd", 0.95, 0.8, 0.08), _row("finetune", 0.5, 0.9, 0.25)]
    for method, shade in (
        ("retrain", 0),
        ("esd", 128),
    ):  # finetune has no grid: it is left out of the montage
        folder = tmp_path / "cells" / "digits_t2i_class3" / "seed42" / method
        folder.mkdir(parents=True)
        Image.new("L", (100, 40), shade).save(folder / "samples.png")
    planned = write_image_generation_figures(rows, tmp_path, draw=False)
    assert [p.name for p in planned] == ["digits_t2i_class3_ua_vs_ira.png", "digits_t2i_class3_gap_to_retrain.png",
                                         "digits_t2i_class3_samples.png"]  # fmt: skip
    written = write_image_generation_figures(rows, tmp_path)
    assert all(p.is_file() for p in written)
    montage = Image.open(tmp_path / "figures" / "digits_t2i_class3_samples.png")
    assert montage.size == (100, 2 * (40 + 14))  # two grids, each under a 14-pixel label
    # the runner picks the writer by the task's kind: digits (classification) keeps its accuracy figures
    assert figure_writer(get_task("digits_t2i"), rows, tmp_path).func is write_image_generation_figures
    assert figure_writer(get_task("digits"), [], tmp_path).func.__name__ == "write_figures"
