"""Run a sweep's reference models and cells as Ray tasks (``mubench run --backend ray``).

Each reference model and each cell is one Ray task. A retrain model's task depends on its seed's base
model task, and a cell's task on the tasks of the base and retrain models it needs, so Ray starts a cell
as soon as its models exist and runs independent cells side by side, on one machine or a cluster. The
tasks run the same code as the local backend (:func:`~.runner.make_one_reference`,
:func:`~.runner.finish_cell`) and write the same files: the per-cell ``cell.json`` records stay the
source of truth, so resuming, redoing corrupt cells and recording failed ones behave as they do locally.

What the driver does with what comes back:

* a cell whose method raised is recorded as failed by the task itself (as locally) and the sweep goes on;
* a cell whose worker died (killed, out of memory, node lost) leaves no record: it is reported as failed
  in this run and redone by the next one, as a cell cut short on one machine is;
* a reference model that cannot be trained, a full disk or an unwritable folder stops the sweep (every
  later task would fail the same way): outstanding tasks are cancelled and the error raised.

Every worker must see the output folder at the same path (on a cluster: shared storage) and have
mubench-hf installed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ..errors import MubenchError
from ..faults import classify
from .grid import Grid
from .ray_address import (
    DEFAULT_TIMEOUT,
    LOCAL,
    RayAddress,
    check_reachable,
    probe_cluster,
    resolve_address,
)
from .references import Reference, base_dir, base_reference, retrain_dir, retrain_reference, splits_dir

INSTALL_HINT = "pip install 'mubench-hf[ray]' (or pip install ray)"


def import_ray() -> Any:
    """The ``ray`` module, or a ``MubenchError`` that says how to install it."""
    try:
        import ray
    except ImportError as err:
        raise MubenchError(
            f"--backend ray needs Ray, which is not installed ({err}); install it with {INSTALL_HINT}, "
            "or run with --backend local"
        ) from None
    return ray


@dataclasses.dataclass
class RayBackend:
    """Where and with what resources the tasks run.

    ``address``: a running Ray cluster (``ray start --head`` prints it; ``"auto"`` finds the local one);
    ``None``: the cluster in ``RAY_ADDRESS``, else the instance this process already started, else a
    private one for the sweep. ``timeout``: seconds to join a cluster before giving up.
    ``num_cpus``/``num_gpus``: what Ray reserves for each task (a cell sets torch's threads to its CPUs;
    a method that uses several GPUs, e.g. through accelerate, gets them all inside its one task).
    ``max_retries``: how often Ray reruns a task whose worker died (0: the next run redoes it instead).
    """

    address: str | None = None
    num_cpus: float = 1
    num_gpus: float = 0
    max_retries: int = 0
    timeout: float = DEFAULT_TIMEOUT  # seconds to join a cluster (see ray_address.py)
    cluster: RayAddress | None = dataclasses.field(default=None, init=False, repr=False)  # None: private
    _started: bool = dataclasses.field(default=False, init=False, repr=False)  # ray.init was ours
    _connected: bool = dataclasses.field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise MubenchError(f"--ray-timeout must be a number of seconds above 0, got {self.timeout:g}")
        self.cluster = resolve_address(self.address)  # a malformed address fails here, before any work
        if self.num_cpus <= 0:
            raise MubenchError(f"--cpus-per-cell must be above 0, got {self.num_cpus:g}")
        if self.num_gpus < 0:
            raise MubenchError(f"--gpus-per-cell must be 0 or more, got {self.num_gpus:g}")
        if self.max_retries < 0:
            raise MubenchError(f"--ray-retries must be 0 or more, got {self.max_retries}")

    def check_fits(self, resources: dict[str, float]) -> None:
        """Refuse a task larger than the whole cluster (``ray.cluster_resources()``): Ray would wait for
        it forever. A task larger than every single node but not the cluster still waits."""
        for name, wanted, flag in (
            ("CPU", self.num_cpus, "--cpus-per-cell"),
            ("GPU", self.num_gpus, "--gpus-per-cell"),
        ):
            have = float(resources.get(name, 0))
            if wanted > have:
                raise MubenchError(
                    f"{flag} {wanted:g} asks for more {name}s than the Ray cluster has ({have:g}); lower it, "
                    "or add nodes to the cluster (ray start --address ...)"
                )

    def connect(self) -> None:
        """Join the cluster (or start the private instance) and check that a task fits in it: done
        before any splits are built, and bounded in time. A cluster address must answer a TCP connection
        at once and let a child process join it within ``timeout`` seconds; only then does this process
        join it too."""
        if self._connected:
            return
        ray = import_ray()
        if ray.is_initialized():  # joined by the caller already: use that
            self.check_fits(ray.cluster_resources())
            self._connected = True
            return
        options: dict[str, Any] = {"log_to_driver": False}
        if self.cluster is None:
            options.update(address=LOCAL, include_dashboard=False)  # a private instance for this sweep only
        else:
            check_reachable(self.cluster)
            self.check_fits(probe_cluster(self.cluster, self.timeout))
            options["address"] = self.cluster.text
        try:
            ray.init(**options)
        except ConnectionError as err:
            raise MubenchError(
                f"cannot reach the Ray cluster at {self.address}: {err}; start one with "
                "`ray start --head` and pass the address it prints, or leave --address out"
            ) from None
        self._started = self._connected = True
        if self.cluster is None:
            try:
                self.check_fits(ray.cluster_resources())
            except MubenchError:
                self.close()
                raise

    def close(self) -> None:
        """Leave the cluster (shut the private instance down) when :meth:`connect` joined it."""
        if self._started:
            import_ray().shutdown()
        self._started = self._connected = False

    def run(
        self,
        grid: Grid,
        splits_hash: str,
        digests: dict[Path, str],
        pending: list[Reference],
        show_progress: bool,
        log: Callable[[str], None],
    ) -> tuple[list[dict[str, Any]], int, int]:
        """Run the grid's missing reference models and its cells on Ray; returns the grid's records (in
        the local backend's order), how many cells ran and how many were reused."""
        ray = import_ray()
        joined_here = not self._connected
        self.connect()
        try:
            return _Driver(ray, self, _absolute(grid), splits_hash, show_progress, log).run(digests, pending)
        finally:
            if joined_here:
                self.close()


def _absolute(grid: Grid) -> Grid:
    """``grid`` with an absolute output folder: Ray workers do not run in the driver's folder."""
    return dataclasses.replace(grid, output=str(Path(grid.output).resolve()))


# --------------------------------------------------------------------------- the tasks (run on workers)
def _setup_worker(num_cpus: float, grid: Grid) -> None:
    import datasets
    import torch
    import transformers

    from ..splits.declared_tasks import register_repo_tasks

    # a task declared in a task file: the worker learns it from the splits the driver built
    register_repo_tasks(splits_dir(grid))
    torch.set_num_threads(max(1, int(num_cpus)))
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


def reference_task(grid: Grid, kind: str, config: str | None, seed: int, splits_hash: str, num_cpus: float,
                   *after: str) -> str:  # fmt: skip
    """Make one reference model (``after``: the digests of the models it is trained from, passed only so
    that Ray waits for them); returns its weights digest."""
    from .runner import make_one_reference

    _setup_worker(num_cpus, grid)
    if kind == "base":
        reference = base_reference(grid, seed, splits_hash)
    else:
        reference = retrain_reference(grid, str(config), seed, splits_hash)
    return make_one_reference(reference)


def cell_task(grid: Grid, config: str, seed: int, method: str, splits_hash: str, base_digest: str,
              retrain_digest: str, num_cpus: float) -> tuple[dict[str, Any], bool]:  # fmt: skip
    """Run one cell (or read its finished record); returns the record and whether it ran."""
    import warnings

    from .runner import finish_cell, make_cell

    _setup_worker(num_cpus, grid)
    cell = make_cell(grid, config, seed, method, splits_hash, base_digest, retrain_digest)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pin_memory.*")  # as the local backend does
        return finish_cell(cell)


def step_task(grid: Grid, schedule: str, step: int, seed: int, method: str, splits_hash: str, base_digest: str,
              retrain_digest: str, num_cpus: float, *after: Any) -> tuple[dict[str, Any], bool]:  # fmt: skip
    """Run step ``step`` of a request chain (``after``: the previous step's result, passed only so that
    Ray starts this step once that one is done); returns the record and whether it ran."""
    import warnings

    from ..splits.requests import parse_schedule
    from .runner import finish_cell
    from .sequential import step_cell

    _setup_worker(num_cpus, grid)
    cell = step_cell(
        grid, parse_schedule(schedule), step, seed, method, splits_hash, base_digest, retrain_digest
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pin_memory.*")
        return finish_cell(cell)


# --------------------------------------------------------------------------- the driver
class _Driver:
    def __init__(self, ray: Any, backend: RayBackend, grid: Grid, splits_hash: str, show_progress: bool,
                 log: Callable[[str], None]) -> None:  # fmt: skip
        self.ray, self.backend, self.grid, self.splits_hash = ray, backend, grid, splits_hash
        self.show_progress, self.log = show_progress, log
        options = {
            "num_cpus": backend.num_cpus,
            "num_gpus": backend.num_gpus,
            "max_retries": backend.max_retries,
        }
        self.reference_remote = ray.remote(**options)(reference_task)
        self.cell_remote = ray.remote(**options)(cell_task)
        self.step_remote = ray.remote(**options)(step_task)

    def _submit_references(self, digests: dict[Path, str], pending: list[Reference]) -> dict[Path, Any]:
        """Folder -> digest or the ObjectRef of the task making it; retrain tasks wait for their base."""
        grid, made = self.grid, {Path(k).resolve(): v for k, v in digests.items()}
        todo = {Path(reference.folder).resolve() for reference in pending}
        cpus = self.backend.num_cpus
        for seed in grid.seeds:
            folder = base_dir(grid, seed)
            if folder in todo:
                made[folder] = self.reference_remote.remote(grid, "base", None, seed, self.splits_hash, cpus)
        for seed in grid.seeds:
            for config in grid.reference_configs:
                folder = retrain_dir(grid, config, seed)
                if folder in todo:
                    base = made[base_dir(grid, seed)]
                    made[folder] = self.reference_remote.remote(
                        grid, "retrain", config, seed, self.splits_hash, cpus, base
                    )
        return made

    def run(
        self, digests: dict[Path, str], pending: list[Reference]
    ) -> tuple[list[dict[str, Any]], int, int]:
        grid = self.grid
        made = self._submit_references(digests, pending)
        references = {ref: folder for folder, ref in made.items() if not isinstance(ref, str)}
        cells: dict[Any, tuple[str, int, str]] = {}
        order = [(c, s, m) for s in grid.seeds for c in grid.configs for m in grid.methods]
        for config, seed, method in order:
            base, retrain = made[base_dir(grid, seed)], made[retrain_dir(grid, config, seed)]
            ref = self.cell_remote.remote(
                grid, config, seed, method, self.splits_hash, base, retrain, self.backend.num_cpus
            )
            cells[ref] = (config, seed, method)
        order += self._submit_chains(made, cells)
        if references:
            self.log(f"Ray: {len(references)} reference model(s) and {len(cells)} cell(s) submitted")
        records: dict[tuple[str, int, str], dict[str, Any]] = {}
        ran = reused = 0
        outstanding = list(references) + list(cells)
        bar = tqdm(total=len(cells), desc="cells", disable=not self.show_progress)
        try:
            while outstanding:
                done, outstanding = self.ray.wait(outstanding, num_returns=1)
                ref = done[0]
                if ref in references:
                    self._reference_finished(ref, references[ref])
                    continue
                key = cells[ref]
                record, was_run = self._cell_finished(ref, key)
                records[key] = record
                ran += was_run
                reused += not was_run
                bar.set_postfix_str(f"{key[0]} seed {key[1]} {key[2]}")
                bar.update()
        except BaseException:
            # Ctrl-C or a fault that every later task would hit: stop what is still running.
            for ref in outstanding:
                self.ray.cancel(ref, force=True)
            raise
        finally:
            bar.close()
        return [records[key] for key in order], ran, reused

    def _submit_chains(self, made: dict[Path, Any], cells: dict[Any, tuple[str, int, str]]) -> list[Any]:
        """Submit every request chain: step i waits for step i−1 (and its models), chains run side by
        side. Adds each step to ``cells``; returns their keys in the local backend's order."""
        from .sequential import chain_methods

        grid, order = self.grid, []
        for seed in grid.seeds:
            for schedule in grid.schedules:
                for method in chain_methods(grid):
                    previous: tuple[Any, ...] = ()
                    for step in schedule.steps:
                        retrain = made[retrain_dir(grid, schedule.cumulative_config(grid.task, step), seed)]
                        ref = self.step_remote.remote(
                            grid, schedule.name, step, seed, method, self.splits_hash, made[base_dir(grid, seed)],
                            retrain, self.backend.num_cpus, *previous,
                        )  # fmt: skip
                        key = (schedule.step_config(grid.task, step), seed, method)
                        cells[ref] = key
                        order.append(key)
                        previous = (ref,)
        return order

    def _unwrap(self, err: BaseException) -> BaseException:
        """The exception the task raised, without Ray's wrapper."""
        cause = getattr(err, "cause", None)
        return cause if isinstance(cause, BaseException) else err

    def _reference_finished(self, ref: Any, folder: Path) -> None:
        try:
            self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as err:
            raise self._unwrap(err) from None  # MubenchError or a disk fault, as locally
        except self.ray.exceptions.RayError as err:
            raise MubenchError(
                f"the Ray worker training the reference model {folder.name} died ({type(err).__name__}: "
                f"{err}); run the same command again (finished cells are kept)"
            ) from None

    def _cell_finished(self, ref: Any, key: tuple[str, int, str]) -> tuple[dict[str, Any], bool]:
        config, seed, method = key
        try:
            record, was_run = self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as err:
            cause = self._unwrap(err)
            if isinstance(cause, MubenchError) or classify(cause) is not None:
                raise cause from None  # a reference model failed, or the disk/folder did
            raise  # not a method's error (run_cell records those): a bug
        except self.ray.exceptions.RayError as err:
            # The worker died mid-cell: no record was written, so the next run redoes the cell.
            record = {
                "task": self.grid.task,
                "config": config,
                "seed": seed,
                "method": method,
                "status": "failed",
                "error": f"the Ray worker running this cell died ({type(err).__name__}); it is redone on the "
                "next run",
            }
            tqdm.write(_failure_line(record))
            return record, True
        if was_run and record.get("status") != "done":
            tqdm.write(_failure_line(record))
        return record, was_run


def _failure_line(record: dict[str, Any]) -> str:
    from .runner import failure_line

    return failure_line(record)
