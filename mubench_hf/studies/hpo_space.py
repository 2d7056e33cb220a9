"""The space ``mubench study hpo`` searches for a method: declared with the method, or the default.

Each method declares its space next to its config (``register_method(..., search_space=...)``, see
``mubench_hf.search_space``: the knobs its paper tunes); a method that declares none is searched over the
learning rate and the training length (:data:`~mubench_hf.search_space.DEFAULT_SPACE`). Relative ranges are taken
around the value the plain sweep cell runs with (the grid's setting, else the quick setting, else the
config's default), so the search is centred on what the benchmark would otherwise use.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..errors import MubenchError
from ..search_space import DEFAULT_SPACE, TRAINING_LENGTH, Range, check_space


@dataclass(frozen=True)
class Parameter:
    """One searched config field with absolute bounds (what the sampler sees)."""

    name: str
    low: float
    high: float
    log: bool
    integer: bool

    def suggest(self, trial: Any) -> float | int:
        """The trial's value (an Optuna ``Trial``'s ``suggest_int``/``suggest_float``)."""
        if self.integer:
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)


def declared_space(method: str) -> dict[str, Range]:
    """The method's space as declared (or the default), unresolved."""
    from ..trainers import get_spec

    spec = get_spec(method)
    space = spec.search_space or DEFAULT_SPACE
    return check_space(method, space, {f.name for f in dataclasses.fields(spec.config)})


def resolve_space(method: str, arguments: dict[str, Any]) -> list[Parameter]:
    """The method's space with absolute bounds, for a run whose settings are ``arguments``."""
    from ..trainers import get_spec

    defaults = {f.name: f.default for f in dataclasses.fields(get_spec(method).config)}
    resolved = []
    for name, searched in declared_space(method).items():
        field_name = name
        if name == TRAINING_LENGTH:  # steps when the run counts in steps, else epochs
            steps = arguments.get("max_steps", defaults.get("max_steps", -1))
            field_name = "max_steps" if isinstance(steps, (int, float)) and steps > 0 else "num_train_epochs"
        start = arguments.get(field_name, defaults.get(field_name))
        if searched.relative and not isinstance(start, (int, float)):
            raise MubenchError(
                f"method {method!r}: {field_name} has no numeric starting value to search around "
                f"(got {start!r}); give it in --hyperparameters"
            )
        low, high = searched.bounds(float(start) if isinstance(start, (int, float)) else None)
        resolved.append(Parameter(field_name, low, high, searched.log, searched.integer))
    return resolved
