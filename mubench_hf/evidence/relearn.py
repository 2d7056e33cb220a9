"""Relearn time, kept importable here: the measure lives in :mod:`mubench_hf.evaluation.relearn`, below
the unlearning report that adds its ``relearn_*`` keys (the report must not import this package, which
sits above the sweeps)."""

from ..evaluation.relearn import (
    RELEARN_DEFAULTS,
    RelearnResult,
    RelearnSettings,
    as_settings,
    relearn_steps,
)

__all__ = ["RELEARN_DEFAULTS", "RelearnResult", "RelearnSettings", "as_settings", "relearn_steps"]
