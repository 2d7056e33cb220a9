"""``mubench push-splits``: publish a deletion repo folder as a Hub dataset repo, in one commit."""

from __future__ import annotations

from ..hub import push_splits
from ._push_common import print_push, push_parser


def main(argv: list[str] | None = None) -> int:
    args = push_parser(
        "mubench push-splits",
        "Push a deletion repo folder (mubench build-splits output) to a Hub dataset repo. Tasks already on the "
        "Hub are kept; the card is re-rendered to list every task.",
        ("DIR", "the deletion repo folder, e.g. ./mubench"),
        "the dataset repo, 'namespace/name'",
    ).parse_args(argv)
    print_push(push_splits(args.folder, args.repo_id, token=args.token, private=args.private,
                           commit_message=args.commit_message))  # fmt: skip
    return 0
