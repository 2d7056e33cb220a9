"""Mean ± standard deviation and a 95 % interval of every metric across the seeds of each
(task, config, method), and whether a method can be told apart from the retrain reference.

The standard deviation is NumPy's default (population, ``ddof=0``), so a single seed gives 0 rather
than NaN; with MU-Bench's five seeds the sample deviation is larger by sqrt(5/4) ≈ 1.12. The interval
is Student's t on the sample deviation (``mean ± t₀.₉₇₅,ₙ₋₁ · s/√n``): with few seeds it is wide, as it
should be. One seed gives no interval.

A method is *not distinguishable from retrain* when, for each of :data:`RETRAIN_COMPARED` that both
report, the 95 % t-interval of the per-seed difference (method − retrain of the same seed: paired,
since both start from the same split and seed) contains 0. It needs at least two paired seeds.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from scipy import stats

from .grid import RETRAIN

GroupKey = tuple[str, str, str]
CONFIDENCE = 0.95
# The metrics the retrain comparison looks at: what unlearning should match (forget), keep (test/retain)
# and hide; for classification and for generation tasks (each run reports only its own kind's).
RETRAIN_COMPARED = (
    "forget_accuracy", "test_accuracy", "mia_efficacy", "forget_rouge_l", "retain_rouge_l", "model_utility",
)  # fmt: skip
# Per-cell bootstrap bounds are averaged like any metric, but an interval of an interval bound is noise.
_BOUND_SUFFIXES = ("_ci_low", "_ci_high")


def t_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """The two-sided Student-t interval of the mean of ``values``; ``None`` for fewer than two."""
    n = len(values)
    if n < 2:
        return None
    mean = float(values.mean())
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return mean - half, mean + half


def aggregate(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (task, config, method): ``<metric>_mean``/``<metric>_std`` over the finished seeds,
    ``<metric>_seeds_ci_low``/``_seeds_ci_high`` (95 % t-interval, two seeds or more), ``n_seeds``
    (finished), ``n_failed`` and ``same_as_retrain`` (True/False; None without two paired seeds or for
    retrain itself). Rows keep the order in which methods first appear."""
    done: dict[GroupKey, list[dict[str, Any]]] = defaultdict(list)
    failed: dict[GroupKey, int] = defaultdict(int)
    order: list[GroupKey] = []
    for record in records:
        key = (record["task"], record["config"], record["method"])
        if key not in order:
            order.append(key)
        if record.get("status") == "done":
            done[key].append(record)
        else:
            failed[key] += 1
    rows = []
    for key in order:
        task, config, method = key
        cells = [r["metrics"] for r in done[key]]
        row: dict[str, Any] = {
            "task": task,
            "config": config,
            "method": method,
            "n_seeds": len(cells),
            "n_failed": failed[key],
        }
        for name in sorted({name for metrics in cells for name in metrics}):
            values = np.array([m[name] for m in cells if m.get(name) is not None], dtype=float)
            if not len(values):
                continue
            row[f"{name}_mean"] = float(values.mean())
            row[f"{name}_std"] = float(values.std())
            interval = None if name.endswith(_BOUND_SUFFIXES) else t_interval(values)
            if interval is not None:
                row[f"{name}_seeds_ci_low"], row[f"{name}_seeds_ci_high"] = interval
        reference = done.get((task, config, RETRAIN), [])
        row["same_as_retrain"] = None if method == RETRAIN else same_as_retrain(done[key], reference)
        rows.append(row)
    return rows


def same_as_retrain(method_cells: list[dict[str, Any]], retrain_cells: list[dict[str, Any]]) -> bool | None:
    """Whether every compared metric's paired per-seed difference to retrain has a 95 % interval
    holding 0; ``None`` when fewer than two seeds pair up or no compared metric is reported by both."""
    retrain_by_seed = {cell.get("seed"): cell["metrics"] for cell in retrain_cells}
    pairs = [
        (cell["metrics"], retrain_by_seed[cell.get("seed")])
        for cell in method_cells
        if cell.get("seed") in retrain_by_seed
    ]
    verdicts = []
    for name in RETRAIN_COMPARED:
        differences = np.array(
            [m[name] - r[name] for m, r in pairs if m.get(name) is not None and r.get(name) is not None],
            dtype=float,
        )
        interval = t_interval(differences)
        if interval is not None:
            verdicts.append(interval[0] <= 0.0 <= interval[1])
    return all(verdicts) if verdicts else None
