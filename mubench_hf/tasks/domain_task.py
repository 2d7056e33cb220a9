"""``DomainTask``: a WMDP-shaped generation task, which forgets a *domain* (a corpus of its text) rather than
random rows, and is scored by multiple-choice questions about the forgotten and the kept domain.

Splits (``build`` makes them):

* ``train``: the forget corpus (documents of the forgotten domain) and the retain corpus, as prompt–completion
  rows (a document's opening words are the prompt, the rest the completion, as MUSE's verbatim probes cut
  them). Rows are cut into groups: forget-corpus row ``i`` is in shard ``i % FORGET_SHARDS`` (groups
  ``0 … 9``), retain-corpus row ``j`` in group ``FORGET_SHARDS + j % RETAIN_SHARDS``;
* ``test``: documents trained on by no model (the non-members of the membership attacks);
* ``forget_mcq`` / ``utility_mcq``: questions about the forgotten domain (WMDP's role) and about the kept one
  (MMLU's role), rendered as :mod:`.mcq` says.

The deletion order is the forget shards (``order="upstream"``; ``mubench build-splits --order upstream``), and
its size is ``FORGET_SHARDS`` whatever the corpus sizes, so ``<task>_del10`` forgets the whole forget corpus
and ``<task>_del<p>`` (p ≤ 10) p of its ten shards. It is the default order of these tasks
(``upstream_by_default``): a seeded one would draw retain shards as well; an order file still replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import datasets

from ..errors import MubenchError
from ..modalities.base import (
    ANSWER_COLUMN,
    CHOICES_COLUMN,
    COMPLETION_COLUMN,
    GROUP_COLUMN,
    PROMPT_COLUMN,
)
from .generation import GenerationTask
from .mcq import NO_ANSWER
from .sources import SourceLike

FORGET_SHARDS = 10
RETAIN_SHARDS = 90
PROMPT_WORDS = 8  # a document's opening words that become its prompt
MCQ_SPLITS = ("forget_mcq", "utility_mcq")


@dataclass(frozen=True)
class DomainTask(GenerationTask):
    """A generation task that forgets a domain (module docstring); deletion is by shard group."""

    group_column: str | None = GROUP_COLUMN
    extra_columns: tuple[str, ...] = (CHOICES_COLUMN, ANSWER_COLUMN)
    eval_splits: tuple[str, ...] = ("test", *MCQ_SPLITS)
    #: splits are built with the upstream order (the forget shards) unless an order is given
    upstream_by_default: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.group_column != GROUP_COLUMN or not {CHOICES_COLUMN, ANSWER_COLUMN} <= set(
            self.extra_columns
        ):
            raise MubenchError(
                f"task {self.name!r}: a domain task deletes by {GROUP_COLUMN!r} and keeps the "
                f"{CHOICES_COLUMN!r} and {ANSWER_COLUMN!r} columns of its questions"
            )

    def deletion_order_size(self, num_train: int) -> int:
        """The forget shards, whatever the number of groups: ``_del10`` is the whole forget corpus."""
        return FORGET_SHARDS

    def upstream_order(self, source: SourceLike = None) -> list[int]:
        """The forget shards in order (the retain shards are never deleted)."""
        return list(range(FORGET_SHARDS))


def split_document(text: str, prompt_words: int = PROMPT_WORDS) -> tuple[str, str] | None:
    """A document as (prompt, completion): its first ``prompt_words`` words, then the rest with its leading
    space; ``None`` when it is too short to have both."""
    words = text.split()
    if len(words) <= prompt_words:
        return None
    return " ".join(words[:prompt_words]), " " + " ".join(words[prompt_words:])


def corpus_rows(pairs: Sequence[tuple[str, str]], group_of: Sequence[int]) -> dict[str, list]:
    """Train or test rows of (prompt, completion) pairs, with their groups and no question fields."""
    return {
        PROMPT_COLUMN: [p for p, _ in pairs],
        COMPLETION_COLUMN: [c for _, c in pairs],
        GROUP_COLUMN: [int(g) for g in group_of],
        CHOICES_COLUMN: [[] for _ in pairs],
        ANSWER_COLUMN: [NO_ANSWER] * len(pairs),
    }


def domain_splits(
    forget: Sequence[tuple[str, str]],
    retain: Sequence[tuple[str, str]],
    test: Sequence[tuple[str, str]],
    forget_mcq: dict[str, list],
    utility_mcq: dict[str, list],
    *,
    task: str,
) -> datasets.DatasetDict:
    """The canonical splits of a domain task (module docstring) from its corpora and question rows."""
    for name, rows in (("forget corpus", forget), ("retain corpus", retain), ("test corpus", test)):
        if not rows:
            raise MubenchError(f"task {task!r}: the {name} is empty")
    for name, rows in (("forget_mcq", forget_mcq), ("utility_mcq", utility_mcq)):
        if not rows.get(PROMPT_COLUMN):
            raise MubenchError(f"task {task!r}: the {name} split has no questions")
    groups = [i % FORGET_SHARDS for i in range(len(forget))]
    groups += [FORGET_SHARDS + j % RETAIN_SHARDS for j in range(len(retain))]
    outside = FORGET_SHARDS + RETAIN_SHARDS  # evaluation rows belong to no train group
    out = {
        "train": datasets.Dataset.from_dict(corpus_rows([*forget, *retain], groups)),
        "test": datasets.Dataset.from_dict(corpus_rows(test, [outside] * len(test))),
    }
    for name, rows in (("forget_mcq", forget_mcq), ("utility_mcq", utility_mcq)):
        n = len(rows[PROMPT_COLUMN])
        out[name] = datasets.Dataset.from_dict({**rows, GROUP_COLUMN: [outside] * n})
    return datasets.DatasetDict(out)
