"""A leaderboard built from model cards alone: local model folders and Hub repos tagged ``mubench``.

Each card's ``model-index`` gives the scores (:func:`~mubench_hf.hub.cards.read_results`) and its ``mubench``
block the task, config, method and seed. Rows are ranked with the same rule as a sweep's leaderboard
(:mod:`mubench_hf.sweeps.ranking`): within each task and deletion config, by the gap to retrain (lower
is better) when a retrain reference was scored, else by the MU-Bench score (higher is better); ties go
to the other of the two, then to the model name. The retrain model is the reference row (rank ``ref``),
not ranked; rows without the ranking metric come last without a rank; ranks start at 1.
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Iterable
from itertools import groupby
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard

from ..errors import MubenchError
from ..metrics.declarations import headline_metrics
from ..sweeps.ranking import (
    FORGET_QUALITY,
    GENERATION_RANKING_RULE,
    MODEL_UTILITY,
    RANKING_RULE,
    describe_metric,
    rank_for,
    ranking_metric,
    task_kind_of,
)
from .cards import CARD_TAGS, SCORE_METRIC, read_provenance, read_results
from .client import hub_api, hub_errors

INFO_COLUMNS = ["rank", "task", "config", "model", "kind", "method", "seed"]
TAIL_COLUMNS = ["unlearn_time_s", "source"]
MARKDOWN_NAME = "leaderboard.md"
CSV_NAME = "leaderboard.csv"


def metric_columns() -> list[str]:
    """The headline metrics, in their declared order: every metric declared with a leaderboard ``column``
    (:mod:`mubench_hf.metrics.declarations`), plugins' included; a table shows those some row holds."""
    return [name for name in headline_metrics() if name not in TAIL_COLUMNS]


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
    if not path.exists():
        raise MubenchError(f"{path} does not exist; give a model folder or a folder of model folders")
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
def _group_key(row: dict[str, Any]) -> tuple[str, str]:
    return str(row.get("task") or ""), str(row.get("config") or "")


def _is_reference(row: dict[str, Any]) -> bool:
    return row.get("kind") == "retrain" or row.get("method") == "retrain"


def rank_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sort by task and config, then rank each (task, config) by the shared rule (module docstring):
    ``rank`` is 1, 2, ... for ranked rows, ``"ref"`` for the retrain reference, ``None`` for the rest."""
    ordered: list[dict[str, Any]] = []
    for _, group in groupby(sorted(rows, key=_group_key), key=_group_key):
        group = list(group)
        _, pairs = rank_for(
            task_kind_of(group[0].get("task")),
            group,
            gap=lambda r: r.get("gap_to_retrain"),
            score=lambda r: r.get(SCORE_METRIC),
            forget_quality=lambda r: r.get(FORGET_QUALITY),
            model_utility=lambda r: r.get(MODEL_UTILITY),
            forget_rouge=lambda r: r.get("forget_rouge_l"),
            retain_rouge=lambda r: r.get("retain_rouge_l"),
            name=lambda r: str(r.get("model")),
            is_reference=_is_reference,
        )
        for row, position in pairs:
            row["rank"] = position
            ordered.append(row)
    return ordered


def _filter(rows: list[dict[str, Any]], key: str, wanted: str | None, flag: str) -> list[dict[str, Any]]:
    """The rows whose ``key`` is ``wanted``; an error naming the values found when none is."""
    if wanted is None:
        return rows
    kept = [row for row in rows if row.get(key) == wanted]
    if not kept:
        known = sorted({str(row.get(key)) for row in rows if row.get(key) is not None})
        raise MubenchError(
            f"{flag} {wanted!r}: no model of that {key} was found; the models found have "
            f"{key}(s) {', '.join(known) or '(none recorded)'}"
        )
    return kept


def build_leaderboard(
    paths: Iterable[str | os.PathLike] = (),
    *,
    hub_author: str | None = None,
    task: str | None = None,
    config: str | None = None,
    token: str | None = None,
) -> list[dict[str, Any]]:
    """Ranked rows from local model folders and/or a Hub author's ``mubench`` repos, optionally one task
    and/or one deletion config. Finding no model at all, or none of the task/config asked for, is an
    error (``MubenchError``) that says where it looked and what it found."""
    paths = list(paths)
    if not paths and not hub_author:
        raise MubenchError("nothing to rank: give model folders and/or a Hub author (--hub-author ORG)")
    rows = collect_local(paths)
    if hub_author:
        rows += collect_hub(hub_author, token=token)
    if not rows:
        where = [str(p) for p in paths] + ([f"the Hub models of {hub_author}"] if hub_author else [])
        raise MubenchError(
            f"no mubench model card with results found in {', '.join(where)}; give model folders "
            "(each with a README.md written by mubench train-base, retrain or unlearn) or folders holding them"
        )
    rows = _filter(rows, "task", task, "--task")
    rows = _filter(rows, "config", config, "--config")
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
    metrics = metric_columns()
    fixed = INFO_COLUMNS + metrics + TAIL_COLUMNS
    extra = sorted({key for row in rows for key in row} - set(fixed))
    return INFO_COLUMNS + metrics + extra + TAIL_COLUMNS


def leaderboard_markdown(rows: list[dict[str, Any]]) -> str:
    """One Markdown table per (task, config), with the fixed columns that hold a value."""
    lines = [
        "# mubench leaderboard",
        "",
        RANKING_RULE,
        "`gap_to_retrain` (lower is better) is the distance to the model retrained without the forget set;",
        f"`{SCORE_METRIC}` (higher is better) is MU-Bench's overall score.",
        GENERATION_RANKING_RULE,
    ]
    if not rows:
        return "\n".join([*lines, "", "No models found.", ""])
    metrics = metric_columns()
    for (task, config), group in groupby(rows, key=lambda r: (r.get("task"), r.get("config"))):
        group = list(group)
        shown = [
            c for c in INFO_COLUMNS + metrics + ["unlearn_time_s"] if any(r.get(c) is not None for r in group)
        ]
        shown = [c for c in shown if c not in ("task", "config")]
        if task_kind_of(task) == "generation":
            metric = FORGET_QUALITY
        else:
            metric = ranking_metric(
                [r.get("gap_to_retrain") for r in group], [_is_reference(r) for r in group]
            )
        lines += [
            "",
            f"## {task or 'unknown task'} — {config or 'no config'}",
            "",
            describe_metric(metric, any_ranked=any(isinstance(r.get("rank"), int) for r in group)),
            "",
        ]
        lines.append("| " + " | ".join(shown) + " |")
        lines.append("|" + "|".join("---:" if c in metrics or c == "rank" else "---" for c in shown) + "|")
        lines += ["| " + " | ".join(_cell(row.get(c)) for c in shown) + " |" for row in group]
    from .leaderboard_sustainability import sustainability_section_markdown

    section = sustainability_section_markdown(rows)  # request chains (mubench run --requests), if any
    return "\n".join(lines) + "\n" + ("\n" + section if section else "")


def check_output_dir(output_dir: str | os.PathLike) -> Path:
    """``output_dir`` as a folder that exists or can be made: an error when it, or a parent, is a file."""
    out = Path(output_dir)
    for ancestor in (out, *out.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                where = "is a file" if ancestor == out else f"is inside {ancestor}, which is a file"
                raise MubenchError(
                    f"--output {out} {where}; give a folder for leaderboard.md and leaderboard.csv"
                )
            break
    return out


def write_leaderboard(rows: list[dict[str, Any]], output_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Write ``leaderboard.md`` and ``leaderboard.csv`` (every column, full precision) into ``output_dir``."""
    out = check_output_dir(output_dir)
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
