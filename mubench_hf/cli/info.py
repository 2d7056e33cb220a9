"""``mubench info``: the configs and split sizes of a deletion repo, read from its manifest."""

from __future__ import annotations

import argparse

from ..splits import read_manifest
from ..splits.layout import SPLIT_ORDER


def print_sizes(split_sizes: dict[str, dict[str, int]]) -> None:
    """Print one row per config and one column per split."""
    splits = [s for s in SPLIT_ORDER if any(s in sizes for sizes in split_sizes.values())]
    width = max(len("config"), *(len(name) for name in split_sizes))
    print(f"{'config':<{width}}  " + "  ".join(f"{s:>10}" for s in splits))
    for name, sizes in split_sizes.items():
        print(f"{name:<{width}}  " + "  ".join(f"{sizes.get(s, ''):>10}" for s in splits))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mubench info", description=__doc__)
    parser.add_argument(
        "path", nargs="?", default="mubench", help="deletion repo folder (default: ./%(default)s)"
    )
    args = parser.parse_args(argv)
    manifest = read_manifest(args.path)
    print(f"{args.path}: content hash {manifest['content_hash']}")
    for name, entry in manifest["tasks"].items():
        print(f"\ntask {name} ({entry['modality']}, {entry['num_labels']} classes) from {entry['source']}")
        print(f"order: {entry['order_description']}")
        print_sizes(entry["split_sizes"])
    return 0
