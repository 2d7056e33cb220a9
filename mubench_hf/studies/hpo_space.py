"""The space ``mubench study hpo`` searches for a method: declared, built in, or the default.

A method's own declaration (``register_method(..., search_space=...)``, see ``mubench_hf.search_space``)
comes first. The built-in methods whose declarations do not carry a space yet get theirs from
:data:`BUILTIN_SPACES` (the knobs their papers tune); any other method is searched over the learning rate
and the training length (:data:`~mubench_hf.search_space.DEFAULT_SPACE`). Relative ranges are taken
around the value the plain sweep cell runs with (the grid's setting, else the quick setting, else the
config's default), so the search is centred on what the benchmark would otherwise use.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..errors import MubenchError
from ..search_space import DEFAULT_SPACE, TRAINING_LENGTH, Range, check_space

#: Spaces of built-in methods that do not declare one themselves (method -> field -> range).
BUILTIN_SPACES: dict[str, dict[str, Range]] = {
    # SalUn's paper varies the share of salient weights; 0.5 is its usual pick.
    "salun": {**DEFAULT_SPACE, "mask_ratio": Range(0.1, 0.9)},
    # SCRUB's α (KL on Dr, 0.001 in its code) spans decades; γ (CE on Dr, 0.99) stays of order one.
    "scrub": {
        **DEFAULT_SPACE,
        "retain_kl_weight": Range(1e-4, 1e-1, log=True),
        "retain_ce_weight": Range(0.1, 1.0),
    },
    # SSD takes no gradient steps: its α (selection weighting) and λ (dampening constant) are all it has.
    "ssd": {
        "selection_weighting": Range(0.25, 4.0, log=True, relative=True),
        "dampening_constant": Range(0.1, 10.0, log=True),
    },
    "l1_sparse": {**DEFAULT_SPACE, "l1_weight": Range(0.1, 10.0, log=True, relative=True)},
}


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
    """The method's space as declared (or built in, or the default), unresolved."""
    from ..trainers import get_spec

    spec = get_spec(method)
    space = spec.search_space or BUILTIN_SPACES.get(method) or DEFAULT_SPACE
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
