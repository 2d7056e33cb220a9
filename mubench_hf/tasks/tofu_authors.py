"""Which TOFU rows belong to which author: the groups ``tofu`` deletes by.

TOFU (``locuslab/TOFU``) has no author column: its ``full`` config lists 200 authors × 20 questions,
author ``i`` holding rows ``20i … 20i+19``, and its ``forget01/05/10`` configs are whole authors (the
last 2/10/20). A copy may instead name each row's author in an ``author`` column (in ``full`` and in the
holdout config); authors are then read from it. Without one, the 20-question blocks are checked against
the forget configs that are there: a forget config holding part of a block means the copy's authors do not
have 20 questions each, and it is refused with that reason rather than silently regrouped.
"""

from __future__ import annotations

from collections.abc import Mapping

import datasets
import numpy as np

from ..errors import MubenchError

TOFU_QUESTIONS_PER_AUTHOR = 20
AUTHOR_COLUMN = "author"
_FIX = (
    "give 'full' and the holdout config an 'author' column naming each row's author (authors are then "
    "read from it), or use a copy with TOFU's layout"
)


def author_groups(ds: datasets.Dataset, config: str, first: int = 0) -> np.ndarray:
    """The author (group) of every row of TOFU config ``config``, numbered from ``first``: from its
    ``author`` column (in order of first appearance), else TOFU's blocks of 20 questions."""
    if AUTHOR_COLUMN in ds.column_names:
        names = ds[AUTHOR_COLUMN]
        if any(name is None or str(name).strip() == "" for name in names):
            raise MubenchError(f"tofu: config {config!r} has rows without an author in its 'author' column")
        rank: dict[object, int] = {}
        return np.asarray([first + rank.setdefault(name, len(rank)) for name in names], dtype=np.int64)
    n = len(ds)
    if n % TOFU_QUESTIONS_PER_AUTHOR:
        raise MubenchError(
            f"tofu: config {config!r} has {n} rows, not a multiple of TOFU's {TOFU_QUESTIONS_PER_AUTHOR} "
            f"questions per author, so its authors cannot be told apart; {_FIX}"
        )
    return first + np.arange(n, dtype=np.int64) // TOFU_QUESTIONS_PER_AUTHOR


def forget_authors(
    full: datasets.Dataset, groups: np.ndarray, config: str, forget: datasets.Dataset
) -> list[int]:
    """The authors (groups of ``full``) that forget config ``config`` holds, in ascending order; refused
    when it holds a question ``full`` lacks, or only part of an author's questions."""
    row_of = {q: i for i, q in enumerate(full["question"])}
    missing = [q for q in forget["question"] if q not in row_of]
    if missing:
        raise MubenchError(f"tofu: {config} holds questions that are not in 'full' (e.g. {missing[0]!r})")
    rows = np.asarray(sorted({row_of[q] for q in forget["question"]}), dtype=np.int64)
    authors = np.unique(groups[rows])
    for author in authors:
        whole = np.flatnonzero(groups == author)
        held = np.intersect1d(rows, whole)
        if len(held) < len(whole):
            where = (
                f"rows {whole[0]}-{whole[-1]} of 'full'"
                if AUTHOR_COLUMN not in full.column_names
                else f"author {full[int(whole[0])][AUTHOR_COLUMN]!r}"
            )
            layout = (
                f"TOFU's forget configs hold whole authors, so this copy's authors do not have "
                f"{TOFU_QUESTIONS_PER_AUTHOR} questions each"
                if AUTHOR_COLUMN not in full.column_names
                else "TOFU's forget configs hold whole authors"
            )
            raise MubenchError(
                f"tofu: {config} holds {len(held)} of the {len(whole)} questions of author {int(author)} "
                f"({where}); {layout}; {_FIX}"
            )
    return [int(a) for a in authors]


def check_forget_configs(
    full: datasets.Dataset, groups: np.ndarray, forget: Mapping[str, datasets.Dataset]
) -> None:
    """Refuse a copy whose forget configs do not hold whole authors of ``groups`` (see ``forget_authors``)."""
    for config, ds in forget.items():
        forget_authors(full, groups, config, ds)
