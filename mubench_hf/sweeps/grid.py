"""The grid of a sweep: which task, deletion ratios, seeds and methods to run, with which settings.

A grid comes from ``mubench run`` flags or from a YAML/JSON file with these keys (all but ``task``
optional)::

    task: digits
    methods: all                 # or a list: [retrain, salun, random_label]
    ratios: [1, 5, 10]           # deletion percentages: config <task>_del<p>
    seeds: [42, 87, 21, 100, 13] # each seed trains its own base and retrain models
    output: runs/
    model: tiny:resnet           # what train_base starts from
    split_seed: 42               # seed of the deletion order (the splits are built once)
    base_recipe: {num_train_epochs: 8}        # RecipeArguments of the base and retrain models
    unlearn_args: {per_device_train_batch_size: 32}  # every method gets these
    hyperparameters: {salun: {learning_rate: 3e-3, mask_ratio: 0.5}}  # per method, over the defaults
    save_models: false           # save every unlearned model's weights (off: they cost disk)

Every name is checked when the grid is read, so a typo fails before hours of training, with an error
that names the key.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import MubenchError
from .defaults import UNLEARN_DEFAULTS, default_hyperparameters

MUBENCH_SEEDS = (42, 87, 21, 100, 13)  # the five seeds of the MU-Bench paper
RETRAIN = "retrain"  # its row is the reference model itself, not a second training run


@dataclass
class Grid:
    """A validated sweep grid (see the module docstring for the meaning of each field)."""

    task: str
    methods: list[str]
    ratios: list[int] = field(default_factory=lambda: [5])
    seeds: list[int] = field(default_factory=lambda: list(MUBENCH_SEEDS))
    output: str = "runs"
    model: str = "tiny:resnet"
    split_seed: int = 42
    base_recipe: dict[str, Any] = field(default_factory=dict)
    unlearn_args: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    save_models: bool = False

    @property
    def configs(self) -> list[str]:
        """The deletion configs the grid runs, e.g. ``digits_del5``."""
        return [f"{self.task}_del{ratio}" for ratio in self.ratios]

    def method_arguments(self, method: str) -> dict[str, Any]:
        """Every argument of ``method``'s cells: defaults, then the grid's common and per-method ones."""
        defaults = default_hyperparameters(self.task).get(method, {})
        return {
            **UNLEARN_DEFAULTS,
            **self.unlearn_args,
            **defaults,
            **self.hyperparameters.get(method, {}),
        }


_TYPES: dict[str, type | tuple[type, ...]] = {
    "task": str,
    "methods": (str, list),
    "ratios": (int, str, list),
    "seeds": (int, str, list),
    "output": str,
    "model": str,
    "split_seed": int,
    "base_recipe": dict,
    "unlearn_args": dict,
    "hyperparameters": dict,
    "save_models": bool,
}


def _int_list(key: str, value: Any) -> list[int]:
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else [value]
    try:
        out = [int(str(item).strip()) for item in items if str(item).strip()]
    except ValueError:
        raise MubenchError(f"grid key {key!r}: expected integers, got {value!r}") from None
    if not out:
        raise MubenchError(f"grid key {key!r}: give at least one value")
    return out


def _methods(value: str | list[str]) -> list[str]:
    from ..trainers import list_methods

    known = list_methods()
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [str(n).strip() for n in names if str(n).strip()]
    if names == ["all"]:
        return [RETRAIN, *[m for m in known if m != RETRAIN]]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise MubenchError(
            f"grid key 'methods': unknown method(s) {', '.join(unknown)}; known: all, {', '.join(known)}"
        )
    if not names:
        raise MubenchError("grid key 'methods': give at least one method (or 'all')")
    return names


def _check_names(key: str, values: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise MubenchError(
            f"grid key {key!r}: unknown {what} {', '.join(repr(u) for u in unknown)} "
            f"(see the fields of {'TrainingArguments' if 'recipe' in key else 'the method config'})"
        )


def _config_fields(method: str) -> set[str]:
    from ..trainers import get_method

    return {f.name for f in dataclasses.fields(get_method(method).config_class)}


def make_grid(values: dict[str, Any]) -> Grid:
    """Validate a grid given as a mapping (a parsed grid file or CLI flags) and build it."""
    if not isinstance(values, dict):
        raise MubenchError(f"a grid must be a mapping of keys to values, got {type(values).__name__}")
    unknown = sorted(set(values) - set(_TYPES))
    if unknown:
        raise MubenchError(
            f"unknown grid key(s) {', '.join(repr(k) for k in unknown)}; known keys: {', '.join(_TYPES)}"
        )
    for key, value in values.items():
        expected = _TYPES[key]
        # bool is an int in Python: refuse it where a number is meant.
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            names = " or ".join(
                t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,))
            )
            raise MubenchError(f"grid key {key!r}: expected {names}, got {type(value).__name__} ({value!r})")
    if "task" not in values:
        raise MubenchError("grid key 'task' is missing (e.g. task: digits)")
    from ..tasks import get_task

    get_task(values["task"])  # raises with the known task names
    grid = Grid(
        task=values["task"],
        methods=_methods(values.get("methods", "all")),
        ratios=_int_list("ratios", values.get("ratios", [5])),
        seeds=_int_list("seeds", values.get("seeds", list(MUBENCH_SEEDS))),
        output=values.get("output", "runs"),
        model=values.get("model", "tiny:resnet"),
        split_seed=values.get("split_seed", 42),
        base_recipe=dict(values.get("base_recipe", {})),
        unlearn_args=dict(values.get("unlearn_args", {})),
        hyperparameters={k: v for k, v in values.get("hyperparameters", {}).items()},
        save_models=values.get("save_models", False),
    )
    _validate_settings(grid)
    return grid


def _validate_settings(grid: Grid) -> None:
    from ..reference_models import RecipeArguments

    recipe_fields = {f.name for f in dataclasses.fields(RecipeArguments)} - {"output_dir", "seed"}
    _check_names("base_recipe", grid.base_recipe, recipe_fields, "argument(s)")
    # method, output_dir, seed and the retrain reference are set per cell by the sweep itself.
    per_cell = {"method", "output_dir", "seed", "retrain_reference"}
    # unlearn_args go to every method, so they must be fields of every method's config.
    method_fields = [_config_fields(m) for m in grid.methods if m != RETRAIN]
    common = set.intersection(*method_fields) if method_fields else set()
    _check_names("unlearn_args", grid.unlearn_args, common - per_cell, "argument(s)")
    for method, settings in grid.hyperparameters.items():
        key = f"hyperparameters.{method}"
        if method == RETRAIN:
            raise MubenchError(f"grid key {key!r}: retrain uses base_recipe (the base model's recipe)")
        if method not in grid.methods:
            raise MubenchError(f"grid key {key!r}: {method!r} is not in methods ({', '.join(grid.methods)})")
        if not isinstance(settings, dict):
            raise MubenchError(f"grid key {key!r}: expected a mapping of argument to value")
        _check_names(key, settings, _config_fields(method) - per_cell, "argument(s)")


def load_grid(path: str | Path, overrides: dict[str, Any] | None = None) -> Grid:
    """Read a YAML or JSON grid file; ``overrides`` (e.g. CLI flags) replace its keys."""
    path = Path(path)
    if not path.is_file():
        raise MubenchError(f"grid file {path} does not exist")
    text = path.read_text()
    try:
        values = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise MubenchError(
            f"grid file {path} is not valid {path.suffix.lstrip('.').upper()}: {err}"
        ) from None
    if not isinstance(values, dict):
        raise MubenchError(f"grid file {path} must hold a mapping of keys (task, methods, ...)")
    return make_grid({**values, **(overrides or {})})
