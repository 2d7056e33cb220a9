"""``muse_manpages``: an offline, MUSE-shaped task of real text, the Linux manual pages that Debian's
``manpages`` package ships (the Linux man-pages project). Licences are per page (each page's SPDX line; in
``manpages`` 6.03-2, sections 4 and 5: GPL-2.0-or-later 46 pages, Linux-man-pages-copyleft 14, GPL-2.0-only
5, GPL-1.0-or-later 2; ``/usr/share/doc/manpages/copyright``): all allow copying and redistribution.

Shaped like MUSE (Shi et al. 2024), one page = one document = one deletion unit (``group``):

* **forget corpus** (one topic): half of the section-4 pages (special files and devices: ``null``,
  ``loop``, ``random`` …), chosen by a seeded permutation (``numpy.random.default_rng(0)``) of the pages
  sorted by file name; **holdout corpus** (``test``, never trained on): the other half of section 4, the
  same topic, so PrivLeak compares like with like; **retain corpus**: the section-5 pages (file formats).
* Each page is read from its roff source (:mod:`.manpage_text`; no formatter), cut to its first
  ``PAGE_WORDS`` words, and becomes passages of ``PASSAGE_WORDS`` words whose first ``PREFIX_WORDS``
  words are the prompt (:mod:`.muse_corpus`). Pages of fewer than ``MIN_PAGE_WORDS`` words (``.so``
  redirects, stubs) and section intros are left out.
* **VerbMem probes** (``verbmem``): the first passage of every trained page (prefix → true continuation).
* **KnowMem probes** (``knowmem``), from the page's structure: its NAME line ("null, zero \\- data sink" →
  "What does the null(4) manual page describe?" / "data sink") and up to ``DEFINITIONS_PER_PAGE`` of its
  ``.TP`` definitions whose term and first sentence lie in the kept words (a field, an ioctl, an option →
  "In the group(5) manual page, what is GID?" / "the numeric group ID."), asked in MUSE's few-shot format
  after ``ICL_EXAMPLES`` NAME questions about holdout pages.

``mubench build-splits --task muse_manpages --order upstream`` makes ``del10`` the forget corpus (smaller
ratios nested parts of it); the seeded order deletes random pages of either corpus. The rows follow the
installed package: another ``manpages`` version gives other rows (the package version is in the split
note of a built repo's card through ``dpkg``'s file list). ``source=`` takes a folder laid out like
``/usr/share/man`` (``man4/``, ``man5/``; pages gzipped or not) instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import datasets
import numpy as np

from ..errors import MubenchError
from .generation import GenerationTask
from .manpage_text import Manpage, parse_manpage, read_manpage
from .muse_corpus import corpus_rows, knowmem_rows, normalise, probe_dataset
from .registry import register_task

PACKAGE = "manpages"
PACKAGE_FILES = Path("/var/lib/dpkg/info/manpages.list")
FORGET_SECTION, RETAIN_SECTION = "4", "5"
SPLIT_SEED = 0
PAGE_WORDS = 80
PASSAGE_WORDS = 40
PREFIX_WORDS = 8
MIN_PAGE_WORDS = 60
DEFINITIONS_PER_PAGE = 2
ANSWER_WORDS = 16
ICL_EXAMPLES = 3
_SENTENCE = re.compile(r"(?<=[.;:])\s")


def page_files(source: str | os.PathLike | None = None) -> dict[str, list[Path]]:
    """Section → the page files of the forget/holdout and retain sections, sorted by name."""
    if source is None:
        if not PACKAGE_FILES.is_file():
            raise MubenchError(
                f"muse_manpages reads the Debian package {PACKAGE!r}, which is not installed here "
                f"({PACKAGE_FILES} is missing): apt-get install -y {PACKAGE}, or pass source= a folder laid "
                "out like /usr/share/man (man4/, man5/)"
            )
        listed = [Path(line.strip()) for line in PACKAGE_FILES.read_text().splitlines()]
        found = {
            s: sorted(p for p in listed if p.parent == Path(f"/usr/share/man/man{s}") and p.is_file())
            for s in (FORGET_SECTION, RETAIN_SECTION)
        }
    else:
        root = Path(source)
        found = {
            s: sorted(p for p in (root / f"man{s}").glob("*") if p.is_file())
            for s in (FORGET_SECTION, RETAIN_SECTION)
        }
    return found


def usable_pages(paths: list[Path]) -> list[Manpage]:
    """The parsed pages worth a document: not an intro, not a redirect, at least ``MIN_PAGE_WORDS`` words."""
    pages = []
    for path in paths:
        page = parse_manpage(read_manpage(path))
        if page.title.lower() == "intro" or len(page.text.split()) < MIN_PAGE_WORDS:
            continue
        pages.append(page)
    return pages


def kept_text(page: Manpage) -> str:
    return " ".join(page.text.split()[:PAGE_WORDS])


def _first_sentence(text: str) -> str:
    sentence = _SENTENCE.split(text, maxsplit=1)[0]
    return " ".join(sentence.split()[:ANSWER_WORDS])


def page_questions(page: Manpage) -> list[tuple[str, str]]:
    """(question, answer) pairs about one page, each answer found in the page's kept words."""
    text = normalise(kept_text(page))
    name = f"{page.title}({page.section})"
    qa = []
    if page.summary and page.summary in text:
        qa.append((f"What does the {name} manual page describe?", page.summary))
    defined = []
    for tag, definition in page.definitions:
        answer = _first_sentence(definition)
        if tag and answer and f"{tag} {answer}" in text and len(defined) < DEFINITIONS_PER_PAGE:
            defined.append((f"In the {name} manual page, what is {tag}?", answer))
    return qa + defined


