"""``mubench run``: a resumable sweep over methods × deletion ratios × seeds, with a leaderboard and figures.

    mubench run --task digits --methods all --ratios 1,5,10 --seeds 42,87,21,100,13 --output runs/
    mubench run GRID.yaml [--output other/]   # keys: see mubench_hf/sweeps/grid.py

The splits are built once, the base model once per seed and the retrain model once per seed and
config; each (config, seed, method) cell writes its own cell.json. Running the same command again
reuses everything finished and redoes only missing, failed, damaged or hand-edited cells (each record
carries a checksum). A folder collects every grid run into it: the leaderboard and results cover every
finished cell there. Ranking: gap to retrain when a retrain reference was scored, else MU-Bench score
(see mubench_hf/sweeps/ranking.py). --overwrite rebuilds the folder's deletion splits when the grid
asks for ratios (or a split seed) they were not built with; everything made on them is then made again.

--backend ray runs every reference model and cell as a Ray task (pip install 'mubench-hf[ray]'): on a
private Ray instance of this machine, or on a cluster with --address (see mubench_hf/sweeps/ray_backend.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from ..errors import MubenchError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mubench run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("grid", nargs="?", help="a YAML or JSON grid file (flags given too override it)")
    parser.add_argument("--task", help="task name, e.g. digits, or the path of a task file (.yaml/.json)")
    from ._tasks import add_task_file_flag

    add_task_file_flag(parser)
    parser.add_argument("--methods", help="comma-separated methods, or 'all' (default: all)")
    parser.add_argument(
        "--ratios", help="comma-separated deletion percentages in (0, 100], e.g. 1,2.5,10 (default: 5)"
    )
    parser.add_argument(
        "--classes",
        help="comma-separated classes (label indices or names) that get a class-wise config "
        "<task>_class<k> beside the ratios (default: none)",
    )
    parser.add_argument(
        "--requests",
        help="comma-separated request schedules <k>x<p>, e.g. 4x2.5: k deletion requests of p %% each, "
        "unlearned one after another, each step from the previous step's model and scored against its own "
        "retrain model (sequential unlearning; without --ratios only these chains run)",
    )
    parser.add_argument("--seeds", help="comma-separated seeds (default: MU-Bench's 42,87,21,100,13)")
    parser.add_argument("--output", help="output folder (default: runs)")
    parser.add_argument(
        "--model",
        help="what the base model starts from (default: the task's first tiny model: tiny:resnet, tiny:llama ...)",
    )
    parser.add_argument(
        "--save-models", action="store_true", default=None, help="save every unlearned model's weights"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="rebuild the output folder's deletion splits when they lack the grid's ratios or split seed "
        "(every model and cell made on the old splits is then made again)",
    )
    parser.add_argument(
        "--wait-for-lock",
        action="store_true",
        help="when another run is working in the output folder, wait for it to finish instead of stopping "
        "at once with its pid, host and start time (one run at a time writes a folder)",
    )
    from .evaluate import _positive_int

    parser.add_argument("--max-eval-rows", "--max_eval_rows", dest="max_eval_rows", type=_positive_int, default=None,
                        help="bound every cell's report (the retrain row's too): each split scored on a "
                        "seeded sample of at most N rows (unlearn_args.max_eval_rows; default: every row)")  # fmt: skip
    add_runtime_flags(parser)
    add_backend_flags(parser)
    from .evaluate import add_relearn_flags

    # after the cells: relearn time of each saved model (turns --save-models on)
    add_relearn_flags(parser, "relearn time (opt-in, after the cells; turns --save-models on)")
    return parser


def add_backend_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where the cells run")
    group.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="local: one cell after the other in this process (default); ray: every reference model and "
        "cell a Ray task, side by side (needs pip install 'mubench-hf[ray]')",
    )
    group.add_argument(
        "--address",
        help="with --backend ray: the Ray cluster to use (what `ray start --head` prints, or 'auto'); "
        "default: the cluster in RAY_ADDRESS, else a private instance on this machine",
    )
    group.add_argument(
        "--cpus-per-cell",
        type=float,
        default=None,
        help="with --backend ray: CPUs Ray reserves per task, also its torch threads (default: --threads, "
        "else 1)",
    )
    group.add_argument(
        "--gpus-per-cell",
        type=float,
        default=0,
        help="with --backend ray: GPUs Ray reserves per task (default 0; e.g. 1, or 0.5 to share one)",
    )
    group.add_argument(
        "--ray-timeout",
        type=float,
        default=None,
        help="with --backend ray: seconds to join the cluster at --address before giving up (default 60); "
        "it is checked before any splits are built",
    )
    group.add_argument(
        "--ray-retries",
        type=int,
        default=0,
        help="with --backend ray: reruns of a task whose worker died (default 0: the next run redoes it)",
    )


def make_backend(args: argparse.Namespace) -> Any:
    """The backend the flags ask for (``None``: the local one)."""
    ray_only = {
        "--address": args.address is not None,
        "--cpus-per-cell": args.cpus_per_cell is not None,
        "--gpus-per-cell": args.gpus_per_cell != 0,
        "--ray-retries": args.ray_retries != 0,
        "--ray-timeout": args.ray_timeout is not None,
    }
    if args.backend == "local":
        given = [flag for flag, is_given in ray_only.items() if is_given]
        if given:
            raise MubenchError(f"{', '.join(given)} only apply to --backend ray (add --backend ray)")
        return None
    from ..sweeps.ray_address import DEFAULT_TIMEOUT
    from ..sweeps.ray_backend import RayBackend, import_ray

    cpus = args.cpus_per_cell if args.cpus_per_cell is not None else (args.threads or 1)
    backend = RayBackend(
        address=args.address, num_cpus=cpus, num_gpus=args.gpus_per_cell, max_retries=args.ray_retries,
        timeout=DEFAULT_TIMEOUT if args.ray_timeout is None else args.ray_timeout,
    )  # fmt: skip
    import_ray()  # say at once when Ray is missing, before any splits are built
    return backend


def add_runtime_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: 1 for the tiny: models, which run fastest on one thread; "
        "else the number of CPU cores, at most 4)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def check_threads(threads: int | None) -> None:
    if threads is not None and threads < 1:
        raise MubenchError(f"--threads must be at least 1, got {threads} (or leave it out for the default)")


def set_threads(threads: int | None, model: str) -> None:
    """Pick torch's CPU threads: tiny models spend more on thread hand-offs than they gain (measured:
    the digits demo ran in 86 s on one thread against 98 s on two), larger ones use the cores."""
    import torch

    default = 1 if model.startswith("tiny:") else min(os.cpu_count() or 1, 4)
    torch.set_num_threads(max(1, threads or default))


def grid_values(args: argparse.Namespace) -> dict[str, Any]:
    """The grid keys given as flags (those left out are not in the mapping)."""
    names = ("task", "methods", "ratios", "classes", "seeds", "output", "model", "requests")
    values: dict[str, Any] = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if args.save_models:
        values["save_models"] = True
    return values


def run_and_report(
    grid: Any,
    *,
    show_progress: bool,
    overwrite: bool = False,
    backend: Any = None,
    wait_for_lock: bool = False,
) -> int:
    """Run ``grid``, print one ranked table per config (every finished cell of the folder) and where
    every output went. Returns 1 when a cell of the grid failed."""
    from ..sweeps.outputs import by_config, ranked_table
    from ..sweeps.ranking import RANKING_RULE
    from ..sweeps.runner import describe_outputs, run_grid

    start = time.perf_counter()
    try:
        result = run_grid(
            grid,
            show_progress=show_progress,
            overwrite=overwrite,
            backend=backend,
            wait_for_lock=wait_for_lock,
        )
    except KeyboardInterrupt:
        print(
            f"Stopped. Finished cells are kept in {grid.output}; run the same command again to go on.",
            file=sys.stderr,
        )
        raise
    print(f"\n{RANKING_RULE}")
    for config, rows in by_config(result.rows).items():
        print(f"\n{config}\n")
        print(ranked_table(rows))
    from ..sweeps.sustainability import sustainability_markdown

    section = sustainability_markdown(result.rows)  # request chains (--requests), if the folder has any
    if section:
        print(f"\n{section}")
    print(f"\nDone in {time.perf_counter() - start:.0f}s.")
    print(describe_outputs(result, grid))
    return 1 if result.failed else 0


def bound_reports(grid: Any, max_eval_rows: int | None) -> None:
    """``--max-eval-rows``: one ``unlearn_args`` key, merged into the grid file's (not replacing them); the
    retrain row's report reads it too (``sweeps.cells.REPORT_ARGUMENTS``)."""
    if max_eval_rows is not None:
        grid.unlearn_args = {**grid.unlearn_args, "max_eval_rows": max_eval_rows}


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mubench run``; exits 1 when any cell failed (the others are still written)."""
    from ..sweeps.grid import load_grid, make_grid

    args = build_parser().parse_args(argv)
    check_threads(args.threads)
    from ._tasks import use_task_files

    use_task_files(None, args.task_file)
    backend = make_backend(args)
    values = grid_values(args)
    relearn = _relearn_settings(args)
    if relearn is not None:
        values["save_models"] = True  # relearning starts from each unlearned model's weights
    if args.grid:
        grid = load_grid(args.grid, overrides=values)
    elif "task" not in values:
        raise MubenchError("give a grid file or --task (e.g. mubench run --task digits --methods all)")
    else:
        grid = make_grid(values)
    bound_reports(grid, args.max_eval_rows)
    set_threads(args.threads, grid.model)
    if backend is not None:
        # the cluster is joined (and a cell checked to fit in it) before any splits are built
        backend.connect()
    try:
        code = run_and_report(
            grid,
            show_progress=not args.no_progress,
            overwrite=args.overwrite,
            backend=backend,
            wait_for_lock=args.wait_for_lock,
        )
    finally:
        if backend is not None:
            backend.close()
    if relearn is not None:
        from ..evidence.relearn_sweep import relearn_sweep

        path = relearn_sweep(grid, relearn, show_progress=not args.no_progress)
        print(f"relearn time of every finished cell: {path}")
    return code


def _relearn_settings(args: argparse.Namespace) -> Any:
    """``RelearnSettings`` from the ``--relearn-*`` flags, or ``None`` without ``--relearn-steps``."""
    if not args.relearn_steps:
        return None
    from ..evidence.relearn import RelearnSettings

    return RelearnSettings(
        learning_rate=args.relearn_lr,
        batch_size=args.relearn_batch_size,
        max_steps=args.relearn_cap,
        check_every=args.relearn_check_every,
        tolerance=args.relearn_tolerance,
    )
