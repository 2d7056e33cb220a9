"""``mubench run --backend ray``: the same grid on a local Ray instance (started here, ``num_cpus=2``)
gives the same cell metrics as the local backend, a cell whose worker is killed mid-run is redone by the
next run, and a missing Ray or a Ray-only flag without ``--backend ray`` is a clear error.

The kill is real: a ``sitecustomize`` put on the workers' ``PYTHONPATH`` makes the first finetune cell's
worker SIGKILL itself inside ``Trainer.train`` (after the cell folder was cleared and created), as the
OOM killer or a lost node would.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mubench_hf.cli import main
from mubench_hf.sweeps import make_grid, run_grid
from mubench_hf.sweeps.cells import CELL_FILE, is_done

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'mubench-hf[ray]')")

GRID = {
    "task": "digits",
    "methods": ["grad_ascent", "finetune"],
    "ratios": [5],
    "seeds": [42],
    "base_recipe": {"num_train_epochs": 1},
    "hyperparameters": {"grad_ascent": {"max_steps": 2}, "finetune": {"max_steps": 2}},
}
CELLS = Path("cells") / "digits_del5" / "seed42"

_KILL_HOOK = """
import importlib.abc, importlib.util, os, pathlib, signal, sys

def _patch(trainer_class):
    original = trainer_class.train
    def train(self, *args, **kwargs):
        marker = pathlib.Path(os.environ["MUBENCH_TEST_KILL_MARKER"])
        folder = str(self.args.output_dir)
        if "/cells/" in folder and folder.endswith("/finetune") and not marker.exists():
            marker.write_text(folder)
            os.kill(os.getpid(), signal.SIGKILL)
        return original(self, *args, **kwargs)
    trainer_class.train = train

class _PatchTrainerOnImport(importlib.abc.MetaPathFinder):
    # Lazy: a worker must register with the raylet within its timeout, so nothing heavy is imported
    # at start; transformers.trainer is patched when a task first imports it.
    def find_spec(self, name, path, target=None):
        if name != "transformers.trainer":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            _patch(module.Trainer)
        spec.loader.exec_module = exec_module
        return spec

if any(arg.endswith("default_worker.py") for arg in sys.argv):  # Ray's task workers only
    sys.meta_path.insert(0, _PatchTrainerOnImport())
"""


def _descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (from /proc, so no extra dependency)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


@pytest.fixture(scope="module")
def ray_instance(tmp_path_factory: pytest.TempPathFactory):
    """A private Ray instance whose workers carry the kill hook; stopped afterwards, leaving nothing."""
    hook = tmp_path_factory.mktemp("ray_hook")
    (hook / "sitecustomize.py").write_text(textwrap.dedent(_KILL_HOOK))
    marker = hook / "killed_cell"
    before = _descendants(os.getpid())
    with pytest.MonkeyPatch.context() as patch:
        # The raylet and its workers inherit the environment of the process that starts them.
        patch.setenv("PYTHONPATH", os.pathsep.join([str(hook), *sys.path]))
        patch.setenv("MUBENCH_TEST_KILL_MARKER", str(marker))
        patch.setenv("RAY_AUTH_MODE", "disabled")  # no token written to ~/.ray for a throwaway instance
        patch.setenv(
            "RAY_worker_register_timeout_seconds", "300"
        )  # a loaded CI machine starts workers slowly
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 2**20)
    try:
        yield marker
    finally:
        ray.shutdown()
        deadline = time.monotonic() + 30  # processes exit asynchronously after shutdown
        while _descendants(os.getpid()) - before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _descendants(os.getpid()) - before, "Ray left processes running"


def _metrics(output: Path) -> dict[str, dict[str, float]]:
    """Method -> its cell's metrics, without wall-clock timings (never equal twice)."""
    out = {}
    for method in GRID["methods"]:
        record = json.loads((output / CELLS / method / CELL_FILE).read_text())
        assert is_done(record), record.get("error")
        out[method] = {
            k: v
            for k, v in record["metrics"].items()
            if not any(word in k for word in ("time", "runtime", "per_second"))
        }
    return out


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float]]:
    import torch

    output = tmp_path_factory.mktemp("local")
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # what each Ray cell uses with one CPU
    try:
        run_grid(make_grid({**GRID, "output": str(output)}), show_progress=False, log=lambda _: None)
    finally:
        torch.set_num_threads(before)
    return _metrics(output)


