"""Reliability defects that need real processes (issue 22): the sweep folder's lock, SIGTERM, Ray addresses.

* Two ``mubench run`` in one folder used to train the same cells into the same files at once and both
  failed; now the second stops at once naming the first (pid, host, start), or with ``--wait-for-lock``
  waits for it, and a lock left by a killed run is taken over.
* SIGTERM used to kill ``train-base`` / ``unlearn`` on the spot, leaving a checkpoint half-saved; now it
  takes Ctrl-C's way out (exit 128 + 15) and removes the checkpoint it cut short, as Ctrl-C does.
* A Ray address nobody answers at used to hang ``mubench run`` for ever (after building the splits); now
  it fails within seconds, before any work, and so does a port that answers but is no Ray cluster.

Only 127.0.0.1 is ever contacted. Every child process runs in its own session and is killed if a test
fails, so nothing is left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mubench_hf.sweeps.cells import CELL_FILE, is_done

ROOT = Path(__file__).parent.parent
MUBENCH = [sys.executable, "-c", "import sys; from mubench_hf.cli import main; sys.exit(main(sys.argv[1:]))"]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
GRID: dict[str, Any] = {
    "task": "digits",
    "methods": ["finetune"],
    "ratios": [5],
    "seeds": [1],
    "base_recipe": {"num_train_epochs": 1},
    "hyperparameters": {"finetune": {"max_steps": 2}},
}

# Runs ``mubench`` with Trainer patched to stop, for good, at a chosen point: it writes the marker file
# (argv[1]) and sleeps, so that the test can act while the command is there.
_STALL = """
import pathlib, signal, sys, time
# SIGINT as a terminal's foreground job gets it: a shell that starts the suite in the background passes
# it on ignored, and Python then never turns it into KeyboardInterrupt
signal.signal(signal.SIGINT, signal.default_int_handler)
import transformers
marker, where = pathlib.Path(sys.argv[1]), sys.argv[2]
def stall(name, original):
    def patched(self, *args, **kwargs):
        if where in str(self.args.output_dir) and not marker.exists():
            marker.write_text(str(self.args.output_dir))
            time.sleep(300)
        return original(self, *args, **kwargs)
    setattr(transformers.Trainer, name, patched)
stall(sys.argv[3], getattr(transformers.Trainer, sys.argv[3]))
from mubench_hf.cli import main
sys.exit(main(sys.argv[4:]))
"""


@contextlib.contextmanager
def started(command: list[str], **kwargs: Any) -> Iterator[subprocess.Popen]:
    """A child process in its own session; killed with its children when the block is left."""
    process = subprocess.Popen(command, cwd=ROOT, env=kwargs.pop("env", ENV), start_new_session=True,
                               text=True, **kwargs)  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def stalled(marker: Path, where: str, method: str, argv: list[str], **kwargs: Any):
    command = [sys.executable, "-c", _STALL, str(marker), where, method, *argv]
    return started(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def wait_for(condition: Any, process: subprocess.Popen, what: str, seconds: float = 600) -> None:
    end = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the command ended (exit {process.returncode}) before {what}: {(out or '')[-1000:]}"
                        f"{(err or '')[-2000:]}")  # fmt: skip
        if time.monotonic() > end:
            pytest.fail(f"no {what} within {seconds:g} s")
        time.sleep(0.1)


def mubench(argv: list[str], timeout: float = 600, env: dict[str, str] | None = None):
    return subprocess.run([*MUBENCH, *argv], cwd=ROOT, env=env or ENV,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


# --------------------------------------------------------------------------- the sweep folder's lock
def test_a_second_run_in_a_busy_folder_names_the_first_and_waits_for_it_when_asked(tmp_path):
    from mubench_hf.sweeps.lock import HOLDER_FILE

    output = tmp_path / "sweep"
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({**GRID, "output": str(output)}))
    run = ["run", str(grid), "--threads", "1", "--no-progress"]
    marker = tmp_path / "cell_under_way"
    with stalled(marker, "/cells/", "train", run) as first:
        wait_for(marker.exists, first, "cell training")
        second = mubench(run)
        assert second.returncode == 1, second.stdout[-2000:] + second.stderr[-2000:]
        assert "Traceback" not in second.stderr
        assert f"is in use by pid {first.pid} on host {socket.gethostname()} since " in second.stderr
        assert "--wait-for-lock" in second.stderr
        assert not (Path(marker.read_text()) / CELL_FILE).exists()  # the first run's cell is untouched

        log = tmp_path / "third.log"
        with log.open("w") as sink, started([*MUBENCH, *run, "--wait-for-lock"],
                                            stdout=sink, stderr=subprocess.STDOUT) as third:  # fmt: skip
            wait_for(lambda: "waiting for it to finish" in log.read_text(), third, "the waiting message")
            assert f"in use by pid {first.pid}" in log.read_text()
            first.send_signal(signal.SIGTERM)  # the first run stops as on Ctrl-C, and frees the folder
            _, err = first.communicate(timeout=120)
            assert first.returncode == 128 + signal.SIGTERM, err[-2000:]
            assert "terminated" in err and "Traceback" not in err
            third.wait(timeout=600)
            assert third.returncode == 0, log.read_text()[-3000:]
    record = json.loads((output / "cells" / "digits_del5" / "seed1" / "finetune" / CELL_FILE).read_text())
    assert is_done(record)
    assert not (output / HOLDER_FILE).exists()  # released on the way out


_HOLD_AND_DIE = """
import os, signal, sys
from pathlib import Path
from mubench_hf.sweeps.lock import sweep_lock
with sweep_lock(Path(sys.argv[1]), log=print):
    os.kill(os.getpid(), signal.SIGKILL)  # dies holding it, as a run killed by the OOM killer does
