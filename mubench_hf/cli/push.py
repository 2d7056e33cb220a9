"""``mubench push``: publish a model output folder (weights, config, card, results) as a Hub model repo."""

from __future__ import annotations

import argparse

from ..hub import push_model


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mubench push",
        description="Push a model folder (save_pretrained output with a README.md model card) to a Hub "
        "model repo in one commit. Pushing again adds a commit; other files in the repo are kept.",
    )
    parser.add_argument("folder", metavar="OUT", help="the model output folder")
    parser.add_argument("repo_id", metavar="REPO_ID", help="the model repo, 'namespace/name'")
    parser.add_argument("--private", action="store_true", help="create the repo private (if it is new)")
    parser.add_argument(
        "--token", default=None, help="Hub token (default: HF_TOKEN or the `hf auth login` one)"
    )
    parser.add_argument("--commit-message", default=None, help="message of the commit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result = push_model(
        args.folder, args.repo_id, token=args.token, private=args.private, commit_message=args.commit_message
    )
    if not result.uploaded and not result.deleted:
        print(f"{result.url} already holds these files: nothing to commit")
        return 0
    print(f"pushed {len(result.uploaded)} files to {result.url} (commit {result.commit_oid[:10]})")
    return 0
