"""Parsing and checking the values of a grid's keys (the grid itself is in :mod:`.grid`).

Each function raises :class:`~mubench_hf.errors.MubenchError` naming the key and saying what a right
value looks like, so that a bad grid fails when it is read, before any folder is created.
"""

from __future__ import annotations

import dataclasses
import types
from pathlib import Path
from typing import Any

from ..errors import MubenchError
from .argument_types import check_types

MUBENCH_SEEDS = (42, 87, 21, 100, 13)  # the five seeds of the MU-Bench paper
RETRAIN = "retrain"  # its row is the reference model itself, not a second training run
MAX_SEED = 2**32 - 1  # numpy's and torch's seeding take at most 32 bits

# Top-level keys and the YAML/JSON types each accepts.
TOP_LEVEL_TYPES: dict[str, tuple[type, ...]] = {
    "task": (str,),
    "methods": (str, list),
    "ratios": (int, float, str, list),
    "classes": (int, str, list),
    "seeds": (int, str, list),
    "output": (str,),
    "model": (str,),
    "split_seed": (int,),
    "base_recipe": (dict,),
    "unlearn_args": (dict,),
    "hyperparameters": (dict,),
    "class_wise_hyperparameters": (dict,),
    "save_models": (bool,),
    "requests": (str, list),
}
_TYPE_WORDS = {str: "a string", list: "a list", int: "an integer", float: "a number", dict: "a mapping"}
_TYPE_WORDS[bool] = "true or false"


def check_top_level(values: dict[str, Any]) -> None:
    """Known keys only, each of an accepted type, and ``task`` present."""
    unknown = sorted(set(values) - set(TOP_LEVEL_TYPES), key=str)
    if unknown:
        raise MubenchError(
            f"unknown grid key(s) {', '.join(repr(k) for k in unknown)}; known keys: {', '.join(TOP_LEVEL_TYPES)}"
        )
    for key, value in values.items():
        expected = TOP_LEVEL_TYPES[key]
        # bool is an int in Python: refuse it where a number is meant.
        if not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected):
            words = " or ".join(_TYPE_WORDS[t] for t in expected)
            raise MubenchError(f"grid key {key!r}: expected {words}, got {type(value).__name__} ({value!r})")
    if "task" not in values:
        raise MubenchError("grid key 'task' is missing (e.g. task: digits)")


def _items(value: Any) -> list[Any]:
    """A comma-separated string or a list (or one value) as a list of items."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return list(value) if isinstance(value, list) else [value]


def parse_methods(value: str | list[Any], kind: str | None = None) -> list[str]:
    """Method names (or ``all``: retrain first, then every registered method that applies to task kind
    ``kind``), each once. A method that exists but does not apply to ``kind`` is refused by name."""
    from ..trainers import list_methods

    known = list_methods(kind)
    everything = list_methods()
    names = _items(value)
    wrong = [n for n in names if not isinstance(n, str)]
    if wrong:
        raise MubenchError(f"grid key 'methods': method names are strings, got {wrong[0]!r}")
    if not names:
        raise MubenchError("grid key 'methods': give at least one method (or 'all')")
    if "all" in names:
        if names != ["all"]:
            raise MubenchError("grid key 'methods': 'all' stands alone; give 'all' or a list of methods")
        return [RETRAIN, *[m for m in known if m != RETRAIN]]
    unknown = [n for n in names if n not in everything]
    if unknown:
        raise MubenchError(
            f"grid key 'methods': unknown method(s) {', '.join(unknown)}; known: all, {', '.join(known)}"
        )
    misplaced = [n for n in names if n not in known]
    if misplaced:
        raise MubenchError(
            f"grid key 'methods': {', '.join(misplaced)} do(es) not apply to {kind} tasks; methods that do: "
            f"all, {', '.join(known)}"
        )
    _refuse_duplicates("methods", names)
    return names


def _refuse_duplicates(key: str, values: list[Any], shown: list[Any] | None = None) -> None:
    for index, value in enumerate(values):
        if value in values[:index]:
            name = (shown or values)[index]
            raise MubenchError(f"grid key {key!r}: {name!r} is given twice; give each value once")


def parse_ratios(value: Any) -> list[int | float]:
    """Deletion percentages in (0, 100], sorted, as int when whole (``5``) and float otherwise (``2.5``)."""
    from ..splits.ratios import format_ratio, parse_ratio

    items = _items(value)
    if not items:
        raise MubenchError("grid key 'ratios': give at least one deletion percentage, e.g. 5 or 1,5,10")
    fractions = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, float, str)):
            raise MubenchError(
                f"grid key 'ratios': {item!r} is not a number; give percentages such as 1,2.5,10"
            )
        try:
            fractions.append(parse_ratio(item))
        except MubenchError as err:
            raise MubenchError(f"grid key 'ratios': {err}") from None
    _refuse_duplicates("ratios", fractions, items)
    return [int(r) if r.denominator == 1 else float(format_ratio(r)) for r in sorted(fractions)]


def parse_requests(value: Any) -> list[str]:
    """Request schedules (``4x2.5``: 4 deletion requests of 2.5 % each), as their names, each once."""
    from ..splits.requests import parse_schedules

    items = _items(value)
    if any(not isinstance(item, str) for item in items):
        raise MubenchError(f"grid key 'requests': give schedules as strings such as '4x2.5', got {items!r}")
    try:
        return [schedule.name for schedule in parse_schedules(items)]
    except MubenchError as err:
        raise MubenchError(f"grid key 'requests': {err}") from None


def parse_classes(value: Any, task: Any) -> list[int]:
    """Forget classes for class-wise configs (``<task>_class<k>``): label indices or class names of
    ``task``, each once, as sorted label indices. Tasks without classes (generation) refuse them."""
    items = _items(value)
    if not items:
        return []
    if not task.class_names:  # generation tasks: no classes (text-to-image tasks forget concepts by class)
        raise MubenchError(
            f"grid key 'classes': task {task.name!r} is a {task.kind} task and has no classes to forget; "
            "use ratios (deletion by row or group) instead"
        )
    from ..splits.inputs import label_index

    labels: list[int] = []
    for item in items:
        label = label_index(task, item)
        if label is None:
            shown = ", ".join(list(task.class_names)[:10])
            raise MubenchError(
                f"grid key 'classes': {item!r} is not a class of task {task.name!r}; give a label index in "
                f"[0, {task.num_labels}) or a class name ({shown}{' ...' if task.num_labels > 10 else ''})"
            )
        labels.append(label)
    _refuse_duplicates("classes", labels, items)
    return sorted(labels)


def check_seed(key: str, value: Any) -> int:
    """A seed: an integer in [0, 2**32 - 1] (what numpy and torch accept)."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MubenchError(f"grid key {key!r}: a seed is an integer, got {value!r} (e.g. 42)")
    if not 0 <= value <= MAX_SEED:
        raise MubenchError(
            f"grid key {key!r}: seed {value} is out of range; give an integer in [0, {MAX_SEED}]"
        )
    return value


