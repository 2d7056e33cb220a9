"""A sweep survives the faults of real runs, and the rerun ends where an uninterrupted run ends.

Each test damages or interrupts a small sweep (digits, retrain + grad_ascent + finetune on digits_del5,
one seed, a one-epoch base recipe) and then reruns it: the metrics of every cell must equal those of an
uninterrupted run of the same grid (training is seeded and deterministic, see test_sweeps.py).

Faults: Ctrl-C (SIGINT to a real ``mubench run`` process while a cell trains), a full disk (an
``OSError(ENOSPC)`` raised at a write, or torch's ``unexpected pos`` error), a read-only output folder,
a truncated ``model.safetensors`` of a reference model, and a hand-edited number in a ``cell.json``.

The tests run as root, and root writes through ``chmod a-w``: a read-only folder is therefore simulated
by :func:`read_only`, which makes every write under the folder fail as a read-only file system does
(and records the attempt), for ``open``, ``os.open``, ``mkdir``, renames and removals.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mubench_hf.sweeps import make_grid, run_grid
from mubench_hf.sweeps.cells import CELL_FILE, is_done
from mubench_hf.sweeps.references import DONE_FILE
from tests.cli_harness import assert_clean_error, run_cli, snapshot

pytestmark = pytest.mark.usefixtures("one_torch_thread")

GRID: dict[str, Any] = {
    "task": "digits",
    "methods": ["retrain", "grad_ascent", "finetune"],
    "ratios": [5],
    "seeds": [1],
    "base_recipe": {"num_train_epochs": 1},
    "hyperparameters": {"grad_ascent": {"max_steps": 2}, "finetune": {"max_steps": 2}},
}
CELLS = Path("cells") / "digits_del5" / "seed1"


def _quiet_run(output: Path, **kwargs: Any):
    return run_grid(
        make_grid({**GRID, "output": str(output)}), show_progress=False, log=lambda _: None, **kwargs
    )


def _is_timing(name: str) -> bool:
    return "time" in name or "runtime" in name or "per_second" in name


def cell_metrics(output: Path) -> dict[str, dict[str, float]]:
    """Method -> the metrics of its finished cell, without wall-clock timings (never equal twice)."""
    out = {}
    for method in GRID["methods"]:
        record = json.loads((output / CELLS / method / CELL_FILE).read_text())
        assert is_done(record), record.get("error")
        out[method] = {k: v for k, v in record["metrics"].items() if not _is_timing(k)}
    return out


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory):
    """The grid run once without faults: its folder and its cell metrics."""
    import torch

    output = tmp_path_factory.mktemp("uninterrupted")
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # module-scoped: runs before the function-scoped one_torch_thread
    try:
        _quiet_run(output)
    finally:
        torch.set_num_threads(before)
    return output, cell_metrics(output)


def _copy(uninterrupted, tmp_path: Path) -> Path:
    copy = tmp_path / "sweep"
    shutil.copytree(uninterrupted[0], copy)
    return copy


def _grid_file(tmp_path: Path, output: Path) -> Path:
    path = tmp_path / "grid.json"
    path.write_text(json.dumps({**GRID, "output": str(output)}))
    return path


# --------------------------------------------------------------------------- read-only simulation
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> list[str]:
    """Make every write under ``folder`` fail with EROFS, as on a read-only mount; returns the list the
    attempted writes are appended to. Reads are untouched."""
    root = str(folder.resolve())
    attempts: list[str] = []

    def inside(path: Any) -> bool:
        try:
            return os.path.abspath(os.fspath(path)).startswith(root)
        except TypeError:  # a file descriptor, not a path
            return False

    def refuse(what: str, path: Any) -> None:
        attempts.append(f"{what} {path}")
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    real_open, real_os_open = builtins.open, os.open

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any):
        if inside(file) and any(flag in mode for flag in "wax+"):
            refuse("open", file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path: Any, flags: int, *args: Any, **kwargs: Any):
        if inside(path) and flags & _WRITE_FLAGS:
            refuse("os.open", path)
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    for name in ("mkdir", "rmdir", "remove", "unlink"):
        real = getattr(os, name)
        monkeypatch.setattr(
            os,
            name,
            lambda path, *a, _real=real, _name=name, **k: (
                refuse(_name, path) if inside(path) else _real(path, *a, **k)
            ),
        )
    for name in ("rename", "replace"):
        real = getattr(os, name)
        monkeypatch.setattr(
            os,
            name,
            lambda src, dst, *a, _real=real, _name=name, **k: (
                refuse(_name, dst) if inside(src) or inside(dst) else _real(src, dst, *a, **k)
            ),
        )
    real_rmtree = shutil.rmtree
    monkeypatch.setattr(
        shutil,
        "rmtree",
        lambda path, *a, **k: refuse("rmtree", path) if inside(path) else real_rmtree(path, *a, **k),
    )
    return attempts


def test_read_only_simulation_refuses_writes_and_allows_reads(tmp_path, monkeypatch):
    (tmp_path / "kept.txt").write_text("x")
    attempts = read_only(monkeypatch, tmp_path)
    assert (tmp_path / "kept.txt").read_text() == "x"
    for write in (
        lambda: (tmp_path / "new.txt").write_text("y"),
        lambda: (tmp_path / "sub").mkdir(),
        lambda: (tmp_path / "kept.txt").unlink(),
        lambda: (tmp_path / "kept.txt").replace(tmp_path / "other.txt"),
    ):
        with pytest.raises(OSError) as caught:
            write()
        assert caught.value.errno == errno.EROFS
    assert len(attempts) == 4 and snapshot(tmp_path) == {"kept.txt": b"x"}


# --------------------------------------------------------------------------- Ctrl-C
_SLOW_CELL = """
import pathlib, signal, sys, time
# SIGINT as a terminal's foreground job gets it: a shell that starts the suite in the background passes
# it on ignored, and Python then never turns it into KeyboardInterrupt
signal.signal(signal.SIGINT, signal.default_int_handler)
import transformers
original = transformers.Trainer.train
def train(self, *args, **kwargs):
    # Inside a cell's training (not a reference model's): say so, then take long enough to be signalled.
    if "/cells/" in str(self.args.output_dir):
        pathlib.Path(sys.argv[1]).write_text(str(self.args.output_dir))
        time.sleep(120)
    return original(self, *args, **kwargs)
