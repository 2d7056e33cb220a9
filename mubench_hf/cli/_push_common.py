"""What ``mubench push`` and ``mubench push-splits`` share: their arguments and their summary line."""

from __future__ import annotations

import argparse
from typing import Any

from ..errors import MubenchError


def check_hub_online(what: str, later: str = "") -> None:
    """Refuse a Hub upload at once when huggingface_hub is in offline mode (``HF_HUB_OFFLINE=1``): every
    call to the Hub would raise ``OfflineModeIsEnabled``, after the work that precedes the upload."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise MubenchError(
            f"{what} needs the Hugging Face Hub, but HF_HUB_OFFLINE=1 forbids every connection to it; unset "
            f"HF_HUB_OFFLINE (or set it to 0) to push{later}"
        )


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
