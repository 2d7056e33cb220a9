"""``mubench build-splits``: write a task's deletion configs into a dataset repo folder."""

from __future__ import annotations

import argparse
import os
import textwrap

from ..errors import MubenchError
from ..splits import DEFAULT_OUTPUT_DIR, DEFAULT_SEED, build_splits
from ..tasks import list_tasks
from ._tasks import add_task_file_flag, use_task_files
from .info import print_sizes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mubench build-splits",
        description="Build MU-Bench deletion splits (<task>_del<p>, <task>_class<k>) as dataset configs "
        "that datasets.load_dataset(OUTPUT, CONFIG) reads.",
        epilog=task_file_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--task",
        required=True,
        help=f"task name (one of: {', '.join(list_tasks())}) or the path of a task file (.yaml/.yml/.json)",
    )
    add_task_file_flag(parser)
    parser.add_argument(
        "--output",
        default=DEFAULT_OUTPUT_DIR,
        help="repo folder (default: ./%(default)s); other tasks in it are kept",
    )
    parser.add_argument(
        "--ratios",
        default="1,2,3,4,5,6,7,8,9,10",
        help="comma-separated deletion percentages in (0, 100], each given once (a repeat such as 5,5.0 is "
        "refused); with n train rows and a deletion order of m = 10%% of n, ratio p <= 10 forgets the first "
        "floor(p/10*m) rows of the order (MU-Bench), p > 10 forgets m + floor((p-10)/90*(n-m)), so 100 forgets "
        "every row; forget sets are nested (default: %(default)s)",
    )
    parser.add_argument(
        "--requests",
        default="",
        help="comma-separated request schedules <k>x<p> (k deletion requests of p %% each, e.g. 4x2.5): "
        "each adds the step configs <task>_req<k>x<p>_step<i> (forget = request i's rows, "
        "forget_cumulative = requests 1..i, retain = the rest) and its ratios i*p (default: none)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help="seed of the deletion order, a non-negative integer (default: %(default)s)",
    )
    parser.add_argument(
        "--order",
        default=None,
        help="file with one train index per line (MU-Bench format) replacing the seeded order; 'upstream': "
        "the task's own forget sets (tofu: TOFU's forget01/05/10); group tasks list groups",
    )
    parser.add_argument(
        "--stratify",
        action="store_true",
        help="make the seeded order class-stratified: each forget set holds every class in proportion to "
        "its share of train (as MU-Bench's mubench/df/<task>.txt lists do); not with --order",
    )
    parser.add_argument(
        "--forget-class",
        action="append",
        default=[],
        metavar="K",
        help="add a class-wise config <task>_class<K> (index or class name); repeat for several classes",
    )
    parser.add_argument(
        "--source", default=None, help="local copy of the task's source dataset (replaces the Hub)"
    )
    parser.add_argument(
        "--ood-source", default=None, help="local copy of the task's OOD dataset (replaces the Hub)"
    )
    parser.add_argument("--no-ood", action="store_true", help="do not build the OOD split")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace this task's configs in the repo if they differ (a non-empty folder that is not a mubench "
        "repo is never replaced: empty it yourself)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    return parser


def task_file_epilog() -> str:
    """The task-file keys and what mubench does with them, for ``--help``."""
    from ..tasks.task_file import ENV_VAR
    from ..tasks.task_file_schema import FIELDS

    width = max(len(key) for key in FIELDS)
    lines = []
    for key, (what, default) in FIELDS.items():
        if what.startswith("(recorded)"):
            continue
        shown = f" (default: {default})" if default not in (None, "", {}) and "default" not in what else ""
        lines += textwrap.wrap(
            f"{what}{shown}", 100, initial_indent=f"  {key:<{width}}  ", subsequent_indent=" " * (width + 4)
        )
    notes = (
        "Relative paths are relative to the task file. Local files are read with datasets' packaged builders "
        "(no network). Class names come from class_names, else a ClassLabel label column, else the sorted "
        "distinct values of a string label column (the repo's card says which). A validation or test split "
        "the source lacks is carved out of train: one numpy default_rng(split_seed) permutation, the first "
        "round(test_fraction*n) rows test, the next round(validation_fraction*n) validation. The repo records "
        "the checked declaration, so train-base, retrain, unlearn, evaluate and run on it need no task file. "
        f"{ENV_VAR} lists task files for every command (paths joined by {os.pathsep!r})."
    )
    head = "task files (a dataset of your own as a task, without Python): a YAML or JSON file with the keys"
    return "\n".join([head, *lines, *textwrap.wrap(notes, 104)])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.task = use_task_files(args.task, args.task_file)
    try:
        result = build_splits(
            args.task,
            args.output,
            ratios=args.ratios,
            seed=args.seed,
            order=args.order,
            stratify=args.stratify,
            forget_classes=args.forget_class,
            source=args.source,
            ood_source=False if args.no_ood else args.ood_source,
            overwrite=args.overwrite,
            show_progress=not args.quiet,
            requests=args.requests,
        )
    except OSError as err:  # disk full, permissions changing mid-build: the build cleans up before this
        raise MubenchError(
            f"writing {args.output} failed ({err.strerror or err}: {err.filename or args.output}); the output "
            "folder was left as it was. Free space or fix the permissions and run the same command again"
        ) from None
    if not args.quiet:
        print(f"Wrote {len(result.configs)} configs of task {result.task!r} to {result.path}")
        print_sizes(result.split_sizes)
        print(
            f"task content hash: {result.content_hash} (check the whole repo with: mubench verify {result.path})"
        )
        print(f'load with: datasets.load_dataset("{result.path}", "{result.configs[0]}")')
    return 0
