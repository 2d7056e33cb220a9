"""MUSE (Shi et al. 2024, ``swj0419/muse_bench``) from the Hub: ``muse_news`` (``muse-bench/MUSE-News``) and
``muse_books`` (``muse-bench/MUSE-Books``).

Upstream configs and splits (as muse_bench's ``load_data.py`` and open-unlearning's ``configs/data/
datasets/MUSE_*.yaml`` read them):

* ``raw``: ``forget``, ``retain1``, ``retain2``, ``holdout`` (column ``text``, one document per row);
* ``verbmem``: ``forget`` (``prompt``, ``gt``): prefixes of forget text and their true continuations;
* ``knowmem``: ``forget_qa``, ``retain_qa`` and the in-context examples ``forget_qa_icl``,
  ``retain_qa_icl`` (``question``, ``answer``); optional here (muse_bench's ``constants.py`` has none for
  Books);
* ``privleak`` (``forget``/``retain``/``holdout`` excerpts) and ``scal``/``sust`` are not read: PrivLeak is
  computed on the forget and holdout passages below, and scalability is the nested configs.

Our rows (:mod:`.muse_corpus`): ``train`` = passages of forget, retain1 and retain2 documents (in that order;
each document is a group, forget documents first), ``test`` = passages of the holdout documents (PrivLeak's
non-members), ``verbmem`` = MUSE's prompt/gt with the forget document each prompt was cut from (located by
its text; the best word overlap where the text is not found verbatim), ``knowmem`` = MUSE's questions in its
few-shot format (the ``*_icl`` examples first), each matched to the forget (retain) document that holds
its answer, else the one sharing most words with question and answer.

``mubench build-splits --task muse_news --order upstream --ratios 2.5,5,7.5,10``: ``del10`` forgets exactly
MUSE's forget corpus, the smaller ratios nested parts of it (forget-set sizes for MUSE's scalability).
``source=`` replaces the Hub: a mapping ``{config: DatasetDict}`` or a folder with one sub-folder per
config (``raw/``, ``verbmem/``, ``knowmem/``), each loadable by ``datasets.load_dataset`` or written by
``save_to_disk``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import datasets

from ..errors import MubenchError
from .generation import GenerationTask
from .muse_corpus import best_document, corpus_rows, knowmem_rows, normalise, probe_dataset
from .registry import register_task
from .sources import HubSource, load_hub_source, load_source

MUSE_REPOS = {"news": "muse-bench/MUSE-News", "books": "muse-bench/MUSE-Books"}
RAW_SPLITS = ("forget", "retain1", "retain2", "holdout")
TRAIN_CORPORA = ("forget", "retain1", "retain2")
KNOWMEM_SPLITS = ("forget_qa", "retain_qa", "forget_qa_icl", "retain_qa_icl")
#: passages of about 400 Llama-2 tokens; the prefix is what VerbMem-style prompts hold
PASSAGE_WORDS = 300
PREFIX_WORDS = 32
MUSE_CITATION = """@article{shi2024muse,
  title   = {MUSE: Machine Unlearning Six-Way Evaluation for Language Models},
  author  = {Shi, Weijia and Lee, Jaechan and Huang, Yangsibo and Malladi, Sadhika and Zhao, Jieyu and
             Holtzman, Ari and Liu, Daogao and Zettlemoyer, Luke and Smith, Noah A. and Zhang, Chiyuan},
  journal = {arXiv preprint arXiv:2407.06460},
  year    = {2024}
}"""


def muse_config(corpus: str, source: Any, config: str, *, required: bool) -> datasets.DatasetDict | None:
    """One MUSE config as a ``DatasetDict`` from ``source`` (module docstring) or the Hub; ``None`` when an
    optional one is absent."""
    what = f"muse_{corpus} ({config})"
    if source is None:
        try:
            raw = load_hub_source(HubSource(MUSE_REPOS[corpus], config_name=config), what, "--source DIR")
        except MubenchError:
            if required:
                raise
            return None
    elif isinstance(source, Mapping):
        if config not in source:
            if required:
                raise MubenchError(
                    f"muse_{corpus}: the source has no {config!r} config (it has {sorted(source)})"
                )
            return None
        raw = source[config]
    else:
        folder = Path(os.fspath(source)) / config
        if not folder.exists():
            if required:
                raise MubenchError(
                    f"muse_{corpus}: {Path(source)} has no {config}/ folder (MUSE's {config!r} config)"
                )
            return None
        raw = load_source(folder, what=what)
    if not isinstance(raw, datasets.DatasetDict):
        raise MubenchError(
            f"muse_{corpus}: config {config!r} must be a DatasetDict of splits, not {type(raw).__name__}"
        )
    return raw


def _column(ds: datasets.DatasetDict, config: str, split: str, column: str, corpus: str) -> list[str]:
    if split not in ds:
        raise MubenchError(f"muse_{corpus}: config {config!r} has no {split!r} split (it has {sorted(ds)})")
    if column not in ds[split].column_names:
        raise MubenchError(
            f"muse_{corpus}: {config}/{split} has no {column!r} column (its columns: {ds[split].column_names})"
        )
    values = [str(v) for v in ds[split][column]]
    if not values:
        raise MubenchError(f"muse_{corpus}: {config}/{split} is empty; MUSE's splits all have rows")
    return values


def load_muse(corpus: str, source: Any = None) -> datasets.DatasetDict:
    """MUSE-News or MUSE-Books as canonical splits (see the module docstring)."""
    if corpus not in MUSE_REPOS:
        raise MubenchError(f"MUSE corpus must be one of {sorted(MUSE_REPOS)}, not {corpus!r}")
    raw = muse_config(corpus, source, "raw", required=True)
    documents = {s: [normalise(t) for t in _column(raw, "raw", s, "text", corpus)] for s in RAW_SPLITS}
    shape = dict(passage_words=PASSAGE_WORDS, prefix_words=PREFIX_WORDS)
    train: dict[str, list] = {"prompt": [], "completion": [], "group": []}
    groups: dict[str, list[int]] = {}
    first = 0
    for name in TRAIN_CORPORA:
        groups[name] = list(range(first, first + len(documents[name])))
        for key, values in corpus_rows(documents[name], first, **shape).items():
            train[key] += values
        first += len(documents[name])
    out = {
        "train": probe_dataset(train),
        "test": probe_dataset(corpus_rows(documents["holdout"], first, **shape)),
    }
    verb = muse_config(corpus, source, "verbmem", required=True)
    prompts = _column(verb, "verbmem", "forget", "prompt", corpus)
    truths = _column(verb, "verbmem", "forget", "gt", corpus)
    out["verbmem"] = probe_dataset(
        {
            "prompt": prompts,
            "completion": [" " + t.lstrip() for t in truths],
            "group": [best_document(p, documents["forget"], groups["forget"]) for p in prompts],
        }
    )
    know = muse_config(corpus, source, "knowmem", required=False)
    if know is not None:
        sides = {
            "forget": (documents["forget"], groups["forget"]),
            "retain": (documents["retain1"] + documents["retain2"], groups["retain1"] + groups["retain2"]),
        }
        rows: dict[str, list] = {"prompt": [], "completion": [], "group": []}
        for side, (docs, side_groups) in sides.items():
            for key, values in _knowmem(know, side, docs, side_groups, corpus).items():
                rows[key] += values
        out["knowmem"] = probe_dataset(rows)
    return datasets.DatasetDict(out)


def _knowmem(
    know: datasets.DatasetDict, side: str, docs: list[str], groups: list[int], corpus: str
) -> dict[str, list]:
    """KnowMem rows of one side (forget or retain): each question after that side's in-context examples,
    tagged with the document holding its answer (else sharing most words with question and answer)."""
    split, icl = f"{side}_qa", f"{side}_qa_icl"
    questions = _column(know, "knowmem", split, "question", corpus)
    answers = _column(know, "knowmem", split, "answer", corpus)
    examples = (
        list(
            zip(
                _column(know, "knowmem", icl, "question", corpus),
                _column(know, "knowmem", icl, "answer", corpus),
            )
        )
        if icl in know
        else []
    )
    joined = "\n".join(docs)
    qa = [
        (q, a, best_document(a if normalise(a) in joined else f"{q} {a}", docs, groups))
        for q, a in zip(questions, answers)
    ]
    return knowmem_rows(qa, examples)


def muse_upstream_order(corpus: str, source: Any = None) -> list[int]:
    """MUSE's forget corpus as a deletion order of documents (groups 0 … n_forget − 1)."""
    raw = muse_config(corpus, source, "raw", required=True)
    return list(range(len(_column(raw, "raw", "forget", "text", corpus))))