"""


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path):
    from mubench_hf.sweeps.lock import HOLDER_FILE, sweep_lock

    with started([sys.executable, "-c", _HOLD_AND_DIE, str(tmp_path)]) as dead:
        dead.wait(timeout=120)
    assert dead.returncode == -signal.SIGKILL
    left = json.loads((tmp_path / HOLDER_FILE).read_text())
    assert left["pid"] == dead.pid
    said: list[str] = []
    with sweep_lock(tmp_path, log=said.append):
        holder = json.loads((tmp_path / HOLDER_FILE).read_text())
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
    assert said == [f"taking over the lock of {tmp_path} left by a run that ended (pid {dead.pid} on host "
                    f"{left['host']} since {left['started']} ({left['command']}))"]  # fmt: skip


def test_the_lock_refuses_a_second_holder_at_once_and_lets_a_waiter_in_after_release(tmp_path):
    from mubench_hf import MubenchError
    from mubench_hf.sweeps.lock import sweep_lock

    released = threading.Event()
    with sweep_lock(tmp_path, log=lambda _: None):
        with pytest.raises(MubenchError, match=f"in use by pid {os.getpid()} on host"):
            with sweep_lock(tmp_path):
                pass
        said: list[str] = []

        def waiter() -> None:
            with sweep_lock(tmp_path, wait=True, log=said.append):
                released.set()

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.5)
        assert not released.is_set()  # still waiting while the lock is held
    thread.join(timeout=60)
    assert released.is_set() and len(said) == 1 and "waiting for it to finish" in said[0]


# --------------------------------------------------------------------------- SIGTERM
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_unlearn_stops_on_a_signal_mid_checkpoint_and_leaves_nothing_half_written(
    stop, tmp_path, digits_repo, tiny_model_dir
):
    out = tmp_path / "out"
    argv = ["unlearn", "--dataset", str(digits_repo), "--config", "digits_del5", "--model", str(tiny_model_dir),
            "--method", "finetune", "--output_dir", str(out), "--max_steps", "3", "--save_strategy", "steps",
            "--save_steps", "1", "--use_cpu", "true", "--report_to", "none", "--disable_tqdm", "true"]  # fmt: skip
    marker = tmp_path / "saving"
    # stalled in the middle of saving checkpoint-1: its weights are written, its trainer_state.json not yet
    with stalled(marker, str(out), "_save_optimizer_and_scheduler", argv) as process:
        wait_for(marker.exists, process, "the first checkpoint save")
        assert (out / "checkpoint-1" / "model.safetensors").is_file()
        process.send_signal(stop)
        _, err = process.communicate(timeout=120)  # a hang fails here instead of blocking the suite
    expected = (
        (128 + signal.SIGTERM, "terminated (SIGTERM)") if stop == signal.SIGTERM else (130, "interrupted")
    )
    assert (process.returncode, expected[1] in err) == (expected[0], True), err[-2000:]
    assert "Traceback" not in err
    assert not (out / "checkpoint-1").exists()  # the checkpoint cut short is gone
    assert not (out / "unlearn_run.json").exists() and not (out / "model.safetensors").exists()


def test_train_base_stops_on_sigterm_mid_checkpoint_and_leaves_nothing_half_written(tmp_path, digits_repo):
    out = tmp_path / "base"
    argv = ["train-base", "--dataset", str(digits_repo), "--task", "digits", "--model", "tiny:resnet",
            "--output_dir", str(out), "--num_train_epochs", "2", "--use_cpu", "true", "--report_to", "none",
            "--disable_tqdm", "true"]  # fmt: skip
    marker = tmp_path / "saving"
    with stalled(marker, str(out), "_save_optimizer_and_scheduler", argv) as process:
        wait_for(marker.exists, process, "the first checkpoint save")
        partial = list((out / "checkpoints").glob("checkpoint-*"))  # train-base checkpoints in a subfolder
        assert len(partial) == 1 and not (partial[0] / "trainer_state.json").exists()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "mubench train-base: terminated (SIGTERM)" in err and "Traceback" not in err
    assert not out.exists()  # the folder this run made is gone, checkpoints and all (as on Ctrl-C)


# --------------------------------------------------------------------------- Ray addresses
def _free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("via", ["--address", "RAY_ADDRESS"])
def test_a_ray_address_nobody_answers_at_fails_within_seconds_before_any_work(via, tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    address = f"127.0.0.1:{_free_port()}"
    argv = [
        "run",
        "--task",
        "digits",
        "--methods",
        "finetune",
        "--backend",
        "ray",
        "--output",
        str(tmp_path / "s"),
    ]
    env = dict(ENV)
    if via == "--address":
        argv += ["--address", address]
    else:
        env["RAY_ADDRESS"] = address
    done = mubench(argv, timeout=120, env=env)  # a hang fails here (it used to wait for ever)
    where = f"--address '{address}'" if via == "--address" else f"RAY_ADDRESS={address}"
    assert done.returncode == 1, done.stderr[-2000:]
    assert f"no Ray cluster answers at {where} (Connection refused)" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "s").exists()


def test_a_port_that_answers_but_is_no_ray_cluster_fails_after_the_timeout(tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    with socket.socket() as server:  # accepts connections and never says a word
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        address = f"127.0.0.1:{server.getsockname()[1]}"
        argv = ["run", "--task", "digits", "--methods", "finetune", "--backend", "ray", "--address", address,
                "--ray-timeout", "5", "--output", str(tmp_path / "s")]  # fmt: skip
        done = mubench(argv, timeout=180)
    assert done.returncode == 1, done.stderr[-2000:]
    assert f"joining the Ray cluster at --address '{address}' took longer than 5 s" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "s").exists()


@pytest.mark.slow  # starts a private Ray instance (about 45 s on two busy cores)
def test_a_cell_larger_than_the_ray_instance_is_refused_before_the_splits(tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    argv = ["run", "--task", "digits", "--methods", "finetune", "--backend", "ray", "--gpus-per-cell", "64",
            "--output", str(tmp_path / "s"), "--no-progress"]  # fmt: skip
    done = mubench(argv, timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "--gpus-per-cell 64 asks for more GPUs than the Ray cluster has" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "s").exists()
