"""Which cell records of a sweep folder its summaries cover: every finished cell still valid there.

A folder collects the cells of every grid run into it, so the summaries (results.jsonl, results.csv,
leaderboard.md, figures) are made from the folder, not from the last command's grid: running three
methods into a folder of twelve keeps all twelve in the leaderboard. A record is left out when its
checksum does not match (damaged or hand-edited; it is redone when its grid runs again) or when the
splits, base or retrain model it was made from have since been replaced (other settings were run
into the same folder); the summary says how many were left out and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .cells import CELL_FILE, is_intact
from .files import read_json_or_none
from .references import base_model_name, retrain_model_name, stored_digest

_DEL_CONFIG = re.compile(r"_del(?P<ratio>[0-9.]+)$")


@dataclass
class FolderRecords:
    """The records a summary covers, in a fixed order, and what was left out."""

    records: list[dict[str, Any]] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # cell folders whose record failed its checksum
    stale: list[str] = field(default_factory=list)  # made from references since replaced

    def notes(self) -> list[str]:
        lines = []
        if self.damaged:
            lines.append(
                f"{len(self.damaged)} cell record(s) left out of the summary: unreadable or not matching "
                f"their checksum (damaged or hand-edited), e.g. {self.damaged[0]}; a rerun of their grid "
                "redoes them"
            )
        if self.stale:
            lines.append(
                f"{len(self.stale)} cell record(s) left out of the summary: made from splits, base or retrain "
                f"models since replaced by a run with other settings, e.g. {self.stale[0]}"
            )
        return lines


def order_key(record: dict[str, Any]) -> tuple:
    """Task, deletion ratio (class configs after), seed, then retrain first and methods A-Z."""
    config = str(record.get("config", ""))
    match = _DEL_CONFIG.search(config)
    try:
        ratio = Fraction(match.group("ratio")) if match else None
    except ValueError:
        ratio = None
    method = str(record.get("method", ""))
    return (
        str(record.get("task", "")),
        ratio is None,
        ratio or 0,
        config,
        int(record.get("seed", 0)) if isinstance(record.get("seed"), int) else 0,
        method != "retrain",
        method,
    )


def current_references(output: Path, record: dict[str, Any], splits_hashes: dict[str, str]) -> dict[str, Any]:
    """The splits hash and model digests the folder holds now for ``record``'s config and seed."""
    from ..splits.requests import step_of_config

    models = output / "models"
    config = str(record.get("config"))
    step = step_of_config(config)
    if step is not None:  # a request step is scored against the retrain model of its cumulative config
        task, schedule, number = step
        config = schedule.cumulative_config(task, number)
    return {
        "splits": splits_hashes.get(str(record.get("task"))),
        "base": stored_digest(models / base_model_name(str(record.get("task")), str(record.get("seed")))),
        "retrain": stored_digest(models / retrain_model_name(config, str(record.get("seed")))),
    }


def task_hashes(output: Path) -> dict[str, str]:
    """Task -> content hash of the folder's deletion splits ({} when there are none)."""
    from ..splits import is_mubench_repo, read_manifest

    repo = output / "mubench"
    if not is_mubench_repo(repo):
        return {}
    return {name: entry["content_hash"] for name, entry in read_manifest(repo)["tasks"].items()}


def folder_records(output: str | Path) -> FolderRecords:
    """Every intact cell record under ``output/cells`` made from the references the folder holds now."""
    output = Path(output)
    hashes = task_hashes(output)
    found = FolderRecords()
    for path in sorted((output / "cells").glob(f"*/seed*/*/{CELL_FILE}")):
        record = read_json_or_none(path)
        where = str(path.parent.relative_to(output))
        if not is_intact(record):
            found.damaged.append(where)
            continue
        settings = record.get("settings") or {}
        if settings.get("references") != current_references(output, record, hashes):
            found.stale.append(where)
            continue
        found.records.append(record)
    found.records.sort(key=order_key)
    return found
