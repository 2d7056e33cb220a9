"""The sustainability section of a leaderboard built from model cards (``mubench leaderboard``): how each
method holds up over sequential deletion requests, from the cards of request-chain steps
(``<task>_req<k>x<p>_step<i>`` configs, written by ``mubench run --requests``).

Card rows are one per model (one seed); they are averaged per (task, config, method) into the shape of a
sweep's aggregated rows and summarised by :mod:`mubench_hf.sweeps.sustainability` (the same table, areas
and definitions as a sweep's ``leaderboard.md``).
"""

from __future__ import annotations

import html
from collections import defaultdict
from typing import Any

import numpy as np

from ..sweeps.sustainability import sustainability, sustainability_markdown, table

_INFO = ("rank", "task", "config", "model", "kind", "method", "seed", "source")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def step_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Card rows of request steps averaged per (task, config, method): ``<metric>_mean`` and ``n_seeds``
    (a retrain reference row counts as the ``retrain`` method)."""
    from ..splits.requests import step_of_config

    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        config = str(row.get("config") or "")
        if step_of_config(config) is None:
            continue
        method = row.get("method") or ("retrain" if row.get("kind") == "retrain" else None)
        if method:
            groups[(str(row.get("task")), config, str(method))].append(row)
    out = []
    for (task, config, method), group in groups.items():
        averaged: dict[str, Any] = {"task": task, "config": config, "method": method, "n_seeds": len(group)}
        metrics = {k for row in group for k, v in row.items() if k not in _INFO and _is_number(v)}
        for name in sorted(metrics):
            values = [float(row[name]) for row in group if _is_number(row.get(name))]
            averaged[f"{name}_mean"] = float(np.mean(values))
        out.append(averaged)
    return out


def sustainability_section_markdown(rows: list[dict[str, Any]]) -> str:
    """The Markdown section ("" when no card is a request step)."""
    return sustainability_markdown(step_rows(rows))


def sustainability_section_html(rows: list[dict[str, Any]]) -> str:
    """The HTML section: one table per (task, schedule) ("" when no card is a request step)."""
    entries = sustainability(step_rows(rows))
    if not entries:
        return ""
    parts = [
        '<section id="sustainability"><h2>Sustainability (sequential deletion requests)</h2>',
        "<p>Step i starts from the model of step i−1, unlearns request i and is compared with the retrain "
        "model of step i. Gap to retrain (generation: |forget ROUGE-L − retrain's|) lower is better; utility "
        "(test accuracy, generation: model utility) higher is better; area: the mean height of each curve.</p>",
    ]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        groups[(entry["task"], entry["schedule"])].append(entry)
    for (task, schedule), group in groups.items():
        header, rows = table(group)
        parts.append(f"<h3>{html.escape(f'{task}, requests {schedule}')}</h3><table><thead><tr>")
        parts += [f"<th>{html.escape(h)}</th>" for h in header]
        parts.append("</tr></thead><tbody>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>")
        parts.append("</tbody></table>")
    parts.append("</section>")
    return "".join(parts)
