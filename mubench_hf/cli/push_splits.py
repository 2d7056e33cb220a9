"""``mubench push-splits``: publish a deletion repo folder as a Hub dataset repo, in one commit."""

from __future__ import annotations

import argparse

from ..hub import push_splits


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mubench push-splits",
        description="Push a deletion repo folder (mubench build-splits output) to a Hub dataset repo. Tasks "
        "already on the Hub are kept; the card is re-rendered to list every task.",
    )
    parser.add_argument("folder", metavar="DIR", help="the deletion repo folder, e.g. ./mubench")
    parser.add_argument("repo_id", metavar="REPO_ID", help="the dataset repo, 'namespace/name'")
    parser.add_argument("--private", action="store_true", help="create the repo private (if it is new)")
    parser.add_argument(
        "--token", default=None, help="Hub token (default: HF_TOKEN or the `hf auth login` one)"
    )
    parser.add_argument("--commit-message", default=None, help="message of the commit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result = push_splits(
        args.folder, args.repo_id, token=args.token, private=args.private, commit_message=args.commit_message
    )
    if not result.uploaded and not result.deleted:
        print(f"{result.url} already holds these files: nothing to commit")
        return 0
    print(f"pushed {len(result.uploaded)} files to {result.url} (commit {result.commit_oid[:10]})")
    if result.deleted:
        print(f"deleted {len(result.deleted)} stale files of the re-pushed task(s)")
    return 0