def test_ray_sweep_equals_local_and_a_killed_cell_is_redone_by_the_next_run(
    ray_instance, local_sweep, tmp_path, capsys
):
    from mubench_hf.sweeps.ray_backend import RayBackend

    output = tmp_path / "ray"
    first = run_grid(
        make_grid({**GRID, "output": str(output)}),
        show_progress=False,
        log=lambda _: None,
        backend=RayBackend(),
    )
    killed = Path(ray_instance.read_text())
    assert killed == (output / CELLS / "finetune").resolve()
    assert killed.is_dir() and not (killed / CELL_FILE).exists()  # cut short: never taken as done
    assert [r["method"] for r in first.failed] == ["finetune"]
    assert "worker running this cell died" in first.failed[0]["error"]
    assert [r["method"] for r in first.records] == ["grad_ascent"]  # the summary holds what finished
    assert first.ran == 2 and first.reused == 0

    # The next run, through the CLI: Ray is already up in this process, so the sweep joins it.
    grid_file = tmp_path / "grid.json"
    grid_file.write_text(json.dumps({**GRID, "output": str(output)}))
    assert main(["run", str(grid_file), "--backend", "ray", "--no-progress"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "(1 run now, 1 reused, 0 failed)" in out
    assert _metrics(output) == local_sweep  # bit for bit: same seeds, same code, one thread per cell


def test_missing_ray_is_a_clear_error_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets when it is not installed
    output = tmp_path / "out"
    argv = ["run", "--task", "digits", "--methods", "finetune", "--output", str(output), "--backend", "ray"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "--backend ray needs Ray, which is not installed" in err
    assert "pip install 'mubench-hf[ray]'" in err and "--backend local" in err
    assert not output.exists()  # nothing was built


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--address", "auto"], "--address"),
        (["--gpus-per-cell", "1"], "--gpus-per-cell"),
        (["--cpus-per-cell", "2", "--ray-retries", "1"], "--cpus-per-cell, --ray-retries"),
    ],
)
def test_ray_only_flags_need_backend_ray(flags, named, tmp_path, capsys):
    assert main(["run", "--task", "digits", "--output", str(tmp_path / "o"), *flags]) == 1
    err = capsys.readouterr().err
    assert f"{named} only apply to --backend ray" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_cpus": 0}, "--cpus-per-cell must be above 0, got 0"),
        ({"num_gpus": -1}, "--gpus-per-cell must be 0 or more, got -1"),
        ({"max_retries": -2}, "--ray-retries must be 0 or more, got -2"),
    ],
)
def test_bad_resources_are_refused(options, message):
    from mubench_hf.errors import MubenchError
    from mubench_hf.sweeps.ray_backend import RayBackend

    with pytest.raises(MubenchError, match=message):
        RayBackend(**options)


def test_a_task_larger_than_the_cluster_is_refused_instead_of_waiting_forever():
    from mubench_hf.errors import MubenchError
    from mubench_hf.sweeps.ray_backend import RayBackend

    RayBackend(num_cpus=2).check_fits({"CPU": 2.0})
    with pytest.raises(
        MubenchError, match=r"--gpus-per-cell 1 asks for more GPUs than the Ray cluster has \(0\)"
    ):
        RayBackend(num_gpus=1).check_fits({"CPU": 2.0})
    with pytest.raises(
        MubenchError, match=r"--cpus-per-cell 4 asks for more CPUs than the Ray cluster has \(2\)"
    ):
        RayBackend(num_cpus=4).check_fits({"CPU": 2.0})


def test_ray_runs_each_request_chain_in_order_with_the_local_backends_results(ray_instance, tmp_path):
    """Sequential unlearning on Ray: step 2's task waits for step 1's and starts from its model."""
    import torch

    from mubench_hf.sweeps.ray_backend import RayBackend

    chain = {k: v for k, v in GRID.items() if k != "ratios"}  # the request chains only
    chain.update(methods=["grad_ascent"], requests="2x2.5")
    chain["hyperparameters"] = {"grad_ascent": GRID["hyperparameters"]["grad_ascent"]}
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # what each Ray task uses with one CPU
    try:
        run_grid(
            make_grid({**chain, "output": str(tmp_path / "local")}), show_progress=False, log=lambda _: None
        )
    finally:
        torch.set_num_threads(before)
    result = run_grid(
        make_grid({**chain, "output": str(tmp_path / "ray")}),
        show_progress=False,
        log=lambda _: None,
        backend=RayBackend(),
    )
    assert not result.failed and result.ran == 4  # retrain and grad_ascent, two steps each

    def record(output: str, step: int, method: str) -> dict:
        folder = tmp_path / output / "cells" / f"digits_req2x2.5_step{step}" / "seed42" / method
        return json.loads((folder / CELL_FILE).read_text())

    for step in (1, 2):
        for method in ("retrain", "grad_ascent"):
            ray_record, local_record = record("ray", step, method), record("local", step, method)
            assert is_done(ray_record), ray_record.get("error")
            untimed = [
                {
                    k: v
                    for k, v in r["metrics"].items()
                    if not any(w in k for w in ("time", "runtime", "per_second"))
                }
                for r in (ray_record, local_record)
            ]
            assert untimed[0] == untimed[1]
    assert (
        record("ray", 2, "grad_ascent")["start_weights"] == record("ray", 1, "grad_ascent")["model_weights"]
    )
