"""Mean ± standard deviation of every metric across the seeds of each (task, config, method).

The standard deviation is NumPy's default (population, ``ddof=0``), so a single seed gives 0 rather
than NaN; with MU-Bench's five seeds the sample deviation is larger by sqrt(5/4) ≈ 1.12.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

GroupKey = tuple[str, str, str]


def aggregate(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (task, config, method): ``<metric>_mean``/``<metric>_std`` over the finished seeds,
    ``n_seeds`` (finished) and ``n_failed``. Rows keep the order in which methods first appear."""
    done: dict[GroupKey, list[dict[str, float]]] = defaultdict(list)
    failed: dict[GroupKey, int] = defaultdict(int)
    order: list[GroupKey] = []
    for record in records:
        key = (record["task"], record["config"], record["method"])
        if key not in order:
            order.append(key)
        if record.get("status") == "done":
            done[key].append(record["metrics"])
        else:
            failed[key] += 1
    rows = []
    for key in order:
        task, config, method = key
        row: dict[str, Any] = {
            "task": task,
            "config": config,
            "method": method,
            "n_seeds": len(done[key]),
            "n_failed": failed[key],
        }
        names = sorted({name for metrics in done[key] for name in metrics})
        for name in names:
            values = np.array([m[name] for m in done[key] if name in m], dtype=float)
            row[f"{name}_mean"] = float(values.mean())
            row[f"{name}_std"] = float(values.std())
        rows.append(row)
    return rows
