"""The grid of a sweep: which task, deletion ratios, seeds and methods to run, with which settings.

A grid comes from ``mubench run`` flags or from a YAML/JSON file with these keys (all but ``task``
optional)::

    task: digits                 # or a task file's path (relative to the grid file): my_task.yaml
    methods: all                 # or a list: [retrain, salun, random_label]
    ratios: [1, 2.5, 10]         # deletion percentages in (0, 100]: config <task>_del<p>
    classes: [3]                 # class-wise configs <task>_class<k> (label indices or names; default none)
    requests: [4x2.5]            # request schedules: k requests of p % unlearned one after another
                                 # (sequential unlearning; without ratios: only the request chains run)
    seeds: [42, 87, 21, 100, 13] # each seed trains its own base and retrain models
    output: runs/
    model: tiny:resnet           # what train_base starts from
    split_seed: 42               # seed of the deletion order (the splits are built once)
    base_recipe: {num_train_epochs: 8}        # RecipeArguments of the base and retrain models
    unlearn_args: {per_device_train_batch_size: 32}  # every method gets these
    hyperparameters: {salun: {learning_rate: 3e-3, mask_ratio: 0.5}}  # per method, over the defaults
    save_models: false           # save every unlearned model's weights (off: they cost disk)

Every name and every value's type is checked when the grid is read (the settings against the field
types of ``RecipeArguments`` and of each method's config), so a typo or ``num_train_epochs: "eight"``
fails before hours of training, with an error that names the key. YAML numbers read as written:
``3e-3`` is a number (see :mod:`mubench_hf.config_files`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..config_files import read_config_file
from ..errors import MubenchError
from .defaults import UNLEARN_DEFAULTS, default_hyperparameters
from .grid_values import (
    MUBENCH_SEEDS,
    RETRAIN,
    check_model,
    check_output,
    check_seed,
    check_settings,
    check_top_level,
    parse_classes,
    parse_methods,
    parse_ratios,
    parse_requests,
    parse_seeds,
)

__all__ = ["MUBENCH_SEEDS", "RETRAIN", "Grid", "load_grid", "make_grid"]


@dataclass
class Grid:
    """A validated sweep grid (see the module docstring for the meaning of each field)."""

    task: str
    methods: list[str]
    ratios: list[int | float] = field(default_factory=lambda: [5])  # whole percentages as int
    classes: list[int] = field(default_factory=list)  # label indices of the class-wise configs
    seeds: list[int] = field(default_factory=lambda: list(MUBENCH_SEEDS))
    output: str = "runs"
    model: str = "tiny:resnet"
    split_seed: int = 42
    base_recipe: dict[str, Any] = field(default_factory=dict)
    unlearn_args: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    # over ``hyperparameters`` in the class-wise configs only: forgetting a whole class may need other
    # settings than forgetting random rows (e.g. learning rates searched on each kind of deletion)
    class_wise_hyperparameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    save_models: bool = False
    requests: list[str] = field(default_factory=list)  # request schedules, e.g. ["4x2.5"] (see sequential.py)

    @property
    def configs(self) -> list[str]:
        """The deletion configs the grid runs, e.g. ``digits_del5``, then the class-wise ``digits_class3``."""
        from ..splits.layout import class_config_name
        from ..splits.ratios import format_ratio

        by_ratio = [f"{self.task}_del{format_ratio(Fraction(str(ratio)))}" for ratio in self.ratios]
        return by_ratio + [class_config_name(self.task, label) for label in self.classes]

    @property
    def schedules(self) -> list[Any]:
        """The request schedules (``splits.requests.RequestSchedule``) of ``requests``."""
        from ..splits.requests import parse_schedule

        return [parse_schedule(name) for name in self.requests]

    @property
    def step_configs(self) -> list[str]:
        """The configs of every request step, e.g. ``digits_req4x2.5_step1`` ... ``_step4``."""
        return [s.step_config(self.task, step) for s in self.schedules for step in s.steps]

    @property
    def reference_configs(self) -> list[str]:
        """Every config that needs a retrain model: the grid's configs, then each request step's
        cumulative config (step i of 4x2.5 is scored against the retrain model of ``<task>_del<2.5·i>``)."""
        cumulative = [s.cumulative_config(self.task, step) for s in self.schedules for step in s.steps]
        return list(dict.fromkeys([*self.configs, *cumulative]))

    @property
    def split_ratios(self) -> list[Fraction]:
        """The ratios the splits are cut at: the grid's and every request boundary."""
        from ..splits.requests import schedule_ratios

        return sorted({Fraction(str(r)) for r in self.ratios} | set(schedule_ratios(self.schedules)))

    def method_arguments(self, method: str, config: str | None = None) -> dict[str, Any]:
        """Every argument of ``method``'s cells (of ``config``: a class-wise config may have its own
        defaults and settings): defaults, then the grid's common and per-method ones, then in a
        class-wise config its ``class_wise_hyperparameters``."""
        from ..splits.layout import is_class_config

        class_wise = config is not None and is_class_config(config)
        defaults = default_hyperparameters(self.task, class_wise=class_wise).get(method, {})
        return {
            **UNLEARN_DEFAULTS,
            **self.unlearn_args,
            **defaults,
            **self.hyperparameters.get(method, {}),
            **(self.class_wise_hyperparameters.get(method, {}) if class_wise else {}),
        }


