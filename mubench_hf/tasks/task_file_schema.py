"""The keys of a task file and their checks: ``check_declaration`` turns a parsed file into a complete,
checked declaration (absolute paths, defaults filled in) or raises an error that names the file, the key
and what it may hold."""

from __future__ import annotations

import glob
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import MubenchError
from ..modalities import LABEL_COLUMN, get_modality, list_modalities
from .base import DEFAULT_DELETION_FRACTION, NAME_PATTERN

FILE_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}
FOLDER_FORMATS = ("imagefolder", "audiofolder", "videofolder")
SOURCE_KEYS = ("hub", "files", "folder")
SPLIT_NAMES = ("train", "validation", "test")
KINDS = ("classification", "generation")
ARCHITECTURES = ("causal", "seq2seq")
CLASSIFICATION_KEYS = ("input_column", "label_column", "class_names")
GENERATION_KEYS = ("prompt_column", "completion_column", "group_column", "architecture")

# key -> (what it holds, default); the defaults of keys mubench fills in are None here
FIELDS: dict[str, tuple[str, Any]] = {
    "name": ("the task's name: letters, digits, '_', '.', '-' (required)", None),
    "modality": (f"one of {list_modalities()} (required)", None),
    "kind": ("classification or generation (prompt -> completion rows, modality text)", "classification"),
    "hub": ("a Hub dataset id (one of hub / files / folder)", None),
    "revision": ("with hub: a branch, tag or commit", None),
    "config": ("with hub: the dataset's config name", None),
    "files": ("local files: a path or glob, a list of them, or a mapping split -> path(s)", None),
    "folder": ("an imagefolder / audiofolder / videofolder folder (split subfolders optional)", None),
    "format": (
        f"files: {sorted(set(FILE_FORMATS.values()))} (default: from the suffix); folder: "
        f"{list(FOLDER_FORMATS)} (default: from the modality)",
        None,
    ),
    "input_column": (
        "the source column of the input, or a mapping input -> column (default: the modality's column names)",
        None,
    ),
    "label_column": ("the source column of the labels", LABEL_COLUMN),
    "class_names": (
        "the classes in label order (default: a ClassLabel's names, else the sorted distinct labels)",
        None,
    ),
    "prompt_column": ("generation: the source column of the prompts", "prompt"),
    "completion_column": ("generation: the source column of the completions", "completion"),
    "group_column": (
        "generation: the entity of each row; deletion (and a carve-out) then takes whole "
        "groups (default: none, by row)",
        None,
    ),
    "architecture": ("generation: causal or seq2seq, the kind of language model the task is for", "causal"),
    "splits": (
        "mapping train/validation/test -> source split; null carves that split out of train "
        "(default: the source's split of that name, else carved out)",
        {},
    ),
    "validation_fraction": ("share of train carved out as validation, in (0, 1)", 0.1),
    "test_fraction": ("share of train carved out as test, in (0, 1)", 0.2),
    "split_seed": ("seed of the carve-out permutation, >= 0", 0),
    "deletion_fraction": ("share of train in the deletion order, in (0, 1]", DEFAULT_DELETION_FRACTION),
    "description": ("one line about the task", ""),
    "license": ("the data's license (a Hub license id)", "unknown"),
    "citation": ("BibTeX of the data's source", ""),
    # written by mubench into the declaration that deletion repos record
    "task_file": ("(recorded) the task file the declaration came from", ""),
    "class_names_from": ("(recorded) where the class names came from", "the task file"),
}


def _fail(where: str, key: str, problem: str) -> MubenchError:
    return MubenchError(f"{where}: {key} {problem}")


def _string(values: Mapping[str, Any], key: str, where: str, *, allowed: tuple[str, ...] = ()) -> str | None:
    value = values.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise _fail(where, key, f"must be a non-empty string, got {value!r}")
    if allowed and value not in allowed:
        raise _fail(where, key, f"must be one of {list(allowed)}, got {value!r}")
    return value


