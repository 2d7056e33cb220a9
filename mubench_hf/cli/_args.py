"""Argument handling shared by the commands built on ``HfArgumentParser`` (train-base, retrain, unlearn).

* One parser for flags and files: a JSON/YAML arguments file is read with numbers as people write
  them (``3e-3``) and turned into the same flags, so both get argparse's type checks and messages.
* ``--learning_rate -1e-3``: argparse takes ``-1e-3`` for an option (its negative-number rule knows no
  exponents) and says only "expected one argument"; such values are joined to their flag first, so the
  command's own check can say what is wrong with the number.
* ``--help`` without the 9-second import of transformers: the help text is built once per
  (mubench-hf, transformers, command) and kept in the user's cache folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..errors import MubenchError

_NUMBER = re.compile(r"^-(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
ARGS_FILE_SUFFIXES = (".json", ".yaml", ".yml")


def join_negative_numbers(argv: list[str]) -> list[str]:
    """``["--lr", "-1e-3"]`` → ``["--lr=-1e-3"]`` (see the module docstring)."""
    out: list[str] = []
    for arg in argv:
        if out and _NUMBER.match(arg) and out[-1].startswith("--") and "=" not in out[-1]:
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(arg)
    return out


def is_args_file(argv: list[str]) -> bool:
    """Whether the command line is a single arguments file (``mubench unlearn args.yaml``)."""
    return len(argv) == 1 and argv[0].endswith(ARGS_FILE_SUFFIXES)


def flags_from_mapping(values: Mapping[str, Any], source: str) -> list[str]:
    """The command-line flags that say what ``values`` (an arguments file) says."""
    flags: list[str] = []
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            raise MubenchError(f"{source}: every key must be an argument name, got {key!r}")
        if value is None:
            continue
        if isinstance(value, Mapping):
            raise MubenchError(f"{source}: {key!r} must be a single value or a list, not a mapping")
        items = value if isinstance(value, list) else [value]
        texts = [("true" if v else "false") if isinstance(v, bool) else str(v) for v in items]
        flags += [f"--{key}", *texts] if texts else []
    return flags


def read_args_file(path: str) -> dict[str, Any]:
    """An arguments file as a mapping (numbers parsed as written; clear errors for bad files)."""
    from ..config_files import read_config_file

    return read_config_file(path)


def command_line(argv: list[str]) -> list[str]:
    """The flags to parse: those of an arguments file, or ``argv`` with negative numbers joined."""
    if is_args_file(argv):
        return join_negative_numbers(flags_from_mapping(read_args_file(argv[0]), argv[0]))
    return join_negative_numbers(list(argv))


def parse_dataclasses(parser: Any, flags: list[str]) -> tuple[Any, ...]:
    """``parser.parse_args_into_dataclasses(flags)``; arguments that ``TrainingArguments`` itself rejects
    (e.g. ``load_best_model_at_end`` with ``save_strategy no``) become a one-line error, not a traceback."""
    try:
        return parser.parse_args_into_dataclasses(args=flags)
    except MubenchError:
        raise
    except (ValueError, TypeError) as err:
        raise MubenchError(f"invalid arguments: {' '.join(str(err).split())}") from err


def explicit_names(flags: list[str]) -> set[str]:
    """The argument names given on a command line (``--a 1 --b=2`` → {"a", "b"})."""
    return {flag[2:].split("=", 1)[0] for flag in flags if flag.startswith("--")}


def help_requested(argv: list[str]) -> bool:
    return any(arg in ("-h", "--help") for arg in argv)


def _cache_dir() -> Path:
    base = os.environ.get("MUBENCH_CACHE") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mubench-hf" / "help"


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def print_cached_help(command: str, variant: str, build: Callable[[], str]) -> int:
    """Print the help of ``command`` (``variant``: e.g. the method whose flags it lists), building it
    with ``build()`` only when no copy for these package versions is cached."""
    from .. import __version__

    key = "|".join([command, variant, __version__, _version("transformers"), sys.version.split()[0]])
    path = _cache_dir() / f"{command}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        text = build()
        with contextlib.suppress(OSError):  # a read-only home: the help is printed, just not kept
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)
    print(text, end="" if text.endswith("\n") else "\n")
    return 0