def make_grid(values: dict[str, Any]) -> Grid:
    """Validate a grid given as a mapping (a parsed grid file or CLI flags) and build it."""
    if not isinstance(values, dict):
        raise MubenchError(f"a grid must be a mapping of keys to values, got {type(values).__name__}")
    check_top_level(values)
    from ..splits.declared_tasks import register_repo_tasks
    from ..tasks import TASKS, get_task
    from ..tasks.task_file import is_task_file_path

    # a sweep folder whose splits were built from a task file knows the task without the file
    if values["task"] not in TASKS and not is_task_file_path(values["task"]):
        register_repo_tasks(Path(values.get("output", "runs")) / "mubench")
    spec = get_task(values["task"])  # a task file's path registers it; an unknown name lists the known ones
    task = spec.name
    requests = parse_requests(values.get("requests", []))
    # a grid of request chains runs only the plain ratio cells that it names
    plain_ratios = values.get("ratios", [] if requests else [5])
    grid = Grid(
        task=task,
        methods=parse_methods(values.get("methods", "all"), spec.kind),
        ratios=parse_ratios(plain_ratios) if plain_ratios != [] or not requests else [],
        classes=parse_classes(values.get("classes", []), spec),
        seeds=parse_seeds(values.get("seeds", list(MUBENCH_SEEDS))),
        output=check_output(values.get("output", "runs")),
        model=check_model(task, values.get("model") or default_model(task)),
        split_seed=check_seed("split_seed", values.get("split_seed", 42)),
        base_recipe=dict(values.get("base_recipe", {})),
        unlearn_args=dict(values.get("unlearn_args", {})),
        hyperparameters=dict(values.get("hyperparameters", {})),
        class_wise_hyperparameters=dict(values.get("class_wise_hyperparameters", {})),
        save_models=values.get("save_models", False),
        requests=requests,
    )
    check_settings(grid)
    return grid


def default_model(task: str) -> str:
    """The model a grid starts from when it names none: the first tiny architecture of the task's
    modality (``tiny:resnet`` for image tasks, ``tiny:llama`` for causal generation tasks ...)."""
    from ..tasks import get_task

    architectures = list(get_task(task).modality_spec.tiny_configs())
    return f"tiny:{architectures[0]}" if architectures else "tiny:resnet"


def load_grid(path: str | Path, overrides: dict[str, Any] | None = None) -> Grid:
    """Read a YAML or JSON grid file; ``overrides`` (e.g. CLI flags) replace its keys."""
    values = read_config_file(path, what="grid file")
    from ..tasks.task_file import is_task_file_path

    task = values.get("task")
    if is_task_file_path(task) and not Path(task).expanduser().is_absolute():
        values["task"] = str(Path(path).parent / task)  # relative to the grid file, as a reader expects
    return make_grid({**values, **(overrides or {})})