def _number(values: Mapping[str, Any], key: str, where: str, low: float, high: float, closed: bool) -> float:
    value = values.get(key, FIELDS[key][1])
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not (low < value < high or (closed and value == high)):
        bounds = f"({low}, {high}{']' if closed else ')'}"
        raise _fail(where, key, f"must be a number in {bounds}, got {value!r}")
    return float(value)


def _paths(value: Any, key: str, where: str, base: Path, check: bool) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise _fail(where, key, f"must be a path or a list of paths, got {value!r}")
    out = []
    for item in items:
        path = str(base / Path(item).expanduser())
        if check and not (glob.glob(path) if glob.has_magic(path) else Path(path).exists()):
            raise _fail(where, key, f"names {item!r}, which does not exist ({path})")
        out.append(path)
    return out


def _source(values: Mapping[str, Any], modality: str, where: str, base: Path, check: bool) -> dict[str, Any]:
    given = [key for key in SOURCE_KEYS if values.get(key) is not None]
    if len(given) != 1:
        raise MubenchError(f"{where}: give exactly one of {', '.join(SOURCE_KEYS)}, not {given or 'none'}")
    key = given[0]
    for hub_only in ("revision", "config"):
        if values.get(hub_only) is not None and key != "hub":
            raise _fail(where, hub_only, "only applies to a hub source")
    if key == "hub":
        return {"hub": _string(values, "hub", where), "revision": _string(values, "revision", where),
                "config": _string(values, "config", where)}  # fmt: skip
    if key == "folder":
        folder = _paths(values["folder"], "folder", where, base, check)
        if len(folder) != 1 or (check and not Path(folder[0]).is_dir()):
            raise _fail(where, "folder", f"must be one existing folder, got {values['folder']!r}")
        default = {"image": "imagefolder", "audio": "audiofolder", "video": "videofolder"}.get(modality)
        fmt = _string(values, "format", where, allowed=FOLDER_FORMATS) or default
        if fmt is None:
            raise _fail(where, "format", f"is needed for a {modality} folder: one of {list(FOLDER_FORMATS)}")
        return {"folder": folder[0], "format": fmt}
    raw = values["files"]
    by_split = raw if isinstance(raw, Mapping) else {"train": raw}
    files = {
        str(split): _paths(paths, f"files.{split}", where, base, check) for split, paths in by_split.items()
    }
    formats = {FILE_FORMATS.get(Path(p).suffix.lower()) for paths in files.values() for p in paths}
    fmt = _string(values, "format", where, allowed=tuple(sorted(set(FILE_FORMATS.values()))))
    if fmt is None:
        if len(formats) != 1 or None in formats:
            raise _fail(where, "format", f"cannot be told from the file names; set it to one of "
                        f"{sorted(set(FILE_FORMATS.values()))}")  # fmt: skip
        fmt = formats.pop()
    return {"files": files, "format": fmt}


def _input_columns(values: Mapping[str, Any], modality: str, where: str) -> dict[str, str]:
    spec = get_modality(modality)
    canonical = tuple(getattr(spec, "input_columns", (spec.input_column,)))
    value = values.get("input_column")
    if value is None:
        return {column: column for column in canonical}
    if isinstance(value, str) and value and len(canonical) == 1:
        return {canonical[0]: value}
    if isinstance(value, Mapping) and sorted(value) == sorted(canonical):
        if all(isinstance(v, str) and v for v in value.values()):
            return {str(k): str(v) for k, v in value.items()}
    wanted = "a column name" if len(canonical) == 1 else f"a mapping with the keys {list(canonical)}"
    raise _fail(where, "input_column", f"must be {wanted} for {modality} tasks, got {value!r}")


def _splits(values: Mapping[str, Any], where: str) -> dict[str, str | None]:
    value = values.get("splits", {})
    if not isinstance(value, Mapping):
        raise _fail(where, "splits", f"must be a mapping of {list(SPLIT_NAMES)} to source split names")
    for key, split in value.items():
        if key not in SPLIT_NAMES:
            raise _fail(where, "splits", f"has the key {key!r}; allowed keys: {list(SPLIT_NAMES)}")
        if split is not None and (not isinstance(split, str) or not split):
            raise _fail(where, f"splits.{key}", f"must be a split name or null (carve out), got {split!r}")
    if value.get("train", "train") is None:
        raise _fail(where, "splits.train", "cannot be carved out: name the source's training split")
    return dict(value)


