"""``mubench demo``: the benchmark on offline tasks, in a few minutes on a CPU, no Hub needed.

Two presets of ``mubench run`` grids, all into one output folder with one leaderboard:

* default (``make demo``): every classification method on scikit-learn's digits (``digits_del5``,
  seed 42), then a generation grid on ``fictitious_authors_small`` (TOFU-shaped QA about 20 made-up
  authors, tiny Llama from a config, the task's own recipe, which memorises the answers): retrain,
  grad_ascent, npo and idk forgetting 10 % of the authors. ``--no-generation`` leaves the second grid out.
* ``--all-modalities``: a short grid on each offline classification task (digits image,
  spoken_keywords audio, moving_digits video, digit_pairs image_text), each with a random-deletion
  config (``<task>_del5``) and a class-wise one (``<task>_class0``: every row of class 0 is forgotten,
  so a forgetting method must lower that class's accuracy; cells record ``original_forget_accuracy``),
  then the generation grid.

Each grid is a sweep folder of its own, ``<output>/<task>/`` (its splits, base and retrain models and
cells; its own results and leaderboard), and ``<output>/`` holds the summaries of all of them:
results.jsonl (every cell), results.csv (mean ± std per method), leaderboard.md (a section per task
and config, each ranked by its task kind's rule: gap to retrain for classification, forget quality then
model utility for generation) and PNG figures. Run it again and it reuses what is finished.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import MubenchError
from ..sweeps.grid_values import MAX_SEED
from .run import add_runtime_flags, check_threads, set_threads

#: The quick demo's classification grid (every method on digits; about a minute on two cores).
DEMO_GRID: dict[str, Any] = {"task": "digits", "methods": "all", "ratios": [5], "seeds": [42]}

#: Generative methods of the generation grid: gradient ascent, NPO (a bounded ascent) and IDK
#: (fine-tuning the forget prompts to refusals) each lower forget ROUGE-L within their quick settings;
#: retrain is the reference forget quality is measured against.
GENERATION_METHODS = ["retrain", "grad_ascent", "npo", "idk"]
#: The demo's generation task: 20 authors, so that tiny:llama memorises them with the task's own recipe
#: (20 epochs, 260 steps: the cost of four epochs of the 100-author task) and the base model is far above
#: the retrain model on the forget set (forget ROUGE-L 0.97 against 0.62), which is what unlearning must
#: close. 10 % of the authors: two, 40 forget rows, enough for forget quality's KS test.
GENERATION_TASK = "fictitious_authors_small"
GENERATION_GRID: dict[str, Any] = {
    "task": GENERATION_TASK,
    "methods": GENERATION_METHODS,
    "ratios": [10],
    "seeds": [42],
}

#: The class each class-wise config of ``--all-modalities`` forgets (label index 0 of every task).
FORGET_CLASS = 0
#: The offline classification task of each modality, in the order ``--all-modalities`` runs them.
MODALITY_TASKS = ("digits", "spoken_keywords", "moving_digits", "digit_pairs")
ALL_MODALITIES_GRIDS: tuple[dict[str, Any], ...] = tuple(
    {"task": task, "methods": "all", "ratios": [5], "classes": [FORGET_CLASS], "seeds": [42]}
    for task in MODALITY_TASKS
)

DEFAULT_OUTPUT = "demo_out"
DEFAULT_ALL_MODALITIES_OUTPUT = "demo_all_modalities_out"


def demo_grids(*, all_modalities: bool = False, generation: bool = True) -> list[dict[str, Any]]:
    """The grid values of a preset, in the order they run (without output and seeds)."""
    grids = [dict(g) for g in ALL_MODALITIES_GRIDS] if all_modalities else [dict(DEMO_GRID)]
    if generation:
        grids.append(dict(GENERATION_GRID))
    return grids


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mubench demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--output",
        default=None,
        help=f"folder for everything the demo writes (default: {DEFAULT_OUTPUT}; with --all-modalities "
        f"{DEFAULT_ALL_MODALITIES_OUTPUT})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=42,
        help="seed of the models and the deletion order (default: %(default)s)",
    )
    parser.add_argument(
        "--all-modalities",
        action="store_true",
        help="a short grid on each offline classification task (image, audio, video, image-text), each "
        "with a class-wise config, then the generation grid",
    )
    parser.add_argument(
        "--no-generation", action="store_true", help=f"leave out the generation grid ({GENERATION_TASK})"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="rebuild a task's deletion splits in the output folder when they lack what its grid needs "
        "(as mubench run --overwrite; what was made on them is made again)",
    )
    add_runtime_flags(parser)
    return parser


def output_of(args: argparse.Namespace) -> Path:
    """The demo's output folder (its default depends on the preset)."""
    return Path(args.output or (DEFAULT_ALL_MODALITIES_OUTPUT if args.all_modalities else DEFAULT_OUTPUT))


