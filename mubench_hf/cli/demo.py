"""``mubench demo``: the offline demo on scikit-learn's digits.

For now it builds the digits deletion repo, loads every config through ``datasets.load_dataset``
and prints the split sizes it got back.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import datasets

from ..splits import build_splits
from .info import print_sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mubench demo", description=__doc__)
    parser.add_argument("--output", default="demo_out", help="folder for everything the demo writes")
    parser.add_argument(
        "--seed", type=int, default=42, help="seed of the deletion order (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    repo = Path(args.output) / "mubench"
    print(f"[1/2] Building the digits deletion repo in {repo}")
    result = build_splits("digits", repo, seed=args.seed, forget_classes=[3], overwrite=True)
    print(f"[2/2] Loading every config back with datasets.load_dataset({str(repo)!r}, CONFIG)")
    loaded: dict[str, dict[str, int]] = {}
    datasets.disable_progress_bars()
    with tempfile.TemporaryDirectory() as cache:
        for config in result.configs:
            splits = datasets.load_dataset(str(repo), config, cache_dir=cache)
            loaded[config] = {split: len(ds) for split, ds in splits.items()}
    datasets.enable_progress_bars()
    print_sizes(loaded)
    print(f"\nDeletion repo: {repo} (content hash {result.content_hash[:16]}…, card in {repo / 'README.md'})")
    return 0
