"""``mubench verify``: recompute a deletion repo's hashes and compare them, and its README's YAML (what
``datasets.load_dataset`` reads), with its manifest."""

from __future__ import annotations

import argparse

from ..errors import MubenchError
from ..splits import read_manifest, verify_repo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mubench verify", description=__doc__)
    parser.add_argument(
        "path", nargs="?", default="mubench", help="deletion repo folder (default: ./%(default)s)"
    )
    args = parser.parse_args(argv)
    problems = verify_repo(args.path)
    if problems:
        for problem in problems:
            print(f"MISMATCH {problem}")
        raise MubenchError(
            f"{args.path} does not match its manifest ({len(problems)} problem{'s' * (len(problems) > 1)}, "
            "listed above); rebuild it with `mubench build-splits ... --overwrite` or restore the files"
        )
    print(f"OK {args.path}: content hash {read_manifest(args.path)['content_hash']}")
    return 0
