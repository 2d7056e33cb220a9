"""The rows of a MUSE-shaped task, built from documents: what ``muse_news``, ``muse_books`` (Hub) and the
offline stand-in ``muse_manpages`` share.

MUSE (Shi et al. 2024) trains a model on a forget corpus and a retain corpus of documents and scores it
with probes about them. Here every document is one deletion unit (its ``group``) and becomes passages:

* **corpus rows** (train, and the holdout corpus as ``test``): each document cut into passages of
  ``passage_words`` words; a passage's first ``prefix_words`` words are its ``prompt`` and the rest its
  ``completion`` (with the leading space of TRL's convention). A language model fine-tuned on them learns
  each document's text as continuations of its own prefixes, which is what VerbMem asks back.
* **verbmem rows**: a prefix (prompt) and its true continuation (completion), with the document's group;
* **knowmem rows**: MUSE's few-shot question prompt and the answer, with the document's group.

Words are whitespace-separated tokens, so passages do not depend on any tokenizer; whitespace inside a
passage is collapsed to single spaces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import datasets

from ..errors import MubenchError

_SPACE = re.compile(r"\s+")


def words_of(text: str) -> list[str]:
    return text.split()


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def passages(
    text: str, *, passage_words: int, prefix_words: int, max_passages: int | None = None
) -> list[tuple[str, str]]:
    """(prompt, completion) passages of one document (see the module docstring); a last piece shorter
    than ``prefix_words + 1`` words joins the passage before it."""
    if not 0 < prefix_words < passage_words:
        raise MubenchError(
            f"a passage needs a prefix shorter than itself: prefix_words={prefix_words}, passage_words={passage_words}"
        )
    words = words_of(text)
    chunks = [words[i : i + passage_words] for i in range(0, len(words), passage_words)]
    if len(chunks) > 1 and len(chunks[-1]) <= prefix_words:
        last = chunks.pop()
        chunks[-1] = chunks[-1] + last
    if max_passages is not None:
        chunks = chunks[:max_passages]
    return [
        (" ".join(chunk[:prefix_words]), " " + " ".join(chunk[prefix_words:]))
        for chunk in chunks
        if len(chunk) > prefix_words
    ]


def corpus_rows(
    documents: Sequence[str],
    first_group: int,
    *,
    passage_words: int,
    prefix_words: int,
    max_passages: int | None = None,
) -> dict[str, list]:
    """Passage rows of ``documents``; document ``i`` is group ``first_group + i``."""
    rows: dict[str, list] = {"prompt": [], "completion": [], "group": []}
    for i, text in enumerate(documents):
        for prompt, completion in passages(
            text, passage_words=passage_words, prefix_words=prefix_words, max_passages=max_passages
        ):
            rows["prompt"].append(prompt)
            rows["completion"].append(completion)
            rows["group"].append(first_group + i)
    return rows


def probe_dataset(rows: dict[str, list]) -> datasets.Dataset:
    """A split of probe (or corpus) rows with the canonical columns."""
    return datasets.Dataset.from_dict(
        rows,
        features=datasets.Features(
            {
                "prompt": datasets.Value("string"),
                "completion": datasets.Value("string"),
                "group": datasets.Value("int64"),
            }
        ),
    )


def knowmem_rows(qa: Sequence[tuple[str, str, int]], examples: Sequence[tuple[str, str]]) -> dict[str, list]:
    """KnowMem rows: each (question, answer, group) asked after the in-context ``examples``, as MUSE asks."""
    # imported here: the metrics package pulls in torch, and `mubench tasks` lists tasks without it
    from ..metrics.generative.muse import few_shot_prompt

    return {
        "prompt": [few_shot_prompt(q, examples) for q, _, _ in qa],
        "completion": [a for _, a, _ in qa],
        "group": [g for _, _, g in qa],
    }


def best_document(text: str, documents: Sequence[str], groups: Sequence[int]) -> int:
    """The group of the document ``text`` comes from: the first that holds it (whitespace normalised), else
    the one sharing the most of its distinct words (lower-cased); ties go to the earlier document."""
    if not documents:
        raise MubenchError("no documents to match a probe against")
    needle = normalise(text)
    for doc, group in zip(documents, groups):
        if needle and needle in doc:
            return int(group)
    wanted = set(needle.lower().split())
    overlaps = [len(wanted & set(doc.lower().split())) for doc in documents]
    return int(groups[max(range(len(documents)), key=lambda i: (overlaps[i], -i))])
