"""What a sweep leaves behind: results.jsonl (every cell), results.csv (mean ± std per method),
leaderboard.md (ranked by the gap to retrain, with the MU-Bench score beside it) and PNG figures."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from .figures import forget_vs_test, metric_bars
from .grid import RETRAIN

# (column title, metric): the leaderboard's columns. Lower gap is better; higher score is better.
TABLE_COLUMNS = (
    ("forget acc", "forget_accuracy"),
    ("retain acc", "retain_accuracy"),
    ("test acc", "test_accuracy"),
    ("gap to retrain ↓", "gap_to_retrain"),
    ("MU-Bench score ↑", "mubench_score"),
    ("MIA efficacy", "mia_efficacy"),
    ("time (s)", "unlearn_time_s"),
)


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)  # atomic, like the cell records
    return path


def write_jsonl(records: list[dict[str, Any]], path: Path) -> Path:
    """Every cell record, one JSON object a line (tracebacks of failed cells left in their cell.json)."""
    lines = [json.dumps({k: v for k, v in r.items() if k != "traceback"}, default=str) for r in records]
    return write_text(path, "\n".join(lines) + "\n")


def write_csv(rows: list[dict[str, Any]], path: Path) -> Path:
    """The aggregated rows as CSV; columns are the union over rows (empty where a row lacks one)."""
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_text(path, buffer.getvalue())


def rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of one config ordered by mean gap to retrain (closest first; the retrain row is 0 by
    construction and leads as the reference), then by MU-Bench score; rows with no result go last."""

    def key(row: dict[str, Any]) -> tuple:
        gap = row.get("gap_to_retrain_mean")
        score = row.get("mubench_score_mean")
        return (
            row["n_seeds"] == 0,
            row["method"] != RETRAIN,
            math.inf if gap is None else gap,
            -(score if score is not None else -math.inf),
        )

    return sorted(rows, key=key)


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
    """A Markdown table of one config's rows, ranked (see :func:`rank`)."""
    header = ["#", "method", *[title for title, _ in TABLE_COLUMNS], "seeds"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for position, row in enumerate(rank(rows)):
        label = "ref" if row["method"] == RETRAIN else str(position)
        seeds = f"{row['n_seeds']}" + (f" ({row['n_failed']} failed)" if row["n_failed"] else "")
        cells = [label, row["method"], *[_cell(row, metric) for _, metric in TABLE_COLUMNS], seeds]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def by_config(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The aggregated rows grouped by deletion config, in order of appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["config"], []).append(row)
    return groups


LEGEND = (
    "Ranked by the gap to the retrain model (mean |metric − retrain's| over the metrics; lower is better), "
    "the principled target. The MU-Bench score pulls forget accuracy toward chance (1/K), which on "
    "random deletion rewards over-forgetting: the retrain model itself keeps forget accuracy near its "
    "test accuracy. Values are mean ± std (NumPy, ddof=0) over seeds."
)


def leaderboard_markdown(rows: list[dict[str, Any]]) -> str:
    """The whole leaderboard: one ranked table per deletion config, with a legend."""
    parts = ["# Unlearning leaderboard", "", LEGEND]
    for config, group in by_config(rows).items():
        parts += ["", f"## {config}", "", ranked_table(group)]
    return "\n".join(parts) + "\n"


def write_figures(rows: list[dict[str, Any]], num_labels: int, folder: Path) -> list[Path]:
    """Per config: forget vs test accuracy, the MU-Bench score and the gap to retrain per method."""
    written = []
    for config, group in by_config(rows).items():
        ranked = [r for r in rank(group) if r["n_seeds"]]
        if not ranked:
            continue
        written.append(
            forget_vs_test(
                ranked, num_labels, folder / f"{config}_forget_vs_test.png", f"{config}: forget vs test"
            )
        )
        written.append(
            metric_bars(
                ranked, "mubench_score", "MU-Bench score", folder / f"{config}_mubench_score.png", config
            )
        )
        if any(r.get("gap_to_retrain_mean") is not None for r in ranked):
            written.append(
                metric_bars(
                    ranked,
                    "gap_to_retrain",
                    "gap to retrain (lower is better)",
                    folder / f"{config}_gap_to_retrain.png",
                    config,
                )
            )
    return written
