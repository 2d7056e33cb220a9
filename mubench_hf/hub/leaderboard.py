"""A leaderboard built from model cards alone: local model folders and Hub repos tagged ``mubench``.

Each card's ``model-index`` gives the scores (:func:`~mubench_hf.hub.cards.read_results`) and its ``mubench``
block the task, config, method and seed. Rows are ranked by the MU-Bench score (metric type
``mubench_score``, higher is better) within each task and deletion config; rows without that score are
listed after the ranked ones, without a rank.
"""

from __future__ import annotations

import csv
import math
import os
import warnings
from collections.abc import Iterable
from itertools import groupby
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard

from ..errors import MubenchError
from .cards import CARD_TAGS, SCORE_METRIC, read_provenance, read_results
from .client import hub_api, hub_errors

INFO_COLUMNS = ["rank", "task", "config", "model", "kind", "method", "seed"]
METRIC_COLUMNS = [
    SCORE_METRIC,
    "gap_to_retrain",
    "forget_accuracy",
    "retain_accuracy",
    "test_accuracy",
    "mia_efficacy",
    "knowledge_gap",
    "zrf",
]
TAIL_COLUMNS = ["unlearn_time_s", "source"]
MARKDOWN_NAME = "leaderboard.md"
CSV_NAME = "leaderboard.csv"


def row_from_card(card: ModelCard, model: str, source: str) -> dict[str, Any]:
    """One leaderboard row: the card's provenance and every score in its ``model-index``."""
    info = read_provenance(card)
    return {
        "rank": None,
        "task": info.get("task"),
        "config": info.get("config"),
        "model": model,
        "kind": info.get("kind"),
        "method": info.get("method"),
        "seed": info.get("seed"),
        **read_results(card),
        "unlearn_time_s": info.get("unlearn_time_s"),
        "source": source,
    }


# --------------------------------------------------------------------------- collecting
def _card_folders(path: Path) -> tuple[list[Path], bool]:
    """Folders holding a README.md under ``path``; ``True`` when ``path`` itself is one (given explicitly)."""
    if path.is_file() and path.name == "README.md":
        return [path.parent], True
    if (path / "README.md").is_file():
        return [path], True
    if path.is_dir():
        return sorted(p.parent for p in path.rglob("README.md")), False
    raise MubenchError(f"{path} is neither a model folder nor a folder of model folders")


def _is_mubench_card(card: ModelCard) -> bool:
    return bool(card.data.eval_results) and set(CARD_TAGS[:1]) <= set(card.data.tags or [])


def collect_local(paths: Iterable[str | os.PathLike]) -> list[dict[str, Any]]:
    """Rows for the model folders in ``paths`` (a model folder, or a folder searched for model folders).

    A folder given directly must hold a mubench card with results; folders found by searching are
    skipped when their card is not one (a dataset card, a card without scores).
    """
    rows = []
    for path in paths:
        folders, explicit = _card_folders(Path(path))
        for folder in folders:
            card = ModelCard.load(folder / "README.md", ignore_metadata_errors=not explicit)
            if not _is_mubench_card(card):
                if explicit:
                    raise MubenchError(
                        f"{folder / 'README.md'} is not a mubench model card with results (tags must include "
                        "'mubench' and model-index must hold scores); render one with render_model_card()"
                    )
                continue
            name = card.data.model_name or str(folder)
            rows.append(row_from_card(card, name, source=str(folder)))
    return rows


def collect_hub(author: str, token: str | None = None) -> list[dict[str, Any]]:
    """Rows for the model repos of ``author`` (a user or organisation) tagged ``mubench``.

    A repo whose card cannot be read or holds no scores is skipped with a warning, so one broken card
    does not hide the others.
    """
    api = hub_api(token)
    rows = []
    with hub_errors(
        f"listing the mubench models of {author!r} on the Hub", "check the name and your connection"
    ):
        repo_ids = [model.id for model in api.list_models(author=author, filter=CARD_TAGS[0])]
    for repo_id in repo_ids:
        try:
            card = ModelCard.load(repo_id, token=token)
        except Exception as err:  # a broken card or a vanished repo: report and go on
            warnings.warn(f"leaderboard: skipping {repo_id}, its card cannot be read ({err})", stacklevel=2)
            continue
        if not _is_mubench_card(card):
            warnings.warn(f"leaderboard: skipping {repo_id}, its card holds no mubench results", stacklevel=2)
            continue
        rows.append(row_from_card(card, repo_id, source="hub"))
    return rows


