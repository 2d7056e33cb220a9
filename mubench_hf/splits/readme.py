"""The README of a deletion repo is what ``datasets.load_dataset`` reads: its YAML ``configs:`` say which
files make each split, ``dataset_info`` keeps the class names. It is checked against the manifest.

Only the YAML header is compared (with the header ``card.py`` renders from the manifest): the card body
names the repo (a folder, or the Hub id after a push), so it legitimately differs between copies.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import MubenchError
from .card import card_metadata, load_yaml
from .paths import check_relative, inside_repo

README_NAME = "README.md"
_HEADER = re.compile(r"\A\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_REBUILD = "rebuild the repo with mubench build-splits (--overwrite) or restore the file"


def read_metadata(root: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """The README's YAML header (``None`` when unreadable) and the problems met reading it.

    Refuses (``MubenchError``) a README that leads outside the repo, and data file names in ``configs:``
    that could: ``load_dataset`` would read them."""
    path = root / README_NAME
    if not path.is_file() and not path.is_symlink():
        return None, [
            f"{README_NAME} is missing: datasets.load_dataset reads the configs from it; {_REBUILD}"
        ]
    inside_repo(root, README_NAME, str(root))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return None, [f"{README_NAME} cannot be read as UTF-8 text ({err}); {_REBUILD}"]
    match = _HEADER.match(text)
    if match is None:
        return None, [f"{README_NAME} has no YAML header (---), so load_dataset sees no configs; {_REBUILD}"]
    try:
        meta = load_yaml(match.group(1))
    except yaml.YAMLError as err:
        first = str(err).splitlines()[0] if str(err) else "invalid YAML"
        return None, [f"{README_NAME}'s YAML header does not parse ({first}); {_REBUILD}"]
    if not isinstance(meta, dict):
        return None, [f"{README_NAME}'s YAML header is not a mapping; {_REBUILD}"]
    check_data_files(root, meta)
    return meta, []


def _strings(value: Any) -> list[str]:
    """Every file name (or pattern) under a ``data_files`` value, whatever its shape; ``split`` keys aside."""
    if isinstance(value, dict):
        return [s for key, item in value.items() if key != "split" for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []


def check_data_files(root: Path, meta: dict[str, Any]) -> None:
    """Refuse README ``configs:`` entries whose data files would lie outside the repo."""
    configs = meta.get("configs")
    first_use: dict[str, str] = {}  # configs share files: check each name once, naming its first config
    for config in configs if isinstance(configs, list) else []:
        if isinstance(config, dict):
            for rel in _strings(config.get("data_files")) + _strings(config.get("data_dir")):
                first_use.setdefault(rel, str(config.get("config_name", "?")))
    for rel, name in first_use.items():
        where = f"{root / README_NAME}: configs entry {name!r}"
        check_relative(rel, where)
        inside_repo(root, rel, where)


def _by_config(value: Any) -> dict[str, Any]:
    """``configs`` / ``dataset_info`` keyed by config name (one config's ``dataset_info`` is not a list)."""
    items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    return {str(item.get("config_name")): item for item in items if isinstance(item, dict)}


def _same_entry(key: str, want: Any, have: Any) -> bool:
    """Whether a README ``configs`` / ``dataset_info`` entry is the one the manifest describes. A configs
    entry without the cache key (``description``) is a repo built before it existed: its content is the
    same, and the product's loads pass the key themselves (only a plain ``load_dataset`` lacks it)."""
    if want == have:
        return True
    legacy = isinstance(want, dict) and isinstance(have, dict) and "description" not in have
    return key == "configs" and legacy and {k: v for k, v in want.items() if k != "description"} == have


def metadata_problems(meta: dict[str, Any], manifest: dict[str, Any], only: str | None = None) -> list[str]:
    """How the README's YAML header differs from the one the manifest describes (``only``: for that
    config's ``configs`` and ``dataset_info`` entries alone)."""
    expected = card_metadata(manifest)
    problems: list[str] = []
    for key in sorted(set(expected) | set(meta)):
        if expected.get(key) == meta.get(key) or (
            only is not None and key not in ("configs", "dataset_info")
        ):
            continue
        if key not in ("configs", "dataset_info"):
            problems.append(f"{README_NAME}: YAML {key!r} does not match the manifest; {_REBUILD}")
            continue
        want, have = _by_config(expected.get(key)), _by_config(meta.get(key))
        names = [only] if only is not None else list(dict.fromkeys([*want, *have]))
        for name in names:
            if name not in have:
                problems.append(f"{README_NAME}: YAML {key} lacks config {name!r}; {_REBUILD}")
            elif name not in want:
                problems.append(
                    f"{README_NAME}: YAML {key} has config {name!r}, which the manifest lacks; {_REBUILD}"
                )
            elif not _same_entry(key, want[name], have[name]):
                problems.append(
                    f"{README_NAME}: YAML {key} of config {name!r} differs from the manifest; {_REBUILD}"
                )
        if want == have and only is None:  # same entries, another shape (e.g. a mapping for a list)
            problems.append(f"{README_NAME}: YAML {key} does not match the manifest; {_REBUILD}")
    return problems


def readme_problems(root: Path, manifest: dict[str, Any]) -> list[str]:
    """Everything that would make ``load_dataset(root, config)`` disagree with the manifest."""
    meta, problems = read_metadata(root)
    return problems if meta is None else metadata_problems(meta, manifest)


def require_config_in_readme(root: Path, manifest: dict[str, Any], config: str) -> None:
    """Raise unless the README is readable and defines ``config`` exactly as the manifest does."""
    meta, problems = read_metadata(root)
    if meta is not None:
        # only the task holding the config: rendering every task's expected header costs more than the load
        tasks = {name: entry for name, entry in manifest["tasks"].items() if config in entry["configs"]}
        problems = metadata_problems(meta, {**manifest, "tasks": tasks}, only=config)
    if problems:
        raise MubenchError(f"{root}: {problems[0]} (check the whole repo with: mubench verify {root})")