def _kind_keys(values: Mapping[str, Any], kind: str, modality: str, where: str) -> None:
    """Refuse keys of the other kind, and a generation task of another modality than text."""
    other = CLASSIFICATION_KEYS if kind == "generation" else GENERATION_KEYS
    given = [key for key in other if values.get(key) is not None]
    if given:
        raise _fail(where, given[0], f"only applies to {'classification' if kind == 'generation' else 'generation'} "
                    f"tasks (this one's kind is {kind})")  # fmt: skip
    if kind == "generation" and modality != "text":
        raise _fail(where, "modality", f"must be text for a generation task, got {modality!r}")


def check_declaration(values: Any, where: str, base: Path, *, check_paths: bool = True) -> dict[str, Any]:
    """The task file's mapping checked key by key and filled in (absolute paths, defaults); raises
    ``MubenchError`` naming the file, the key and what it may hold."""
    if not isinstance(values, Mapping):
        raise MubenchError(f"{where}: a task file holds a mapping of keys (name, modality, ...) to values")
    unknown = sorted(set(values) - set(FIELDS), key=str)
    if unknown:
        raise MubenchError(f"{where}: unknown key(s) {unknown}; known keys: {', '.join(FIELDS)}")
    for key in ("name", "modality"):
        if values.get(key) is None:
            raise _fail(where, key, f"is missing: {FIELDS[key][0]}")
    name = _string(values, "name", where)
    assert name is not None
    if not NAME_PATTERN.match(name) or ".." in name:
        raise _fail(
            where, "name", f"{name!r}: use letters, digits, '_', '.' and '-', starting with a letter or digit"
        )
    modality = _string(values, "modality", where, allowed=tuple(list_modalities()))
    assert modality is not None
    kind = _string(values, "kind", where, allowed=KINDS) or "classification"
    _kind_keys(values, kind, modality, where)
    names = values.get("class_names")
    if names is not None:
        if not isinstance(names, list) or len(names) < 2 or not all(isinstance(n, str) and n for n in names):
            raise _fail(where, "class_names", f"must be a list of at least two names, got {names!r}")
        if len(set(names)) != len(names):
            raise _fail(where, "class_names", f"holds a name twice: {names}")
    seed = values.get("split_seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise _fail(where, "split_seed", f"must be an integer >= 0, got {seed!r}")
    for key in ("description", "license", "citation", "task_file", "class_names_from"):
        if values.get(key) != "":  # an empty text is as good as none
            _string(values, key, where)
    if kind == "generation":
        columns = {
            "prompt_column": _string(values, "prompt_column", where) or "prompt",
            "completion_column": _string(values, "completion_column", where) or "completion",
            "group_column": _string(values, "group_column", where),
            "architecture": _string(values, "architecture", where, allowed=ARCHITECTURES) or "causal",
        }
    else:
        columns = {
            "input_column": _input_columns(values, modality, where),
            "label_column": _string(values, "label_column", where) or LABEL_COLUMN,
            "class_names": list(names) if names is not None else None,
            "class_names_from": values.get("class_names_from", FIELDS["class_names_from"][1]),
        }
    return {
        "name": name,
        "modality": modality,
        "kind": kind,
        **_source(values, modality, where, base, check_paths),
        **columns,
        "splits": _splits(values, where),
        "validation_fraction": _number(values, "validation_fraction", where, 0.0, 1.0, False),
        "test_fraction": _number(values, "test_fraction", where, 0.0, 1.0, False),
        "split_seed": seed,
        "deletion_fraction": _number(values, "deletion_fraction", where, 0.0, 1.0, True),
        "description": values.get("description") or "",
        "license": values.get("license") or "unknown",
        "citation": values.get("citation") or "",
        "task_file": values.get("task_file") or "",
    }