transformers.Trainer.train = train
from mubench_hf.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_sigint_mid_cell_stops_at_once_and_the_rerun_completes_the_grid(uninterrupted, tmp_path):
    output = tmp_path / "sweep"
    marker = tmp_path / "cell_under_way"
    command = [sys.executable, "-c", _SLOW_CELL, str(marker), "run", str(_grid_file(tmp_path, output))]
    command += ["--threads", "1", "--no-progress"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    process = subprocess.Popen(
        command, cwd=Path(__file__).parent.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True, text=True,
    )  # fmt: skip
    try:
        while not marker.exists() and process.poll() is None:
            time.sleep(0.1)
        assert marker.exists(), f"no cell started: {process.communicate()[1][-2000:]}"
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)  # a hang here fails the test instead of blocking it
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "interrupted" in err and "run the same command again" in err
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)  # nothing of the sweep is left running
    cut_short = Path(marker.read_text())
    assert cut_short.is_dir() and not (cut_short / CELL_FILE).exists()  # never taken as done

    result = _quiet_run(output)
    assert result.ran >= 1 and not result.failed
    assert cell_metrics(output) == uninterrupted[1]


# --------------------------------------------------------------------------- full disk
def test_disk_full_at_a_cell_write_stops_with_a_clear_error_and_the_rerun_recovers(
    uninterrupted, tmp_path, monkeypatch, capsys
):
    output = _copy(uninterrupted, tmp_path)
    for method in ("grad_ascent", "finetune"):
        shutil.rmtree(output / CELLS / method)  # two cells left to do
    cell_folder = str((output / CELLS / "grad_ascent").resolve())
    real_open = builtins.open

    def full_disk_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any):
        if "w" in mode and os.path.abspath(os.fspath(file)).startswith(cell_folder):
            raise OSError(errno.ENOSPC, "No space left on device", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", full_disk_open)
    monkeypatch.setattr(io, "open", full_disk_open)
    result = run_cli(["run", str(_grid_file(tmp_path, output)), "--threads", "1", "--no-progress"], capsys)
    assert_clean_error(result, "disk is full", "free some space", "not lost")
    assert not (output / CELLS / "grad_ascent" / CELL_FILE).exists()  # the cut-short cell is not done
    monkeypatch.undo()

    rerun = _quiet_run(output)
    assert rerun.ran == 2 and rerun.reused == 1
    assert cell_metrics(output) == uninterrupted[1]


def test_disk_full_while_saving_a_reference_model_as_torch_reports_it(
    uninterrupted, tmp_path, monkeypatch, capsys
):
    import transformers

    output = _copy(uninterrupted, tmp_path)
    (output / "models" / "base_digits_seed1" / DONE_FILE).unlink()  # the base model must be trained again

    def no_space(self, *args, **kwargs):  # what torch's zip writer raises when a write comes up short
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 4608 vs 4502")

    monkeypatch.setattr(transformers.Trainer, "save_model", no_space)
    result = run_cli(["run", str(_grid_file(tmp_path, output)), "--threads", "1", "--no-progress"], capsys)
    assert_clean_error(result, "disk is full", "not lost")
    assert not (output / "models" / "base_digits_seed1" / DONE_FILE).exists()
    monkeypatch.undo()

    _quiet_run(output)
    assert cell_metrics(output) == uninterrupted[1]


# --------------------------------------------------------------------------- read-only folder
def test_finished_sweep_in_a_read_only_folder_is_summarised_without_writing(
    uninterrupted, tmp_path, monkeypatch, capsys
):
    output = _copy(uninterrupted, tmp_path)
    grid_file = _grid_file(tmp_path, output)
    before = snapshot(output)
    attempts = read_only(monkeypatch, output)
    result = run_cli(["run", str(grid_file), "--threads", "1", "--no-progress"], capsys)
    assert result.code == 0, result.err
    assert attempts == [] and snapshot(output) == before
    assert "| ref | retrain |" in result.out and "3 reused" in result.out and "0 run now" in result.out


def test_unfinished_sweep_in_a_read_only_folder_says_it_cannot_write(
    uninterrupted, tmp_path, monkeypatch, capsys
):
    output = _copy(uninterrupted, tmp_path)
    (output / CELLS / "finetune" / CELL_FILE).unlink()
    grid_file = _grid_file(tmp_path, output)
    before = snapshot(output)
    read_only(monkeypatch, output)
    result = run_cli(["run", str(grid_file), "--threads", "1", "--no-progress"], capsys)
    assert_clean_error(result, "cannot write", str(output), "--output")
    assert snapshot(output) == before


# --------------------------------------------------------------------------- damaged files
@pytest.mark.parametrize("model", ["base_digits_seed1", "retrain_digits_del5_seed1"])
def test_truncated_reference_model_is_trained_again(uninterrupted, tmp_path, model):
    output = _copy(uninterrupted, tmp_path)
    weights = output / "models" / model / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    logged: list[str] = []
    result = run_grid(make_grid({**GRID, "output": str(output)}), show_progress=False, log=logged.append)
    assert any(model in line and "model.safetensors" in line for line in logged), logged
    assert not result.failed
    original = json.loads((uninterrupted[0] / "models" / model / DONE_FILE).read_text())
    remade = json.loads((output / "models" / model / DONE_FILE).read_text())
    assert remade["weights"] == original["weights"]  # the same model, so the cells stand
    assert cell_metrics(output) == uninterrupted[1]


def test_hand_edited_metric_in_a_cell_is_detected_and_the_cell_redone(uninterrupted, tmp_path):
    output = _copy(uninterrupted, tmp_path)
    path = output / CELLS / "grad_ascent" / CELL_FILE
    record = json.loads(path.read_text())
    record["metrics"]["forget_accuracy"] = 0.0  # a "better" number typed in by hand
    path.write_text(json.dumps(record, indent=2))
    result = _quiet_run(output)
    assert result.ran == 1 and result.reused == 2
    assert cell_metrics(output) == uninterrupted[1]
    summary = [r for r in result.records if r["method"] == "grad_ascent"]
    assert summary[0]["metrics"]["forget_accuracy"] == uninterrupted[1]["grad_ascent"]["forget_accuracy"]
