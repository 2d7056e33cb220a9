"""Search spaces of hyper-parameters: what ``mubench study hpo`` may vary for a method, and within which bounds.

A method declares its space next to its config, as ``register_method(..., search_space={...})``: a mapping
from a config field (``learning_rate``, ``mask_ratio``, ``retain_kl_weight`` ...) to a :class:`Range`. A
range is either absolute (``Range(0.1, 0.9)``) or *relative* to the value the method starts from in the
search (its grid setting, else its quick setting, else its config's default): ``Range(0.1, 10, log=True,
relative=True)`` is "a tenth to ten times the usual value". The pseudo-field :data:`TRAINING_LENGTH`
stands for the method's length of training: ``max_steps`` when the run sets it, else ``num_train_epochs``.

A method that declares nothing is searched over :data:`DEFAULT_SPACE` (learning rate and training length).
This module is plain data: the search itself (Optuna) lives in ``mubench_hf.studies``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import MubenchError

#: Stands for ``max_steps`` when the run sets it (> 0), else ``num_train_epochs``.
TRAINING_LENGTH = "training_length"


@dataclass(frozen=True)
class Range:
    """One searched hyper-parameter: values in [low, high], on a log scale when ``log``, whole numbers when
    ``integer``, and multiples of the starting value when ``relative``."""

    low: float
    high: float
    log: bool = False
    integer: bool = False
    relative: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or not self.low < self.high:
            raise MubenchError(f"a search range needs finite low < high, got [{self.low}, {self.high}]")
        if (self.log or self.relative) and self.low <= 0:
            raise MubenchError(
                f"a log-scale or relative search range needs low > 0, got [{self.low}, {self.high}]"
            )

    def bounds(self, start: float | None) -> tuple[float, float]:
        """The absolute bounds (``start`` is the value a relative range multiplies)."""
        low, high = self.low, self.high
        if self.relative:
            if start is None or not math.isfinite(start) or start <= 0:
                raise MubenchError(f"a relative search range needs a positive starting value, got {start!r}")
            low, high = low * start, high * start
        if self.integer:
            low, high = max(1, math.ceil(low)), max(1, math.floor(high))
            high = max(high, low + 1)  # a range of one whole number searches nothing
        return float(low), float(high)


#: The learning rate from a tenth to ten times its usual value, and the training length from half to twice.
LEARNING_RATE = Range(0.1, 10.0, log=True, relative=True)
LENGTH = Range(0.5, 2.0, integer=True, relative=True)
DEFAULT_SPACE: dict[str, Range] = {"learning_rate": LEARNING_RATE, TRAINING_LENGTH: LENGTH}


def check_space(method: str, space: Mapping[str, Any], fields: set[str]) -> dict[str, Range]:
    """``space`` as a plain dict after checking that each name is a field of the method's config (or
    :data:`TRAINING_LENGTH`) and each value a :class:`Range`."""
    checked: dict[str, Range] = {}
    for name, value in space.items():
        if name != TRAINING_LENGTH and name not in fields:
            raise MubenchError(
                f"method {method!r}: search space names {name!r}, which is not a field of its config "
                f"(known: {TRAINING_LENGTH}, {', '.join(sorted(fields))})"
            )
        if not isinstance(value, Range):
            raise MubenchError(
                f"method {method!r}: search space entry {name!r} must be a mubench_hf.search_space.Range, "
                f"got {type(value).__name__}"
            )
        checked[name] = value
    return checked
