"""``mubench leaderboard``: rank models by the scores in their cards, from local folders and the Hub.

Ranking (the same rule as a sweep's leaderboard.md): within each task and deletion config, by the gap
to retrain (lower is better) when a retrain reference was scored, else by the MU-Bench score (higher is
better); ties go to the other of the two, then to the model name. The retrain model is the reference
row (``ref``), not ranked; ranks start at 1.

``--html DIR`` also writes the leaderboard as one self-contained page (DIR/index.html: a tab per task and
config, every column sortable, the figures of the sweep folders given, models linked to their Hub repos);
``--space DIR`` writes it as a static Hugging Face Space, to publish with ``mubench push DIR ORG/NAME``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import MubenchError
from ..hub import build_leaderboard, leaderboard_markdown, write_leaderboard
from ..hub.leaderboard import check_output_dir


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mubench leaderboard",
        description="Collect model-index results from model cards (local model folders and/or Hub repos "
        "tagged 'mubench'), rank them per task and config (by gap to retrain when a retrain reference "
        "was scored, else by MU-Bench score; the retrain model is the reference row), print the table "
        "and write leaderboard.md and leaderboard.csv.",
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="model folders, or folders searched for model folders"
    )
    parser.add_argument(
        "--hub-author", default=None, metavar="ORG", help="also rank ORG's mubench repos on the Hub"
    )
    parser.add_argument("--task", default=None, help="keep only this task (an error if no model has it)")
    parser.add_argument(
        "--config", default=None, help="keep only this deletion config, e.g. digits_del5 (an error if none)"
    )
    parser.add_argument("--output", default=".", metavar="DIR", help="where to write the files (default: .)")
    parser.add_argument("--token", default=None, help="Hub token for private repos")
    parser.add_argument(
        "--html",
        default=None,
        metavar="DIR",
        help="also write DIR/index.html: a self-contained page (no server or network needed) with a tab per "
        "task and config, sortable columns and the PNG figures of the sweep folders given",
    )
    parser.add_argument(
        "--space",
        default=None,
        metavar="DIR",
        help="also write DIR as a static Hugging Face Space (README.md with sdk: static, index.html); "
        "publish it with mubench push DIR ORG/NAME",
    )
    parser.add_argument("--title", default="mubench leaderboard", help="title of the --html/--space page")
    return parser


def check_page_folders(html: str | None, space: str | None) -> None:
    """``--html`` and ``--space`` as folders that exist or can be made, and not the same one: checked
    before anything is collected or written, so a bad one leaves no leaderboard.md/csv behind."""
    wanted = {
        "--html": (html, "the page (index.html)"),
        "--space": (space, "the Space (README.md, index.html)"),
    }
    for flag, (folder, what) in wanted.items():
        if folder is None:
            continue
        out = Path(folder)
        for ancestor in (out, *out.parents):
            if ancestor.exists():
                if not ancestor.is_dir():
                    where = "is a file" if ancestor == out else f"is inside {ancestor}, which is a file"
                    raise MubenchError(f"{flag} {out} {where}; give a folder for {what}")
                break
    if html is not None and space is not None and Path(html).resolve() == Path(space).resolve():
        raise MubenchError(
            f"--html and --space name the same folder {html}: the Space's index.html would replace the page; "
            "give two folders (the Space already holds the page as its index.html, so --space alone may do)"
        )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # before any collecting: a bad --output, --html or --space is reported at once, with nothing written
    check_output_dir(args.output)
    check_page_folders(args.html, args.space)
    rows = build_leaderboard(
        args.paths, hub_author=args.hub_author, task=args.task, config=args.config, token=args.token
    )
    print(leaderboard_markdown(rows), end="")
    markdown, table = write_leaderboard(rows, args.output)
    print(f"\nwrote {markdown} and {table}")
    if args.html or args.space:
        from ..hub.leaderboard_page import figure_files, write_page, write_space

        figures = figure_files(args.paths)
        if args.html:
            print(f"wrote {write_page(rows, args.html, figures, title=args.title)}")
        if args.space:
            space = write_space(rows, args.space, figures, title=args.title)
            print(f"wrote the Space {space} (publish it with: mubench push {space} ORG/NAME)")
    return 0
