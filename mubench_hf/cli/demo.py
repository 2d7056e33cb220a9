"""``mubench demo``: the whole benchmark on scikit-learn's digits, offline, in a few minutes on a CPU.

It is one preset grid for ``mubench run``: it builds the digits deletion repo, trains the base model
and the retrain reference for ``digits_del5`` (seed 42), runs every unlearning method on it, scores
every metric, prints the table (ranked by gap to retrain, with the retrain model as the reference row)
and writes results.jsonl, results.csv, leaderboard.md and PNG figures. Run it again and it reuses
what is finished."""

from __future__ import annotations

import argparse

from ..errors import MubenchError
from ..sweeps.grid_values import MAX_SEED
from .run import add_runtime_flags, check_threads, run_and_report, set_threads

DEMO_GRID = {"task": "digits", "methods": "all", "ratios": [5], "seeds": [42]}


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mubench demo``."""
    from ..sweeps.grid import make_grid

    parser = argparse.ArgumentParser(prog="mubench demo", description=__doc__)
    parser.add_argument("--output", default="demo_out", help="folder for everything the demo writes")
    parser.add_argument(
        "--seed",
        type=int,
        default=42,
        help="seed of the models and the deletion order (default: %(default)s)",
    )
    add_runtime_flags(parser)
    args = parser.parse_args(argv)
    check_threads(args.threads)
    if not 0 <= args.seed <= MAX_SEED:
        raise MubenchError(f"--seed must be an integer in [0, {MAX_SEED}], got {args.seed}")
    # The demo keeps the unlearned weights (tiny here) so any of them can go to the Hub with `mubench push`.
    grid = make_grid(
        {
            **DEMO_GRID,
            "seeds": [args.seed],
            "split_seed": args.seed,
            "output": args.output,
            "save_models": True,
        }
    )
    set_threads(args.threads, grid.model)
    return run_and_report(grid, show_progress=not args.no_progress)
