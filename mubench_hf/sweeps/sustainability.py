"""Sustainability of a sweep's request chains: how each method holds up as deletion requests keep coming.

For every request schedule (``4x2.5``) and method, from the aggregated rows of its step configs:

* the **gap to retrain** after each request, against the retrain model of that step (classification: the
  report's ``gap_to_retrain``; generation: |forget ROUGE-L − the retrain row's| at the same step), lower is
  better;
* the **utility** after each request (test accuracy; generation: model utility), higher is better;
* the **earlier-forget** value after the last request: accuracy (or ROUGE-L) on the rows of the earlier
  requests, Df_<k, beside the retrain model's on the same rows (forgetting that did not survive shows as
  a value above the retrain model's);
* on generation tasks also TOFU's **forget quality** after each request (higher is better);
* each curve's **area** as one number: the trapezoid area under the curve over request numbers 1..k,
  divided by k − 1 (so it is on the metric's own scale: the mean height of the curve; with one request,
  its value).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .grid_values import RETRAIN

CLASSIFICATION = {"gap": "gap_to_retrain", "utility": "test_accuracy", "earlier": "earlier_forget_accuracy"}
GENERATION = {"gap": "forget_rouge_l", "utility": "model_utility", "earlier": "earlier_forget_rouge_l"}


def curve_area(values: list[float | None]) -> float | None:
    """Trapezoid area under ``values`` at request numbers 1..k over k − 1 (the value itself when k = 1);
    ``None`` when a step has no value."""
    if not values or any(v is None for v in values):
        return None
    if len(values) == 1:
        return float(values[0])  # type: ignore[arg-type]
    y = np.asarray(values, dtype=float)
    return float(((y[1:] + y[:-1]) / 2).sum() / (len(y) - 1))


def _mean(row: dict[str, Any] | None, metric: str) -> float | None:
    value = None if row is None else row.get(f"{metric}_mean")
    return float(value) if isinstance(value, (int, float)) and np.isfinite(value) else None


def sustainability(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per (task, schedule, method): ``steps``, ``gap``/``utility`` per step, their areas
    ``gap_area``/``utility_area``, ``earlier_forget`` after the last step and the retrain model's
    ``earlier_forget_retrain``; ``kind`` says which metrics were read (see the module docstring)."""
    from ..splits.requests import step_of_config

    found: dict[tuple[str, str], dict[str, dict[int, dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        parsed = step_of_config(str(row.get("config", "")))
        if parsed is None or not row.get("n_seeds"):
            continue
        task, schedule, step = parsed
        found[(task, schedule.name)][row["method"]][step] = row
        counts[(task, schedule.name)] = schedule.count
    out = []
    for (task, name), methods in found.items():
        steps = list(range(1, counts[(task, name)] + 1))
        reference = methods.get(RETRAIN, {})
        generation = not any("gap_to_retrain_mean" in r for m in methods.values() for r in m.values())
        keys = GENERATION if generation else CLASSIFICATION
        for method, by_step in sorted(methods.items(), key=lambda item: (item[0] != RETRAIN, item[0])):
            gap: list[float | None] = []
            for step in steps:
                value = _mean(by_step.get(step), keys["gap"])
                if generation:  # the ROUGE-L distance to the retrain row of the same step
                    ref = _mean(reference.get(step), keys["gap"])
                    value = None if value is None or ref is None else abs(value - ref)
                gap.append(value)
            utility = [_mean(by_step.get(step), keys["utility"]) for step in steps]
            # generation: TOFU's forget quality too (a ROUGE-L distance alone misses answers that are
            # worded like the retrain model's but no longer rank the true answer above the perturbed ones)
            quality = [_mean(by_step.get(step), "forget_quality") for step in steps] if generation else []
            out.append(
                {
                    "task": task,
                    "schedule": name,
                    "method": method,
                    "kind": "generation" if generation else "classification",
                    "steps": steps,
                    "gap": gap,
                    "utility": utility,
                    "gap_area": curve_area(gap),
                    "utility_area": curve_area(utility),
                    **({"quality": quality, "quality_area": curve_area(quality)} if generation else {}),
                    "earlier_forget": _mean(by_step.get(steps[-1]), keys["earlier"]),
                    "earlier_forget_retrain": _mean(reference.get(steps[-1]), keys["earlier"]),
                }
            )
    return out


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def sustainability_markdown(rows: list[dict[str, Any]]) -> str:
    """The leaderboard's sustainability section ("" when the folder holds no request chain)."""
    entries = sustainability(rows)
    if not entries:
        return ""
    parts = [
        "## Sustainability (sequential deletion requests)",
        "",
        "Step i starts from the model step i−1 produced, unlearns request i and is compared with the retrain "
        "model of step i (trained from scratch without any request so far). Gap: gap to that retrain model "
        "(generation: |forget ROUGE-L − retrain's|), lower is better; utility: test accuracy (generation: "
        "model utility). Area: the mean height of the curve over the requests (trapezoids). Earlier forget: "
        "accuracy (ROUGE-L) on the earlier requests' rows after the last request, retrain's in brackets. "
        "Generation tasks add forget quality (higher is better).",
    ]
    for (task, schedule), group in _by_schedule(entries).items():
        header, rows = table(group)
        parts += ["", f"### {task}, requests {schedule}", "", "| " + " | ".join(header) + " |"]
        parts.append("|" + "|".join("---" for _ in header) + "|")
        parts += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(parts) + "\n"


def table(group: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """The header and the text cells of one (task, schedule)'s table, retrain first, then by gap area
    (the Markdown leaderboard and the HTML page show the same table)."""
    steps = group[0]["steps"]
    curves = [("gap", "gap"), ("utility", "utility")]
    if any("quality" in entry for entry in group):
        curves.append(("quality", "forget quality"))
    header = ["method"]
    for _, title in curves:
        header += [*[f"{title} {s}" for s in steps], f"{title} area"]
    header.append("earlier forget (retrain)")
    rows = []
    for entry in sorted(group, key=_order):
        cells = [entry["method"]]
        for key, _ in curves:
            cells += [*map(_number, entry.get(key) or [None] * len(steps)), _number(entry.get(f"{key}_area"))]
        cells.append(f"{_number(entry['earlier_forget'])} ({_number(entry['earlier_forget_retrain'])})")
        rows.append(cells)
    return header, rows


def _order(entry: dict[str, Any]) -> tuple:
    """Retrain first, then by gap area (lower first; none last), then by name."""
    area = entry["gap_area"]
    return (entry["method"] != RETRAIN, area is None, area or 0.0, entry["method"])


def _by_schedule(entries: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        groups[(entry["task"], entry["schedule"])].append(entry)
    return dict(groups)


def with_sustainability(leaderboard: str, rows: list[dict[str, Any]]) -> str:
    """The leaderboard text followed by its sustainability section (when the rows hold request chains)."""
    section = sustainability_markdown(rows)
    return leaderboard + ("\n" + section if section else "")


def sustainability_figures(rows: list[dict[str, Any]], folder: Path, *, redraw: bool = True) -> list[Path]:
    """Per (task, schedule): the gap to retrain and the utility against the request number, one line per
    method (``<task>_requests<k>x<p>_sustainability.png``). ``redraw=False`` draws only missing files (the
    rows did not change)."""
    planned: list[tuple[Path, Callable[[], Path]]] = []
    for (task, schedule), group in _by_schedule(sustainability(rows)).items():
        path = folder / f"{task}_requests{schedule}_sustainability.png"
        planned.append((path, lambda g=group, p=path, t=f"{task}: requests {schedule}": _draw(g, p, t)))
    return [make() if redraw or not path.is_file() else path for path, make in planned]


def _draw(group: list[dict[str, Any]], path: Path, title: str) -> Path:
    from .figures import _pyplot, _save

    plt = _pyplot()
    generation = group[0]["kind"] == "generation"
    keys = ("gap", "utility", "quality") if generation else ("gap", "utility")
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 4))
    labels = (
        "|forget ROUGE-L − retrain| (lower is better)" if generation else "gap to retrain (lower is better)",
        "model utility" if generation else "test accuracy",
        "forget quality (higher is better)",
    )
    for entry in sorted(group, key=_order):
        style = {"color": "black", "linestyle": "--"} if entry["method"] == RETRAIN else {"marker": "o"}
        for ax, key in zip(axes, keys):
            points = [(s, v) for s, v in zip(entry["steps"], entry[key]) if v is not None]
            if points:
                ax.plot(*zip(*points), label=entry["method"], **style)
    for ax, label in zip(axes, labels):
        ax.set_xlabel("request number")
        ax.set_ylabel(label)
        ax.set_xticks(group[0]["steps"])
    axes[1].legend(fontsize="small")
    fig.suptitle(title)
    return _save(plt, fig, path)
