"""``mubench leaderboard``: rank models by their cards' MU-Bench scores, from local folders and the Hub."""

from __future__ import annotations

import argparse

from ..hub import build_leaderboard, leaderboard_markdown, write_leaderboard


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mubench leaderboard",
        description="Collect model-index results from model cards (local model folders and/or Hub repos "
        "tagged 'mubench'), rank them by mubench_score per task and config, print the table and write "
        "leaderboard.md and leaderboard.csv.",
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="model folders, or folders searched for model folders"
    )
    parser.add_argument(
        "--hub-author", default=None, metavar="ORG", help="also rank ORG's mubench repos on the Hub"
    )
    parser.add_argument("--task", default=None, help="keep only this task")
    parser.add_argument("--output", default=".", metavar="DIR", help="where to write the files (default: .)")
    parser.add_argument("--token", default=None, help="Hub token for private repos")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rows = build_leaderboard(args.paths, hub_author=args.hub_author, task=args.task, token=args.token)
    print(leaderboard_markdown(rows), end="")
    markdown, table = write_leaderboard(rows, args.output)
    print(f"\nwrote {markdown} and {table}")
    return 0
