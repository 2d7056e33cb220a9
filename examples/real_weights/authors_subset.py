"""The first ``--authors`` authors of ``fictitious_authors_small`` as a local copy its ``--source`` reads.

``fictitious_authors_small`` (20 made-up authors × 20 questions train, 4 holdout authors test) takes
``--source DIR``, a folder written by ``DatasetDict.save_to_disk`` with the task's columns. This writes the
rows of authors ``0 … authors-1`` (train) and of the first ``--holdout`` holdout authors (test) into such a
folder, so a real 135M-parameter LM can memorise and forget them within a CPU budget:

    python examples/real_weights/authors_subset.py --authors 5 --holdout 2 --output authors5
    mubench build-splits --task fictitious_authors_small --source authors5 --ratios 20 --output mubench
"""

from __future__ import annotations

import argparse

import datasets

from mubench_hf.tasks import get_task


def subset(authors: int, holdout: int) -> datasets.DatasetDict:
    """Train rows of the first ``authors`` authors and test rows of the first ``holdout`` holdout ones."""
    full = get_task("fictitious_authors_small").build(None)
    train_groups = sorted(set(full["train"]["group"]))[:authors]
    test_groups = sorted(set(full["test"]["group"]))[:holdout]
    return datasets.DatasetDict(
        train=full["train"].filter(lambda row: row["group"] in train_groups),
        test=full["test"].filter(lambda row: row["group"] in test_groups),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--authors", type=int, default=5, help="training authors kept (of 20)")
    parser.add_argument("--holdout", type=int, default=2, help="holdout (test) authors kept (of 4)")
    parser.add_argument("--output", required=True, help="folder written with save_to_disk")
    args = parser.parse_args()
    data = subset(args.authors, args.holdout)
    data.save_to_disk(args.output)
    print(f"{data['train'].num_rows} train rows ({args.authors} authors), {data['test'].num_rows} test rows "
          f"({args.holdout} holdout authors) -> {args.output}")  # fmt: skip


if __name__ == "__main__":
    main()
