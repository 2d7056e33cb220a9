"""What ``mubench push`` and ``mubench push-splits`` share: their arguments and their summary line."""

from __future__ import annotations

import argparse
from typing import Any


def push_parser(
    prog: str, description: str, folder: tuple[str, str], repo_help: str
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("folder", metavar=folder[0], help=folder[1])
    parser.add_argument("repo_id", metavar="REPO_ID", help=repo_help)
    parser.add_argument("--private", action="store_true", help="create the repo private (if it is new)")
    parser.add_argument(
        "--token",
        default=None,
        help="Hub token (default: HF_TOKEN or the `hf auth login` one); never written anywhere, and a push "
        "whose files contain it is refused",
    )
    parser.add_argument("--commit-message", default=None, help="message of the commit")
    return parser


def print_push(result: Any) -> None:
    left_out = list(getattr(result, "left_out", None) or ())
    if left_out:  # said first: a user who expected one of them on the Hub learns why it is not there
        print(f"kept local (not on the push allow-list): {', '.join(left_out)}")
    if not result.uploaded and not result.deleted:
        print(f"{result.url} already holds these files: nothing to commit")
        return
    print(f"pushed {len(result.uploaded)} files to {result.url} (commit {result.commit_oid[:10]})")
    if result.deleted:
        print(f"deleted {len(result.deleted)} stale files")
