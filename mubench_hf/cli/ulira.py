"""``mubench ulira``: U-LiRA (Hayes et al. 2024) and the NeurIPS'23 epsilon score of one method.

    mubench ulira --task digits --method salun --ratio 5 --shadows 4 --output runs/ulira
    mubench ulira --from-sweep runs/ --config digits_del5 --method salun   # reuse a finished sweep

The shadows are a sweep over methods [METHOD, retrain] with one seed per shadow (``mubench run``'s
machinery: cached, resumable). Cost: SHADOWS x (base training + retrain training + one unlearning run);
see mubench_hf/evidence/ulira_shadows.py. The scores go to <output>/ulira/<config>/<method>/ulira.json.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import MubenchError


def _json_mapping(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(
            f"not JSON ({err.msg}); e.g. '{{\"num_train_epochs\": 4}}'"
        ) from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object, e.g. '{\"num_train_epochs\": 4}'")
    return value


def build_parser() -> argparse.ArgumentParser:
    from ..evidence.ulira_shadows import DEFAULT_SHADOWS

    parser = argparse.ArgumentParser(
        prog="mubench ulira", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--method", required=True, help="the unlearning method to attack, e.g. salun")
    parser.add_argument("--task", help="task name or task file (trains the shadows), e.g. digits")
    parser.add_argument("--ratio", default="5", help="deletion percentage of the config (default 5)")
    parser.add_argument("--shadows", type=int, default=DEFAULT_SHADOWS,
                        help=f"shadow pairs, one seed each (>= 3; default {DEFAULT_SHADOWS})")  # fmt: skip
    parser.add_argument("--first-seed", type=int, default=0, help="seed of the first shadow (default 0)")
    parser.add_argument(
        "--output", default="runs/ulira", help="sweep folder of the shadows (default runs/ulira)"
    )
    parser.add_argument("--model", help="what the base models start from (default: the task's tiny model)")
    parser.add_argument("--base-recipe", type=_json_mapping, default=None,
                        help="base/retrain RecipeArguments as JSON, e.g. '{\"num_train_epochs\": 4}'")  # fmt: skip
    parser.add_argument("--hyperparameters", type=_json_mapping, default=None,
                        help="the method's arguments as JSON, e.g. '{\"learning_rate\": 2e-3}'")  # fmt: skip
    parser.add_argument("--from-sweep", help="score an existing sweep folder instead of training shadows")
    parser.add_argument("--config", help="with --from-sweep: the deletion config, e.g. digits_del5")
    parser.add_argument("--seeds", help="with --from-sweep: comma-separated seeds (default: all finished)")
    parser.add_argument("--per-example-variance", action="store_true",
                        help="fit one variance per example (LiRA's online variant; needs many shadows) instead "
                        "of one per side shared by all examples")  # fmt: skip
    parser.add_argument(
        "--epsilon-protocol",
        choices=["official", "kaggle_copy"],
        default="official",
        help="epsilon score definition: the organisers' released scorer (default; "
        "google-deepmind/unlearning_evaluation) or kaggle_copy (the earlier participant's copy)",
    )
    parser.add_argument("--epsilon-attacks", default=None,
                        help="kaggle_copy only: its attacks, e.g. threshold,logistic (logistic needs 10+ "
                        "shadows and is left out below)")  # fmt: skip
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: 1 for the tiny: models, else the CPU cores, at most 4)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    from ..evidence.ulira_shadows import run_ulira, score_sweep, shadow_grid
    from .run import check_threads, set_threads

    args = build_parser().parse_args(argv)
    check_threads(args.threads)
    from ._tasks import use_task_files

    args.task = use_task_files(args.task)  # a task file's path: the task it declares
    attacks = (
        [a.strip() for a in args.epsilon_attacks.split(",") if a.strip()] if args.epsilon_attacks else None
    )
    fixed = not args.per_example_variance
    if args.from_sweep:
        if not args.config:
            raise MubenchError("--from-sweep needs --config (e.g. --config digits_del5)")
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()] if args.seeds else None
        results = score_sweep(args.from_sweep, args.config, args.method, seeds=seeds, fixed_variance=fixed,
                              epsilon_attacks=attacks, epsilon_protocol=args.epsilon_protocol)  # fmt: skip
    else:
        if not args.task:
            raise MubenchError("give --task to train shadows (or --from-sweep FOLDER --config CONFIG)")
        grid = shadow_grid(
            args.task, args.method, output=args.output, ratio=args.ratio, shadows=args.shadows,
            first_seed=args.first_seed, model=args.model, base_recipe=args.base_recipe,
            hyperparameters=args.hyperparameters,
        )  # fmt: skip
        set_threads(args.threads, grid.model)
        results = run_ulira(
            grid,
            show_progress=not args.no_progress,
            fixed_variance=fixed,
            epsilon_attacks=attacks,
            epsilon_protocol=args.epsilon_protocol,
        )
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()}, indent=2))
    return 0
