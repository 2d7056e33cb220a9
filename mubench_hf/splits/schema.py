"""The shape of a manifest, checked before anything uses it.

A manifest is read from a folder or downloaded from the Hub, so it may be damaged or crafted. Every key the
product reads is checked here, with a one-line error that names the file and the key, instead of a
``KeyError`` deep inside a command; every file name is checked to stay inside the repo (``paths.py``).
"""

from __future__ import annotations

import re
from typing import Any

import datasets

from ..errors import MubenchError
from .paths import check_name, check_relative

FORMAT_VERSION = 1

_TOP_FIELDS: dict[str, tuple[type, ...]] = {
    "format_version": (int,),
    "content_hash": (str,),
    "tasks": (dict,),
}
_TASK_FIELDS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "modality": (str,),
    "num_labels": (int,),
    "class_names": (list,),
    "license": (str,),
    "source": (str,),
    "ood_source": (str, type(None)),
    "seed": (int,),
    "ratios": (list,),
    "forget_classes": (list,),
    "order_description": (str,),
    "deletion_order_size": (int,),
    "num_train": (int,),
    "features": (dict,),
    "configs": (dict,),
    "split_sizes": (dict,),
    "files": (dict,),
    "content_hash": (str,),
}
_TYPE_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", type(None): "null"}
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _key(*parts: str) -> str:
    """``tasks.digits.files['data/digits/test.parquet']``: the key as a reader would look it up."""
    text = ""
    for part in parts:
        text += f".{part}" if _PLAIN_KEY.match(part) else f"[{part!r}]"
    return text.lstrip(".")


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return _TYPE_NAMES.get(type(value), "a value")


class _Checker:
    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, problem: str) -> MubenchError:
        return MubenchError(
            f"{self.where}: {key} {problem}; the manifest is damaged, rebuild the repo with mubench build-splits"
        )

    def typed(self, value: Any, types: tuple[type, ...], *key: str) -> Any:
        # bool is an int in Python but not in the manifest's format
        if isinstance(value, bool) or not isinstance(value, types):
            expected = " or ".join(_TYPE_NAMES[t] for t in types)
            raise self.fail(_key(*key), f"holds {_json_type(value)} where {expected} is expected")
        return value

    def field(self, obj: dict[str, Any], name: str, types: tuple[type, ...], *key: str) -> Any:
        if name not in obj:
            raise self.fail(_key(*key, name), "is missing")
        return self.typed(obj[name], types, *key, name)


def validate_manifest(manifest: Any, where: str) -> dict[str, Any]:
    """``manifest`` if it has every key the product reads, with the right types and safe file names."""
    check = _Checker(where)
    if not isinstance(manifest, dict):
        raise MubenchError(
            f"{where} holds {_json_type(manifest)}, not a JSON object; it is not a mubench manifest, "
            "rebuild the repo with mubench build-splits"
        )
    version = manifest.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version != FORMAT_VERSION:
        raise MubenchError(
            f"{where} has format version {version!r}; this mubench-hf reads version {FORMAT_VERSION}"
        )
    for name, types in _TOP_FIELDS.items():
        check.field(manifest, name, types)
    for task, entry in manifest["tasks"].items():
        check_name(task, f"{where}: task name in {_key('tasks')}")
        check.typed(entry, (dict,), "tasks", task)
        _validate_task(check, task, entry)
    return manifest


def _validate_task(check: _Checker, task: str, entry: dict[str, Any]) -> None:
    for name, types in _TASK_FIELDS.items():
        check.field(entry, name, types, "tasks", task)
    if entry["name"] != task:
        raise check.fail(_key("tasks", task, "name"), f"is {entry['name']!r}, not the task's key {task!r}")
    for i, ratio in enumerate(entry["ratios"]):
        check.typed(ratio, (str,), "tasks", task, "ratios", str(i))
    for i, label in enumerate(entry["forget_classes"]):
        check.typed(label, (int,), "tasks", task, "forget_classes", str(i))
    try:
        datasets.Features.from_dict(entry["features"])
    except Exception as err:  # whatever a crafted dict makes datasets raise
        raise check.fail(
            _key("tasks", task, "features"), f"is not a datasets Features dict ({err})"
        ) from None
    prefix = f"data/{task}/"
    for rel, meta in entry["files"].items():
        key = ("tasks", task, "files", rel)
        check_relative(rel, f"{check.where}: file name in {_key(*key[:3])}")
        if not rel.startswith(prefix):
            raise check.fail(_key(*key), f"is not under {prefix}, where every file of task {task!r} lies")
        check.typed(meta, (dict,), *key)
        check.field(meta, "sha256", (str,), *key)
        if check.field(meta, "num_rows", (int,), *key) < 0:
            raise check.fail(_key(*key, "num_rows"), "is negative")
    _validate_configs(check, task, entry)


def _validate_configs(check: _Checker, task: str, entry: dict[str, Any]) -> None:
    for config, splits in entry["configs"].items():
        check_name(config, f"{check.where}: config name in {_key('tasks', task, 'configs')}")
        check.typed(splits, (dict,), "tasks", task, "configs", config)
        sizes = entry["split_sizes"].get(config)
        if sizes is None:
            raise check.fail(_key("tasks", task, "split_sizes", config), "is missing")
        check.typed(sizes, (dict,), "tasks", task, "split_sizes", config)
        for split, files in splits.items():
            key = ("tasks", task, "configs", config, split)
            for i, rel in enumerate(check.typed(files, (list,), *key)):
                check.typed(rel, (str,), *key, str(i))
                check_relative(rel, f"{check.where}: {_key(*key)}")
                if rel not in entry["files"]:
                    raise check.fail(
                        _key(*key), f"lists {rel!r}, which is not in {_key('tasks', task, 'files')}"
                    )
            check.field(sizes, split, (int,), "tasks", task, "split_sizes", config)
    extra = sorted(set(entry["split_sizes"]) - set(entry["configs"]))
    if extra:
        raise check.fail(
            _key("tasks", task, "split_sizes", extra[0]), "names a config that is not in configs"
        )