def _path_or_none(source: Any) -> Any:
    return os.fspath(source) if isinstance(source, os.PathLike) else source


def _muse_task(corpus: str, title: str, what: str) -> GenerationTask:
    return GenerationTask(
        name=f"muse_{corpus}",
        modality="text",
        description=(
            f"MUSE-{title}: {what}; forget/retain/holdout documents as prefix -> continuation passages, "
            "VerbMem and KnowMem probes, PrivLeak vs the retrain model; deletion by document."
        ),
        hub=HubSource(MUSE_REPOS[corpus], config_name="raw"),
        build=lambda source: load_muse(corpus, _path_or_none(source)),
        upstream=lambda source: muse_upstream_order(corpus, _path_or_none(source)),
        upstream_forget_set=True,
        group_column="group",
        eval_splits=("test", "verbmem", "knowmem"),
        # open-unlearning's MUSE fine-tuning (configs/experiment/finetune/muse/default.yaml): lr 1e-5,
        # weight decay 0.01, 10 epochs; batch 4 x 8 as its MUSE unlearning configs
        recipe={
            "num_train_epochs": 10.0,
            "learning_rate": 1e-5,
            "weight_decay": 0.01,
            "per_device_train_batch_size": 4,
            "gradient_accumulation_steps": 8,
            "lr_scheduler_type": "linear",
        },
        max_length=1024,
        license="other",  # as the Hub dataset cards state (the Books corpus is copyrighted text)
        source_citation=MUSE_CITATION,
        split_note=(
            "MUSE raw forget+retain1+retain2 (train, by document), holdout (test), verbmem/forget, knowmem; "
            f"passages of {PASSAGE_WORDS} words with {PREFIX_WORDS}-word prompts"
        ),
    )


MUSE_NEWS = register_task(_muse_task("news", "News", "BBC news articles (2023)"))
MUSE_BOOKS = register_task(_muse_task("books", "Books", "the Harry Potter books"))
