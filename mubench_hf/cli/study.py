"""``mubench study NAME``: MU-Bench's analyses (peft, curriculum, scalability, bias) as resumable commands.

    mubench study peft --task digits --methods grad_ascent,finetune
    mubench study scalability --ratios 1,2,5,10 --widths 0.5,1,2
    mubench study bias --class 0 --shares 25,50,100
    mubench study lr-search --task fashion_mnist --methods all --factors 0.3,1,3
    mubench study hpo --task digits --methods salun,scrub,ssd --trials 20 --storage sqlite:///hpo.db

Each writes results.csv, results.md (with what it found) and a figure into OUTPUT/NAME/ (default
studies/NAME/); running it again reuses every finished sweep and variant cell.
"""

from __future__ import annotations

import argparse
import importlib

from ..errors import MubenchError
from ..studies import STUDIES, StudyOptions
from .run import add_runtime_flags, check_threads, set_threads


def _numbers(text: str, flag: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise MubenchError(f"{flag} takes comma-separated numbers, got {text!r}") from None
    if not values:
        raise MubenchError(f"{flag} needs at least one number")
    return values


def _percentages(text: str, flag: str) -> tuple[float, ...]:
    values = _numbers(text, flag)
    bad = [v for v in values if not 0 < v <= 100]
    if bad:
        raise MubenchError(f"{flag} takes percentages in (0, 100], got {', '.join(f'{v:g}' for v in bad)}")
    return tuple(v / 100 for v in values)


def _hyperparameters(path: str | None) -> dict:
    """The per-method settings of ``--hyperparameters`` (checked with the grid when it is built)."""
    if path is None:
        return {}
    from ..config_files import read_config_file

    values = read_config_file(path, what="--hyperparameters file")
    if isinstance(values, dict) and set(values) == {"hyperparameters"}:  # a whole grid-file section
        values = values["hyperparameters"]
    if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
        raise MubenchError(
            f"--hyperparameters {path}: expected a mapping of method -> settings, e.g. 'salun: {{learning_rate: 3e-3}}'"
        )
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mubench study", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="study", metavar="NAME", required=True)
    for name, (_, help_text) in STUDIES.items():
        text = help_text.replace("%", "%%")  # argparse formats help strings with %
        study = sub.add_parser(name, help=text, description=text)
        study.add_argument("--task", default="digits", help="task name or task file (default: digits)")
        study.add_argument(
            "--methods", default="grad_ascent,finetune", help="comma-separated methods, or 'all'"
        )
        study.add_argument("--seed", type=int, default=42, help="seed of the models and methods (default 42)")
        study.add_argument("--output", default="studies", help="folder of the studies (default: studies)")
        study.add_argument("--model", default="tiny:resnet", help="what the base model starts from")
        study.add_argument(
            "--base-epochs", type=float, default=None, help="epochs of the base and retrain models"
        )
        study.add_argument("--max-steps", type=int, default=None, help="unlearning steps of every method")
        study.add_argument(
            "--hyperparameters",
            default=None,
            help="a YAML/JSON file mapping method -> settings (a grid file's 'hyperparameters' key), over the "
            "methods' defaults",
        )
        if name == "scalability":
            study.add_argument("--ratios", default="1,2,5,10", help="deletion percentages (default 1,2,5,10)")
            study.add_argument(
                "--widths", default="0.5,1,2", help="width multipliers of the backbone (default 0.5,1,2)"
            )
        else:
            study.add_argument("--ratio", type=float, default=5.0, help="deletion percentage (default 5)")
        if name == "peft":
            study.add_argument(
                "--shares", default="10,20,50", help="trainable shares in %% (default 10,20,50)"
            )
        if name == "bias":
            study.add_argument(
                "--shares", default="25,50,100", help="shares of the class in the forget set, %%"
            )
            study.add_argument(
                "--class", dest="target", type=int, default=0, help="the class the forget set leans to"
            )
        if name == "lr-search":
            study.add_argument(
                "--factors",
                default="0.3,1,3",
                help="multiples of each method's learning rate (default 0.3,1,3)",
            )
            study.add_argument(
                "--method-factors",
                action="append",
                default=[],
                metavar="METHOD=F1,F2",
                help="one method's own factors instead of --factors (repeatable), "
                "e.g. --method-factors bad_teaching=3,10,30",
            )
            study.add_argument(
                "--forget-class",
                default=None,
                help="search on the class-wise config <task>_class<K> (label index or name) instead of "
                "the --ratio one; writes lr-search/<task>_class<K>/hyperparameters.yaml for a grid's "
                "class_wise_hyperparameters key",
            )
        if name == "hpo":
            _add_hpo_flags(study)
        if name == "curriculum":
            study.add_argument(
                "--lambda", dest="lam", type=float, default=10.0, help="SuperLoss λ (MU-Bench: 10)"
            )
        add_runtime_flags(study)
    return parser


def _add_hpo_flags(study: argparse.ArgumentParser) -> None:
    study.add_argument(
        "--trials",
        type=int,
        default=20,
        help="trials per method, counted in the database "
        "(a rerun goes on from the finished ones; default 20)",
    )
    study.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per method after which a worker starts no new trial (default: none)",
    )
    study.add_argument(
        "--storage",
        default=None,
        help="Optuna database URL: sqlite:///FILE.db or postgresql://USER@HOST/DB "
        "(default: sqlite:///OUTPUT/hpo/hpo.db)",
    )
    study.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes on this machine that share each method's study (default 1; more machines: run the "
        "same command with one --storage)",
    )
    study.add_argument(
        "--report-every",
        type=int,
        default=10,
        help="optimizer steps between the validation-gap reports a trial is pruned on "
        "(0: no pruning; default 10)",
    )
    study.add_argument(
        "--pruning-warmup",
        type=int,
        default=4,
        help="complete trials before the median pruner stops any (default 4)",
    )