def load_muse_manpages(source: str | os.PathLike | None = None) -> datasets.DatasetDict:
    """``train`` (forget + retain pages), ``test`` (holdout pages), ``verbmem`` and ``knowmem`` probes."""
    files = page_files(source)
    topic = usable_pages(files[FORGET_SECTION])
    retain = usable_pages(files[RETAIN_SECTION])
    if len(topic) < 4 or len(retain) < 2:
        raise MubenchError(
            f"muse_manpages: found {len(topic)} usable section-{FORGET_SECTION} pages and {len(retain)} "
            f"section-{RETAIN_SECTION} pages; at least 4 and 2 are needed (the {PACKAGE!r} package has ~30 each)"
        )
    order = np.random.default_rng(SPLIT_SEED).permutation(len(topic))
    n_forget = (len(topic) + 1) // 2
    forget = [topic[i] for i in np.sort(order[:n_forget])]
    holdout = [topic[i] for i in np.sort(order[n_forget:])]
    trained = forget + retain
    shape = dict(passage_words=PASSAGE_WORDS, prefix_words=PREFIX_WORDS)
    train = corpus_rows([kept_text(p) for p in trained], 0, **shape)
    test = corpus_rows([kept_text(p) for p in holdout], len(trained), **shape)
    verbmem = corpus_rows([kept_text(p) for p in trained], 0, max_passages=1, **shape)
    examples = [qa for page in holdout for qa in page_questions(page)[:1]][:ICL_EXAMPLES]
    questions = [(q, a, group) for group, page in enumerate(trained) for q, a in page_questions(page)]
    return datasets.DatasetDict(
        {
            "train": probe_dataset(train),
            "test": probe_dataset(test),
            "verbmem": probe_dataset(verbmem),
            "knowmem": probe_dataset(knowmem_rows(questions, examples)),
        }
    )


def manpages_upstream_order(source: str | os.PathLike | None = None) -> list[int]:
    """The forget corpus (the trained section-4 pages, groups 0 … n − 1) as a deletion order."""
    files = page_files(source)
    return list(range((len(usable_pages(files[FORGET_SECTION])) + 1) // 2))


def _path(source: object) -> str | os.PathLike | None:
    if source is None or isinstance(source, (str, os.PathLike)):
        return source
    raise MubenchError(
        f"muse_manpages: source must be a folder like /usr/share/man, not {type(source).__name__}"
    )


MUSE_MANPAGES = register_task(
    GenerationTask(
        name="muse_manpages",
        modality="text",
        description=(
            "MUSE-shaped offline stand-in of real text: Linux man pages (Debian 'manpages'); forget = section-4 "
            "device pages, retain = section-5 file-format pages, holdout = other section-4 pages; VerbMem and "
            "KnowMem probes from the pages' structure."
        ),
        build=lambda source: load_muse_manpages(_path(source)),
        upstream=lambda source: manpages_upstream_order(_path(source)),
        upstream_forget_set=True,
        group_column="group",
        eval_splits=("test", "verbmem", "knowmem"),
        # real text is harder to memorise than templated QA: tiny:llama needs more steps than the generation
        # recipe's (20 epochs at batch 32) before its greedy continuations reproduce the pages
        recipe={
            "num_train_epochs": 60.0,
            "learning_rate": 5e-3,
            "per_device_train_batch_size": 16,
            "warmup_steps": 20,
            "lr_scheduler_type": "linear",
        },
        license="other",  # per page: GPL-2.0-or-later, Linux-man-pages-copyleft, GPL-2.0-only, GPL-1.0-or-later
        source_citation="The Linux man-pages project (Debian package 'manpages'); licences per page (SPDX lines)",
        split_note=(
            f"Debian 'manpages' pages: section {FORGET_SECTION} split by rng seed {SPLIT_SEED} into forget "
            f"(train) and holdout (test), section {RETAIN_SECTION} retain; first {PAGE_WORDS} words per page"
        ),
    )
)