def make_demo_grids(args: argparse.Namespace) -> list[Any]:
    """The checked ``Grid`` of every preset grid, each in its own ``<output>/<task>`` folder."""
    from ..sweeps.grid import make_grid

    output = output_of(args)
    grids = []
    for values in demo_grids(all_modalities=args.all_modalities, generation=not args.no_generation):
        grids.append(
            make_grid(
                {
                    **values,
                    "seeds": [args.seed],
                    "split_seed": args.seed,
                    "output": str(output / values["task"]),
                    # the demo keeps the unlearned weights (tiny) so any can go to the Hub with `mubench push`
                    "save_models": True,
                }
            )
        )
    return grids


def check_output(output: Path) -> None:
    """Refuse an output that is a file, or lies inside one, before anything runs."""
    for folder in (output, *output.parents):
        if folder.exists() and not folder.is_dir():
            where = "is a file" if folder == output else f"lies inside {folder}, which is a file"
            raise MubenchError(f"--output {output} {where}; give a folder")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``mubench demo``; exits 1 when any cell failed (the others are still written)."""
    from ..sweeps.runner import run_grid
    from ..sweeps.splits_repo import plan_splits

    args = build_parser().parse_args(argv)
    check_threads(args.threads)
    if not 0 <= args.seed <= MAX_SEED:
        raise MubenchError(f"--seed must be an integer in [0, {MAX_SEED}], got {args.seed}")
    output = output_of(args)
    check_output(output)
    grids = make_demo_grids(args)
    for grid in grids:  # a grid the folder's splits cannot serve is refused before any grid runs
        plan_splits(grid, overwrite=args.overwrite)
    start = time.perf_counter()
    failed = 0
    for grid in grids:
        print(f"\n== {grid.task}: {', '.join(grid.configs)}, {len(grid.methods)} method(s) -> {grid.output}")
        set_threads(args.threads, grid.model)
        began = time.perf_counter()
        try:
            result = run_grid(grid, show_progress=not args.no_progress, overwrite=args.overwrite)
        except KeyboardInterrupt:
            print(
                f"Stopped. Finished cells are kept in {output}; run the same command again to go on.",
                file=sys.stderr,
            )
            raise
        failed += len(result.failed)
        print(
            f"{grid.task}: {result.ran} cell(s) run, {result.reused} reused in {time.perf_counter() - began:.0f}s"
        )
    summary = write_summary(output, [Path(grid.output) for grid in grids])
    print_summary(summary, time.perf_counter() - start, failed)
    return 1 if failed else 0


def write_summary(output: Path, folders: list[Path]) -> dict[str, Any]:
    """results.jsonl, results.csv, leaderboard.md and figures in ``output`` covering every finished
    cell of the grid folders ``folders`` (one per task)."""
    from ..sweeps.aggregate import aggregate
    from ..sweeps.outputs import (
        csv_text,
        jsonl_text,
        leaderboard_markdown,
        write_figures,
        write_generation_figures,
        write_text,
    )
    from ..sweeps.summary import folder_records, order_key
    from ..tasks import get_task

    records: list[dict[str, Any]] = []
    notes: list[str] = []
    for folder in folders:
        found = folder_records(folder)
        records += found.records
        notes += found.notes()
    records.sort(key=order_key)
    rows = aggregate(records)
    outputs = {
        "cells": write_text(output / "results.jsonl", jsonl_text(records)),
        "aggregated": write_text(output / "results.csv", csv_text(rows)),
        "leaderboard": write_text(output / "leaderboard.md", leaderboard_markdown(rows)),
    }
    figures: list[Path] = []
    for task in dict.fromkeys(row["task"] for row in rows):
        task_rows = [row for row in rows if row["task"] == task]
        spec = get_task(task)
        if spec.kind == "generation":  # no classes, no chance line: TOFU's axes instead
            figures += write_generation_figures(task_rows, output / "figures")
        else:
            figures += write_figures(task_rows, spec.num_labels, output / "figures")
    return {"rows": rows, "records": records, "outputs": outputs, "figures": figures, "notes": notes}


def print_summary(summary: dict[str, Any], seconds: float, failed: int) -> None:
    """One ranked table per config of every task, then where everything went."""
    from ..sweeps.outputs import by_config, ranked_table, task_kind
    from ..sweeps.ranking import GENERATION_RANKING_RULE, RANKING_RULE

    groups = by_config(summary["rows"])
    kinds = {task_kind(rows) for rows in groups.values()}
    rules = [RANKING_RULE] * ("classification" in kinds) + [GENERATION_RANKING_RULE] * ("generation" in kinds)
    print("\nEvery task of the demo\n\n" + "\n".join(rules))
    for config, rows in groups.items():
        print(f"\n{config}\n")
        print(ranked_table(rows))
    outputs = summary["outputs"]
    lines = [
        f"\nDone in {seconds:.0f}s ({len(summary['records'])} cell(s), {failed} failed).",
        f"results of every cell (JSONL) -> {outputs['cells']}",
        f"mean ± std per method (CSV) -> {outputs['aggregated']}",
        f"ranked leaderboard, a section per task and config (Markdown) -> {outputs['leaderboard']}",
        f"figures (PNG) -> {', '.join(str(p) for p in summary['figures']) or 'none'}",
    ]
    lines += [f"note: {note}" for note in summary["notes"]]
    print("\n".join(lines))