def parse_seeds(value: Any) -> list[int]:
    seeds = [check_seed("seeds", item) for item in _items(value)]
    if not seeds:
        raise MubenchError("grid key 'seeds': give at least one seed, e.g. 42 or 42,87,21")
    _refuse_duplicates("seeds", seeds)
    return seeds


def check_output(value: str) -> str:
    """The output folder: a folder that exists or can be made (no file in the way)."""
    if not value.strip():
        raise MubenchError("grid key 'output': give a folder, e.g. runs/")
    path = Path(value)
    for ancestor in (path, *path.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                what = "is a file" if ancestor == path else f"is inside {ancestor}, which is a file"
                raise MubenchError(
                    f"grid key 'output': {path} {what}; give a folder (a new one, or an earlier sweep's)"
                )
            break
    return value


def check_model(task: str, value: str) -> str:
    """A ``tiny:<arch>`` model must name a known tiny architecture; a folder must exist, and a Hub id be
    reachable (offline: in the cache); whether it loads is checked when it is loaded."""
    if value.startswith("tiny:"):
        from ..kinds.classification import tiny_config

        try:
            tiny_config(task, value.split(":", 1)[1])
        except MubenchError as err:
            raise MubenchError(f"grid key 'model': {err} (e.g. tiny:resnet)") from None
    elif not value.strip():
        raise MubenchError("grid key 'model': give a model (tiny:resnet, a folder or a Hub id)")
    else:  # before any splits are built: a folder that is not there, or a Hub id this machine cannot get
        from ..model_source import check_model_source

        check_model_source(value, "grid key 'model' (--model)")
    return value


# --------------------------------------------------------------------------- training settings
# method, output_dir, seed and the retrain reference are set per cell by the sweep itself.
PER_CELL = {"method", "output_dir", "seed", "retrain_reference", "report_cache_dir"}


def _check_names(key: str, values: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(values) - allowed, key=str)
    if unknown:
        raise MubenchError(
            f"grid key {key!r}: unknown {what} {', '.join(repr(u) for u in unknown)} "
            f"(see the fields of {'TrainingArguments' if 'recipe' in key else 'the method config'})"
        )


def _config_class(method: str) -> type:
    from ..trainers import get_method

    return get_method(method).config_class


def _config_fields(method: str) -> set[str]:
    return {f.name for f in dataclasses.fields(_config_class(method))}


def _defaults(cls: type) -> dict[str, Any]:
    out = {}
    for item in dataclasses.fields(cls):
        if item.default is not dataclasses.MISSING:
            out[item.name] = item.default
        elif item.default_factory is not dataclasses.MISSING:
            out[item.name] = item.default_factory()
    return out


def _check_numbers(where: str, cls: type, values: dict[str, Any]) -> None:
    """Learning rate, epochs, steps and batch sizes that would train nothing, refused now."""
    from ..training import check_training_numbers

    try:
        check_training_numbers(types.SimpleNamespace(**{**_defaults(cls), **values}))  # type: ignore[arg-type]
    except MubenchError as err:
        raise MubenchError(f"{where}: {err}") from None


# Secrets have no place in a grid file: it is copied into every cell record and summary.
SECRET_KEYS = ("hub_token", "token")


def _refuse_secrets(key: str, values: dict[str, Any]) -> None:
    found = [name for name in values if name in SECRET_KEYS]
    if found:
        raise MubenchError(
            f"grid key {key!r}: {found[0]!r} is a secret and grid settings are written into every cell record; "
            "set the HF_TOKEN environment variable (or run `hf auth login`) instead"
        )


def check_settings(grid: Any) -> None:
    """Names, types and training numbers of ``base_recipe``, ``unlearn_args``, ``hyperparameters`` and
    ``class_wise_hyperparameters``."""
    from ..reference_models import RecipeArguments

    _refuse_secrets("base_recipe", grid.base_recipe)
    _refuse_secrets("unlearn_args", grid.unlearn_args)
    per_method = {
        "hyperparameters": grid.hyperparameters,
        "class_wise_hyperparameters": grid.class_wise_hyperparameters,
    }
    for name, table in per_method.items():
        for method, settings in table.items():
            if isinstance(settings, dict):
                _refuse_secrets(f"{name}.{method}", settings)

    recipe_fields = {f.name for f in dataclasses.fields(RecipeArguments)} - {"output_dir", "seed"}
    _check_names("base_recipe", grid.base_recipe, recipe_fields, "argument(s)")
    check_types("base_recipe", grid.base_recipe, RecipeArguments)
    _check_numbers("grid key 'base_recipe'", RecipeArguments, grid.base_recipe)
    unlearners = [m for m in grid.methods if m != RETRAIN]
    # unlearn_args go to every method, so they must be fields of every method's config.
    method_fields = [_config_fields(m) for m in unlearners]
    common = set.intersection(*method_fields) if method_fields else set()
    _check_names("unlearn_args", grid.unlearn_args, common - PER_CELL, "argument(s)")
    for method in unlearners:
        check_types("unlearn_args", grid.unlearn_args, _config_class(method))
    if unlearners and grid.unlearn_args:
        # checked as written too: a method's built-in defaults may hide a bad value (num_train_epochs: -1)
        # in the merged settings below, and it would then apply to no method without a word
        _check_numbers("grid key 'unlearn_args'", _config_class(unlearners[0]), grid.unlearn_args)
    if grid.class_wise_hyperparameters and not grid.classes:
        raise MubenchError(
            "grid key 'class_wise_hyperparameters': the grid has no class-wise configs (add classes: [k])"
        )
    for name, table in per_method.items():
        for method, settings in table.items():
            key = f"{name}.{method}"
            if method == RETRAIN:
                raise MubenchError(f"grid key {key!r}: retrain uses base_recipe (the base model's recipe)")
            if method not in grid.methods:
                raise MubenchError(
                    f"grid key {key!r}: {method!r} is not in methods ({', '.join(grid.methods)})"
                )
            if not isinstance(settings, dict):
                raise MubenchError(
                    f"grid key {key!r}: expected a mapping of argument to value, got {settings!r}"
                )
            _check_names(key, settings, _config_fields(method) - PER_CELL, "argument(s)")
            check_types(key, settings, _config_class(method))
    for method in unlearners:
        where = (
            f"the settings of method {method!r} (defaults, unlearn_args, hyperparameters.{method}, "
            f"class_wise_hyperparameters.{method})"
        )
        for config in [*grid.configs, *grid.step_configs]:  # a class-wise config may have its own defaults
            _check_numbers(where, _config_class(method), grid.method_arguments(method, config))
    asked = [grid.unlearn_args.get("attacks")] + [
        grid.method_arguments(m, c).get("attacks")
        for m in unlearners
        for c in [*grid.configs, *grid.step_configs]
    ]
    _check_attacks(grid.task, [a for a in asked if a])


def _check_attacks(task: str, asked: list[Any]) -> None:
    """Attacks the task's kind is not scored under fail when the grid is read, not after each cell unlearned."""
    from ..evaluation.attacks.settings import PROBE_ATTACKS, parse_attacks
    from ..kinds import kind_of

    kind = kind_of(task)
    names = {name for value in asked for name in parse_attacks(value)}
    if names and not kind.attack_metrics:
        raise MubenchError(
            f"grid key 'attacks': {task!r} is a {kind.name} task, which attacks are not scored for"
        )
    probes = sorted(names & set(PROBE_ATTACKS))
    if probes and not kind.probe_metrics:
        raise MubenchError(
            f"grid key 'attacks': {probes} re-ask a generation task's prompts in other words; {task!r} is a "
            f"{kind.name} task (its attacks: quant8, quant4, relearn)"
        )
