"""The ``mubench`` command line: ``mubench <command> [options]``.

Each command lives in its own module exposing ``main(argv) -> int`` so that commands with their own
argument parsers (``unlearn`` uses ``HfArgumentParser``) plug in the same way as plain ones.
"""

from __future__ import annotations

import contextlib
import importlib
import signal
import sys
import threading
from collections.abc import Iterator

from .. import __version__
from ..errors import MubenchError

# command -> (module, one-line help). Modules are imported only when their command runs, so
# ``mubench --help`` stays fast and a command's heavy imports do not slow down the others.
COMMANDS: dict[str, tuple[str, str]] = {
    "build-splits": ("mubench_hf.cli.build_splits", "build MU-Bench deletion splits as dataset configs"),
    "info": ("mubench_hf.cli.info", "show the configs and split sizes of a deletion repo"),
    "verify": ("mubench_hf.cli.verify", "check a deletion repo's files against its manifest hashes"),
    "tasks": ("mubench_hf.cli.tasks", "list the registered tasks"),
    "train-base": (
        "mubench_hf.cli.train_base",
        "train the original model of a task (Hub-ready folder + card)",
    ),
    "retrain": (
        "mubench_hf.cli.retrain",
        "train the reference model from scratch on a config's retain split",
    ),
    "unlearn": ("mubench_hf.cli.unlearn", "run an unlearning method on a deletion config"),
    "evaluate": (
        "mubench_hf.cli.evaluate",
        "score a model on a deletion config with every unlearning metric",
    ),
    "run": (
        "mubench_hf.cli.run",
        "a resumable sweep of methods x ratios x seeds, with results, a leaderboard and figures",
    ),
    "ulira": (
        "mubench_hf.cli.ulira",
        "U-LiRA and the NeurIPS'23 epsilon score of a method, from shadow models (one seed each)",
    ),
    "demo": ("mubench_hf.cli.demo", "the offline demo on the digits task"),
    "study": (
        "mubench_hf.cli.study",
        "MU-Bench's analyses: peft, curriculum, scalability, bias (tables + figures)",
    ),
    "push-splits": ("mubench_hf.cli.push_splits", "publish a deletion repo folder as a Hub dataset repo"),
    "push": ("mubench_hf.cli.push", "publish a model folder (weights, config, card) as a Hub model repo"),
    "leaderboard": ("mubench_hf.cli.leaderboard", "rank models by the scores in their cards (local and Hub)"),
}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, like Ctrl-C: every cleanup written for ``KeyboardInterrupt``
    (a sweep keeps its finished cells and never records a cut-short one) then runs for it too."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM (``kill``, a batch scheduler's stop, ``docker stop``) into :class:`Terminated` for the
    ``with`` block. Python's default for SIGTERM is to die on the spot: no ``finally`` runs, so a
    training command would leave half-written files behind where Ctrl-C leaves none."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"usage: mubench <command> [options]   (mubench-hf {__version__})", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_text}" for name, (_, help_text) in COMMANDS.items()]
    lines += ["", "Run 'mubench <command> --help' for the options of one command."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(_usage())
        return 0
    if argv[0] == "--version":
        print(f"mubench-hf {__version__}")
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"mubench: unknown command {command!r}; known commands: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    try:
        with terminate_as_interrupt():
            return int(module.main(rest) or 0)
    except MubenchError as err:
        from ..secrets import redact  # a safety net: messages quoting a Hub error may hold the token

        print(f"mubench {command}: error: {redact(str(err))}", file=sys.stderr)
        return 1
    except Terminated:
        print(f"mubench {command}: terminated (SIGTERM)", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print(f"mubench {command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        message = _system_fault_message(err)
        if message is None:
            raise  # a bug, not a mistake a user can fix: the traceback is what helps
        print(f"mubench {command}: error: {message}", file=sys.stderr)
        return 1


def _system_fault_message(err: BaseException) -> str | None:
    """A one-line message for a full disk or an unwritable folder (however the library underneath
    reports it); ``None`` for every other error."""
    from ..faults import DISK_FULL, classify

    kind = classify(err)
    if kind is None:
        return None
    where = getattr(err, "filename", None)
    where = f" ({where})" if where else ""
    if kind == DISK_FULL:
        return (
            f"the disk is full{where}: free some space and run the command again; files are written whole "
            "or not at all, so what was finished before is intact"
        )
    return f"cannot write there{where}: {err}; choose a folder you can write to"
