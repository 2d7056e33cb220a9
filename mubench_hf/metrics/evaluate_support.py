"""What the ``evaluate_metrics/<name>`` modules share: their input features and argument checks.

Kept out of ``mubench_hf.metrics.__init__`` so the NumPy arithmetic imports without ``datasets``.
"""

from __future__ import annotations

from collections.abc import Mapping

import datasets

from mubench_hf.errors import MubenchError


def logits_features(with_references: bool = True) -> datasets.Features:
    """``predictions`` are one row of logits per sample; ``references`` the true class ids."""
    columns = {"predictions": datasets.List(datasets.Value("float64"))}
    if with_references:
        columns["references"] = datasets.Value("int64")
    return datasets.Features(columns)


def require_arguments(metric: str, given: Mapping[str, object], why: str = "") -> None:
    """Raise a ``ValueError`` naming every keyword argument of ``given`` that is ``None``."""
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise MubenchError(f"{metric} needs {missing}{why}")
