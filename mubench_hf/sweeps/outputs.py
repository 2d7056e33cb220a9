"""What a sweep leaves behind: results.jsonl (every cell), results.csv (mean ± std per method),
leaderboard.md (ranked by the shared rule of :mod:`.ranking`: gap to retrain when a retrain reference
was scored, else MU-Bench score) and PNG figures. They cover every finished cell in the sweep folder,
not only the grid of the last command."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from ..metrics.declarations import metric_spec, plugin_headline_metrics
from .figures import forget_vs_test, metric_bars, quality_vs_utility
from .files import write_text_if_changed
from .grid import RETRAIN
from .ranking import GENERATION_RANKING_RULE, RANKING_RULE, describe_metric, rank_for, task_kind_of
from .robustness import robustness_table

# The built-in metrics of each kind's table, in order; each column's title is its metric's declared
# ``column`` (mubench_hf.metrics.declarations), ``original_<metric>`` the original model's value ("... before":
# before/after in one row). Generation tasks are read on TOFU's axes: forget quality and model utility.
TABLE_METRICS = (
    "original_forget_accuracy", "forget_accuracy", "retain_accuracy", "test_accuracy", "gap_to_retrain",
    "mubench_score", "mia_efficacy", "unlearn_time_s",
)  # fmt: skip
GENERATION_TABLE_METRICS = (
    "original_forget_rouge_l", "forget_rouge_l", "retain_rouge_l", "forget_quality", "model_utility",
    "truth_ratio", "privleak", "unlearn_time_s",
)  # fmt: skip
# Text-to-image tasks on UnlearnCanvas's axes: unlearning accuracy, in-domain retain accuracy, FID.
IMAGE_GENERATION_TABLE_METRICS = (
    "original_unlearning_accuracy", "unlearning_accuracy", "in_domain_retain_accuracy", "fid_classifier_features",
    "gap_to_retrain", "unlearn_time_fraction_of_retrain", "unlearn_time_s",
)  # fmt: skip
KIND_TABLE_METRICS = {
    "generation": GENERATION_TABLE_METRICS,
    "image_generation": IMAGE_GENERATION_TABLE_METRICS,
}


# MUSE-shaped tasks (rows with VerbMem) are read on MUSE's axes: VerbMem before and after, KnowMem on the
# forget and retain documents (the latter MUSE's utility preservation), PrivLeak against the retrain model.
MUSE_TABLE_METRICS = (
    "original_verbmem_forget", "verbmem_forget", "knowmem_forget", "knowmem_retain", "privleak",
    "unlearn_time_s",
)  # fmt: skip


def is_muse(rows: list[dict[str, Any]]) -> bool:
    """Whether one config's rows come from a MUSE-shaped task (their report carries VerbMem)."""
    return any(row.get("verbmem_forget_mean") is not None for row in rows)


def task_kind(rows: list[dict[str, Any]]) -> str:
    """The task kind of one config's rows (``classification`` for a task this install does not know)."""
    return task_kind_of(rows[0]["task"] if rows else None)


def table_columns(kind: str, *, muse: bool = False) -> tuple[tuple[str, str], ...]:
    """(column title, metric) of the table of task kind ``kind`` (``muse``: a MUSE-shaped task's): the
    built-in layout, with the plugin metrics declared with a leaderboard column before the time."""
    layout = KIND_TABLE_METRICS.get(kind, TABLE_METRICS)
    if muse and kind == "generation":
        layout = MUSE_TABLE_METRICS
    plugins = [spec.name for spec in plugin_headline_metrics(kind) if spec.name not in layout]
    names = [*layout[:-1], *plugins, layout[-1]]
    return tuple((column_title(name, kind), name) for name in names)


