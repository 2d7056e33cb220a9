"""The issue's new methods on the offline MUSE-shaped task: from a tiny LM fine-tuned on ``muse_manpages``
(real man-page text), each of wga, satimp, ceu, pdu, gru, task_vector, altpo and whp lowers VerbMem on
the forget pages (``mubench run``'s grid, the unlearning report, the MUSE leaderboard section). Slow: it trains a base and
a retrain model and runs nine cells (the measured numbers are in the README's generative section)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mubench_hf.tasks.muse_manpages import PACKAGE_FILES

METHODS = ["wga", "satimp", "ceu", "pdu", "gru", "task_vector", "altpo", "whp"]


@pytest.mark.slow
@pytest.mark.timeout(7200)
@pytest.mark.skipif(
    not PACKAGE_FILES.is_file(),
    reason="Debian package 'manpages' not installed (apt-get install -y manpages)",
)
def test_new_methods_lower_forget_verbmem_on_the_man_page_task(tmp_path: Path) -> None:
    from mubench_hf.sweeps.grid import make_grid
    from mubench_hf.sweeps.runner import run_grid

    grid = make_grid(
        {"task": "muse_manpages", "methods": ["retrain", *METHODS], "ratios": [10], "seeds": [42],
         "output": str(tmp_path / "runs")}
    )  # fmt: skip
    result = run_grid(grid, show_progress=False, log=lambda _: None)
    assert not result.failed, [r.get("error") for r in result.failed]
    cells = {r["method"]: r["metrics"] for r in result.grid_records}
    before = cells["retrain"]["original_verbmem_forget"]
    # the base memorised the forget pages measurably: it continues them better than the retrain model
    assert before > cells["retrain"]["verbmem_forget"] + 0.05
    for method in METHODS:
        metrics = cells[method]
        assert metrics["original_verbmem_forget"] == pytest.approx(before)
        assert metrics["verbmem_forget"] < before - 0.02, method
        for name in ("knowmem_forget", "knowmem_retain", "privleak"):
            assert metrics[name] is not None, (method, name)
    board = (tmp_path / "runs" / "leaderboard.md").read_text()
    assert "| VerbMem before | VerbMem | KnowMem forget | KnowMem retain ↑ | PrivLeak |" in board
