"""Computing the metrics declared with a compute function (plugins): what each kind's report hands them.

Each report calls :func:`compute_plugin_metrics` once with its kind and its inputs, and puts the values
under the metrics' names next to its own:

* ``"classification"`` (``compute_unlearning_metrics``): a :class:`ClassificationInputs`, the unlearned
  model's per-split :class:`~mubench_hf.metrics.outputs.SplitOutputs` (log-probabilities, labels,
  predictions, per-sample loss ...) and the retrained model's on the same samples when a retrain reference
  was given. The report also scores the retrained model itself (``retrain_<metric>``, with no reference).
* ``"generation"`` (``generation_report``): a mapping with ``outputs`` (split → the model's per-split
  scores: token log-probabilities, generations), ``splits`` (split → the ``datasets.Dataset`` scored),
  ``retrain`` (the retrained model's scores on forget and holdout, or ``None``), ``original`` (the
  original model's, or ``None``) and ``holdout`` (the holdout split's name, or ``None``).

A compute function returns a float, or ``None`` when its inputs do not allow it (no retrain reference):
the metric is then left out. A function that raises, or returns something else than a finite number,
is a broken plugin: it is left out of the report with a warning naming it, and every other metric is
still reported.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .declarations import MetricSpec, metric_specs
from .outputs import SplitOutputs


@dataclass(frozen=True)
class ClassificationInputs:
    """What a classification metric is computed from.

    Attributes:
        outputs: split → the scored model's outputs (``forget``, ``retain``, ``test``; ``validation`` and
            ``ood`` when the task has them).
        retrain: split → the retrained model's outputs on the same samples, or ``None`` (no reference,
            or when the retrained model itself is being scored).
        num_labels: the number of classes K.
        seed: the report's seed (for metrics that draw anything).
    """

    outputs: Mapping[str, SplitOutputs]
    retrain: Mapping[str, SplitOutputs] | None
    num_labels: int
    seed: int


def plugin_specs(kind: str) -> list[MetricSpec]:
    """The declarations of task kind ``kind`` that come with a compute function."""
    return [spec for spec in metric_specs(kind) if spec.compute is not None]


def compute_plugin_metrics(kind: str, inputs: Any) -> dict[str, float]:
    """Every metric of task kind ``kind`` declared with a compute function, on ``inputs`` (see the module
    docstring for what each kind passes): ``{name: value}``, without the metrics that gave ``None``."""
    values: dict[str, float] = {}
    for spec in plugin_specs(kind):
        assert spec.compute is not None
        try:
            value = spec.compute(inputs)
        except Exception as err:  # one broken plugin metric must not cost the whole report
            _skip(spec, f"it raised {type(err).__name__}: {err}")
            continue
        if value is None:
            continue
        number = _finite(value)
        if number is None:
            _skip(spec, f"it returned {value!r}, not a finite number (or None when it cannot be computed)")
            continue
        values[spec.name] = number
    return values


def _finite(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _skip(spec: MetricSpec, why: str) -> None:
    warnings.warn(
        f"mubench-hf: the {spec.kind} metric {spec.name!r} ({spec.source}) is left out of the report: {why}",
        stacklevel=3,
    )