def _method_factors(args: argparse.Namespace) -> dict[str, tuple[float, ...]]:
    """``--method-factors METHOD=F1,F2`` (repeatable) as a mapping method -> factors."""
    chosen: dict[str, tuple[float, ...]] = {}
    for item in args.method_factors:
        method, sep, values = item.partition("=")
        if not sep or not method.strip() or not values.strip():
            raise MubenchError(f"--method-factors takes METHOD=F1,F2 (e.g. ssd=0.1,0.3), got {item!r}")
        if method.strip() in chosen:
            raise MubenchError(f"--method-factors gives {method.strip()!r} twice")
        chosen[method.strip()] = tuple(_numbers(values, f"--method-factors {method.strip()}"))
    return chosen


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    check_threads(args.threads)
    from ._tasks import use_task_files

    args.task = use_task_files(args.task)  # a task file's path: the task it declares
    from ..sweeps.grid_values import RETRAIN, parse_methods
    from ..tasks import get_task

    # 'all' as in mubench run (the retrain model is every study's reference, not a method to compare)
    methods = parse_methods(args.methods, get_task(args.task).kind)
    if args.methods.strip() == "all":
        methods = [m for m in methods if m != RETRAIN]
    base_recipe = {} if args.base_epochs is None else {"num_train_epochs": args.base_epochs}
    unlearn_args = {} if args.max_steps is None else {"max_steps": args.max_steps}
    # a settings file may cover more methods than this study runs (e.g. every method's starting point):
    # the others are left out here; a name that is no method at all still fails when the grid is checked
    every_method = parse_methods("all", get_task(args.task).kind)
    hyperparameters = {
        m: v
        for m, v in _hyperparameters(args.hyperparameters).items()
        if m in methods or m not in every_method
    }
    options = StudyOptions(
        task=args.task, methods=methods, seed=args.seed, ratio=getattr(args, "ratio", 5.0), output=args.output,
        model=args.model, base_recipe=base_recipe, unlearn_args=unlearn_args, hyperparameters=hyperparameters,
        show_progress=not args.no_progress,
    )  # fmt: skip
    set_threads(args.threads, options.model)
    module = importlib.import_module(STUDIES[args.study][0])
    extra = {}
    if args.study == "scalability":
        extra = {"ratios": _numbers(args.ratios, "--ratios"), "widths": _numbers(args.widths, "--widths")}
    elif args.study in ("peft", "bias"):
        extra = {"shares": _percentages(args.shares, "--shares")}
        if args.study == "bias":
            extra["target"] = args.target
    elif args.study == "lr-search":
        extra = {"factors": _numbers(args.factors, "--factors"), "method_factors": _method_factors(args)}
        if args.forget_class is not None:  # an index or a name: the grid's classes key resolves both
            extra["forget_class"] = args.forget_class.strip()
    elif args.study == "hpo":
        extra = {
            "trials": args.trials, "timeout_s": args.timeout, "storage": args.storage, "workers": args.workers,
            "report_every": args.report_every, "pruning_warmup_trials": args.pruning_warmup,
            "threads": args.threads or 1,
        }  # fmt: skip
    elif args.study == "curriculum":
        if args.lam <= 0:
            raise MubenchError(f"--lambda must be positive, got {args.lam:g}")
        extra = {"lam": args.lam}
    result = module.run(options, **extra)
    print(result.describe())
    return 0