def column_title(metric: str, kind: str) -> str:
    """A metric's declared leaderboard title; ``original_<metric>``: that title + " before"."""
    spec = metric_spec(metric, kind)
    if spec is not None and spec.column:
        return spec.column
    if metric.startswith("original_"):
        return f"{column_title(metric.removeprefix('original_'), kind)} before"
    return metric


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` atomically (skipped when ``path`` already holds it, so that a finished sweep in a
    read-only folder can still be summarised)."""
    write_text_if_changed(path, text)
    return path


def jsonl_text(records: list[dict[str, Any]]) -> str:
    """Every cell record, one JSON object a line (tracebacks of failed cells left in their cell.json)."""
    lines = [json.dumps({k: v for k, v in r.items() if k != "traceback"}, default=str) for r in records]
    return "\n".join(lines) + "\n"


def write_jsonl(records: list[dict[str, Any]], path: Path) -> Path:
    return write_text(path, jsonl_text(records))


def csv_text(rows: list[dict[str, Any]]) -> str:
    """The aggregated rows as CSV; columns are the union over rows (empty where a row lacks one)."""
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    return write_text(path, csv_text(rows))


def ranked(rows: list[dict[str, Any]]) -> tuple[str, list[tuple[dict[str, Any], int | str | None]]]:
    """One config's aggregated rows ordered by the shared rule (:mod:`.ranking`): the metric ranked on
    and (row, rank) pairs; a method without any finished seed has no value and comes last, unranked."""
    # MUSE-shaped rows: the ROUGE-gap rule reads VerbMem (vs the retrain row's) and KnowMem on retain
    forget, retain = (
        ("verbmem_forget", "knowmem_retain") if is_muse(rows) else ("forget_rouge_l", "retain_rouge_l")
    )
    return rank_for(
        task_kind(rows),
        rows,
        gap=lambda r: r.get("gap_to_retrain_mean"),
        score=lambda r: r.get("mubench_score_mean"),
        forget_quality=lambda r: r.get("forget_quality_mean"),
        model_utility=lambda r: r.get("model_utility_mean"),
        forget_rouge=lambda r: r.get(f"{forget}_mean"),
        retain_rouge=lambda r: r.get(f"{retain}_mean"),
        name=lambda r: str(r["method"]),
        is_reference=lambda r: r["method"] == RETRAIN and r["n_seeds"] > 0,
    )


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One config's rows in ranked order (see :func:`ranked`)."""
    return [row for row, _ in ranked(rows)[1]]


def _cell(row: dict[str, Any], metric: str) -> str:
    mean = row.get(f"{metric}_mean")
    if mean is None:
        return "–"
    digits = 1 if metric.endswith("_s") else 3
    text = f"{mean:.{digits}f}"
    if row["n_seeds"] > 1:
        text += f" ± {row.get(f'{metric}_std', 0.0):.{digits}f}"
    return text


def ranked_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of one config's rows, ranked (see :func:`ranked`), under a line saying how."""
    metric, pairs = ranked(rows)
    columns = table_columns(task_kind(rows), muse=is_muse(rows))
    header = ["#", "method", *[title for title, _ in columns], "≈ retrain", "seeds"]
    any_ranked = any(isinstance(position, int) for _, position in pairs)
    lines = [
        describe_metric(metric, any_ranked=any_ranked, muse=is_muse(rows)),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row, position in pairs:
        label = "–" if position is None else str(position)
        seeds = f"{row['n_seeds']}" + (f" ({row['n_failed']} failed)" if row["n_failed"] else "")
        same = {True: "yes", False: "no"}.get(row.get("same_as_retrain"), "–")
        cells = [label, row["method"], *[_cell(row, metric) for _, metric in columns], same, seeds]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def by_config(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The aggregated rows grouped by deletion config, in order of appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["config"], []).append(row)
    return groups


LEGEND = (
    f"{RANKING_RULE} The gap to retrain (mean |metric − retrain's| over the metrics) is the principled "
    "target. The MU-Bench score pulls forget accuracy toward chance (1/K), which on random deletion "
    "rewards over-forgetting: the retrain model itself keeps forget accuracy near its test accuracy. "
    "Values are mean ± std (NumPy, ddof=0) over seeds; results.csv also holds each metric's 95 % "
    't-interval over seeds (`<metric>_seeds_ci_low`/`_high`, two seeds or more). "≈ retrain" is yes when, '
    "for forget accuracy, test accuracy and MIA efficacy (generation: forget and retain ROUGE-L, model "
    "utility), the 95 % interval of the per-seed difference to "
    "the retrain model of the same seed holds 0 (– with fewer than two seeds). "
    f"{GENERATION_RANKING_RULE} MUSE-shaped tasks (a VerbMem column) have no truth ratio: their rows are "
    "ranked by |VerbMem - the retrain row's|, ties to the higher KnowMem on the retain documents."
)


def leaderboard_markdown(rows: list[dict[str, Any]]) -> str:
    """The whole leaderboard: one ranked table per deletion config, with a legend."""
    parts = [
        "# Unlearning leaderboard",
        "",
        LEGEND,
        "",
        f"Covers every cell recorded in this sweep folder: {_coverage(rows)}.",
    ]
    for config, group in by_config(rows).items():
        parts += ["", f"## {config}", "", ranked_table(group)]
        robustness = robustness_table(rank(group), task_kind(group))
        if robustness is not None:  # cells that ran attacks on the forgetting (--attacks)
            parts += ["", f"### {config}: robustness of the forgetting", "", robustness]
    return "\n".join(parts) + "\n"


def write_figures(
    rows: list[dict[str, Any]], num_labels: int, folder: Path, *, draw: bool = True
) -> list[Path]:
    """Per config: forget vs test accuracy, the MU-Bench score and the gap to retrain per method.
    ``draw=False`` only lists the files it would write."""
    planned: list[tuple[Path, Callable[[], Path]]] = []
    for config, group in by_config(rows).items():
        shown = [r for r in rank(group) if r["n_seeds"]]
        if not shown:
            continue
        path = folder / f"{config}_forget_vs_test.png"
        planned.append((path, partial(forget_vs_test, shown, num_labels, path, f"{config}: forget vs test")))
        path = folder / f"{config}_mubench_score.png"
        planned.append((path, partial(metric_bars, shown, "mubench_score", "MU-Bench score", path, config)))
        if any(r.get("gap_to_retrain_mean") is not None for r in shown):
            path = folder / f"{config}_gap_to_retrain.png"
            label = "gap to retrain (lower is better)"
            planned.append((path, partial(metric_bars, shown, "gap_to_retrain", label, path, config)))
    return [make() if draw else path for path, make in planned]


def write_generation_figures(rows: list[dict[str, Any]], folder: Path) -> list[Path]:
    """Per generation config: model utility vs forget quality, and forget ROUGE-L per method."""
    written: list[Path] = []
    for config, group in by_config(rows).items():
        shown = [r for r in rank(group) if r["n_seeds"]]
        if not shown:
            continue
        written.append(quality_vs_utility(shown, folder / f"{config}_quality_vs_utility.png", config))
        path = folder / f"{config}_forget_rouge_l.png"
        written.append(metric_bars(shown, "forget_rouge_l", "forget ROUGE-L (after)", path, config))
    return written


def _coverage(rows: list[dict[str, Any]]) -> str:
    configs = list(by_config(rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    done = sum(r["n_seeds"] for r in rows)
    failed = sum(r["n_failed"] for r in rows)
    return (
        f"{done} finished and {failed} failed cell(s) of {len(methods)} method(s) on "
        f"{', '.join(configs) or 'no config'}"
    )