# --------------------------------------------------------------------------- ranking
def _score(row: dict[str, Any]) -> float | None:
    value = row.get(SCORE_METRIC)
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def rank_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sort by task and config, then by MU-Bench score (best first; ties: smaller gap to retrain), and
    number the scored rows of each (task, config) from 1."""

    def key(row: dict[str, Any]) -> tuple:
        score = _score(row)
        gap = row.get("gap_to_retrain")
        return (
            str(row.get("task") or ""),
            str(row.get("config") or ""),
            score is None,
            -(score or 0.0),
            gap if isinstance(gap, (int, float)) else math.inf,
            str(row.get("model")),
        )

    ranked = sorted(rows, key=key)
    for _, group in groupby(ranked, key=lambda r: (r.get("task"), r.get("config"))):
        number = 0
        for row in group:
            if _score(row) is not None:
                number += 1
                row["rank"] = number
            else:
                row["rank"] = None
    return ranked


def build_leaderboard(
    paths: Iterable[str | os.PathLike] = (),
    *,
    hub_author: str | None = None,
    task: str | None = None,
    token: str | None = None,
) -> list[dict[str, Any]]:
    """Ranked rows from local model folders and/or a Hub author's ``mubench`` repos, optionally one task."""
    paths = list(paths)
    if not paths and not hub_author:
        raise MubenchError("nothing to rank: give model folders and/or a Hub author (--hub-author ORG)")
    rows = collect_local(paths)
    if hub_author:
        rows += collect_hub(hub_author, token=token)
    if task is not None:
        rows = [row for row in rows if row.get("task") == task]
    return rank_rows(rows)


# --------------------------------------------------------------------------- writing
def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    """The fixed columns, then any other metric found in the rows (alphabetically)."""
    fixed = INFO_COLUMNS + METRIC_COLUMNS + TAIL_COLUMNS
    extra = sorted({key for row in rows for key in row} - set(fixed))
    return INFO_COLUMNS + METRIC_COLUMNS + extra + TAIL_COLUMNS


def leaderboard_markdown(rows: list[dict[str, Any]]) -> str:
    """One Markdown table per (task, config), with the fixed columns that hold a value."""
    lines = [
        "# mubench leaderboard",
        "",
        f"Ranked by `{SCORE_METRIC}` (MU-Bench's overall score, higher is better) within each task and config.",
        "`gap_to_retrain` (lower is better) is the distance to the model retrained without the forget set.",
    ]
    if not rows:
        return "\n".join([*lines, "", "No models found.", ""])
    for (task, config), group in groupby(rows, key=lambda r: (r.get("task"), r.get("config"))):
        group = list(group)
        shown = [
            c
            for c in INFO_COLUMNS + METRIC_COLUMNS + ["unlearn_time_s"]
            if any(r.get(c) is not None for r in group)
        ]
        shown = [c for c in shown if c not in ("task", "config")]
        lines += ["", f"## {task or 'unknown task'} — {config or 'no config'}", ""]
        lines.append("| " + " | ".join(shown) + " |")
        lines.append(
            "|" + "|".join("---:" if c in METRIC_COLUMNS or c == "rank" else "---" for c in shown) + "|"
        )
        lines += ["| " + " | ".join(_cell(row.get(c)) for c in shown) + " |" for row in group]
    return "\n".join(lines) + "\n"


def write_leaderboard(rows: list[dict[str, Any]], output_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``leaderboard.md`` and ``leaderboard.csv`` (every column, full precision) into ``output_dir``."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    markdown, table = out / MARKDOWN_NAME, out / CSV_NAME
    _write_text(markdown, leaderboard_markdown(rows))
    columns = _columns(rows)
    tmp = table.with_name(f".{table.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    os.replace(tmp, table)
    return markdown, table


def _write_text(path: Path, text: str) -> None:
    """Write through a temporary file and a rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
