"""Reading settings files (JSON or YAML) with numbers parsed as people write them.

PyYAML follows YAML 1.1, where ``3e-3`` and ``1e-4`` are *strings* (a float needs a dot and a signed
exponent there), ``yes``/``no``/``on``/``off`` are booleans and ``1:30`` is the integer 90. Settings files
are written by people used to JSON and Python, so this module reads YAML with YAML 1.2's core schema
instead: ``3e-3``, ``1E5``, ``.5``, ``-2`` are numbers, ``true``/``false`` booleans, ``null``/``~`` null,
and everything else (``no``, ``2024-01-01``, ``tiny:resnet``) stays a string.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import yaml

from .errors import MubenchError

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution), first characters included.
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_DIGITS = list("-+0123456789")


class _Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core resolvers in place of YAML 1.1's."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # own table: SafeLoader's is left untouched


_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""])
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, _DIGITS)
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, [*_DIGITS, "."])
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    # YAML 1.1's constructor reads "012" as octal and "1:30" as base 60; 1.2 core is plain decimal.
    text = str(loader.construct_scalar(node)).lower()
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)


def _construct_float(loader: yaml.SafeLoader, node: yaml.Node) -> float:
    text = str(loader.construct_scalar(node)).lower()
    if text.endswith("inf"):
        return float("-inf") if text.startswith("-") else float("inf")
    return float(text)  # '.nan' reads as nan too


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    # PyYAML keeps the last of two equal keys silently; in a settings file that hides a mistake.
    loader.flatten_mapping(node)
    seen: dict[Any, Any] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark
            )
        seen[key] = True
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def parse_yaml(text: str) -> Any:
    """``text`` parsed as YAML with the YAML 1.2 core schema (see the module docstring)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def _yaml_error(path: Path, what: str, err: yaml.YAMLError) -> MubenchError:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    # An unclosed bracket or quote is reported where the file ends; say where it was opened too.
    context, start = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and start is not None and (mark is None or start.line != mark.line):
        problem += f" ({context} that starts at line {start.line + 1})"
    return MubenchError(f"{what} {path} is not valid YAML{where}: {problem}; fix that line")


def read_config_file(path: str | os.PathLike, *, what: str = "config file") -> dict[str, Any]:
    """The mapping in a JSON (``.json``) or YAML (any other name) file.

    Raises :class:`~mubench_hf.errors.MubenchError` naming the file (and the line, for a syntax error)
    when it is missing, a folder, unreadable, not valid JSON/YAML, or does not hold a mapping at its top
    level. ``what`` names the file in those messages (``"grid file"``, ``"arguments file"``).
    """
    path = Path(path)
    if not path.exists():
        raise MubenchError(f"{what} {path} does not exist; check the path")
    if path.is_dir():
        raise MubenchError(f"{what} {path} is a folder; give the path of a .yaml or .json file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise MubenchError(
            f"{what} {path} is not a text file (not UTF-8); give a .yaml or .json file"
        ) from None
    except OSError as err:
        raise MubenchError(f"cannot read {what} {path}: {err.strerror or err}") from None
    if path.suffix.lower() == ".json":
        try:
            values = json.loads(text)
        except json.JSONDecodeError as err:
            raise MubenchError(
                f"{what} {path} is not valid JSON at line {err.lineno}, column {err.colno}: {err.msg}; "
                "fix that line"
            ) from None
    else:
        try:
            values = parse_yaml(text)
        except yaml.YAMLError as err:
            raise _yaml_error(path, what, err) from None
    if not isinstance(values, dict):
        found = "nothing (an empty file)" if values is None else f"a {type(values).__name__}"
        raise MubenchError(
            f"{what} {path} must hold a mapping of keys to values (one 'key: value' per line), found {found}"
        )
    return values
