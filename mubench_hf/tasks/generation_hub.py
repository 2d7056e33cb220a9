"""Generation tasks read from the Hugging Face Hub: ``tofu`` and ``samsum``.

**tofu** (``locuslab/TOFU``, Maini et al. 2024): 200 fictitious authors × 20 QA in config ``full``
(columns ``question``, ``answer``; author ``i`` holds rows ``20i … 20i+19``). Our rows: ``prompt`` =
``"Question: <question>\\nAnswer:"``, ``completion`` = ``" <answer>"``, ``group`` = the author. TOFU's
``forget10_perturbed`` and ``retain_perturbed`` configs give ``paraphrased_answer``, ``perturbed_answer``
(a list) and ``paraphrased_question`` for the forget authors and 400 retain rows: they become
``paraphrased_completion``, ``perturbed_completions`` and ``paraphrased_prompt`` (the paraphrased question in
the prompt's format, what open-unlearning's ``question_key: paraphrased_question`` asks) of the matching train
rows (matched by question; ``""`` / ``[]`` elsewhere).
Evaluation splits as TOFU defines them: ``test`` ← ``holdout10`` (20 authors never in ``full``),
``real_authors`` ← ``real_authors_perturbed``, ``world_facts`` ← ``world_facts_perturbed`` (with their
perturbed answers where the config has them). ``tofu_del1/5/10`` forget 2/10/20 authors; built with
``order=tofu_upstream_order(...)`` (``mubench build-splits --task tofu --order upstream``) they are exactly the
authors of TOFU's ``forget01/05/10``: that order lists forget01's authors, then the rest of forget05's, then
the rest of forget10's.

``source=`` replaces the Hub: a mapping ``{config name: Dataset or DatasetDict}`` or a folder holding one
sub-folder per config (``full/``, ``forget01/`` …; each written by ``save_to_disk`` or readable by
``datasets.load_dataset``). ``full`` and ``holdout10`` (the test split) are required; building the task
also needs ``real_authors_perturbed`` and ``world_facts_perturbed`` (or ``real_authors`` /
``world_facts``: the splits it scores), and ``--order upstream`` needs ``forget01/05/10``. The others are
optional, and a config that is there must not be empty.
Authors are TOFU's blocks of 20 questions, checked against the forget configs (a copy whose authors have
another number of questions is refused with that reason), or an ``author`` column of ``full`` and
``holdout10`` where a copy has one (``tofu_authors.py``).

**samsum** (``Samsung/samsum``, Gliwa et al. 2019): messenger-like dialogues with human summaries,
train / validation / test (columns ``id``, ``dialogue``, ``summary``). ``prompt`` =
``"Summarize the dialogue.\\n<dialogue>\\nSummary:"``, ``completion`` = ``" <summary>"``; a seq2seq task
(MU-Bench trains T5 v1.1 on it). ``source=`` takes a local copy with the upstream schema.

**celeb_profile** (MU-Bench's celebrity-profile generation task) is not registered: MU-Bench's loader for it
is a stub and no public Hub copy of its data could be found.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from ..errors import MubenchError
from .generation import GenerationTask
from .registry import register_task
from .sources import HubSource, load_hub_source, load_source
from .tofu_authors import TOFU_QUESTIONS_PER_AUTHOR, author_groups, check_forget_configs, forget_authors

__all__ = ["TOFU_QUESTIONS_PER_AUTHOR", "load_samsum", "load_tofu", "tofu_config", "tofu_upstream_order"]

TOFU_REPO = "locuslab/TOFU"
TOFU_FORGET_CONFIGS = ("forget01", "forget05", "forget10")
TOFU_PERTURBED_CONFIGS = ("forget10_perturbed", "retain_perturbed")
TOFU_EVAL_CONFIGS = {
    "test": "holdout10",
    "real_authors": "real_authors_perturbed",
    "world_facts": "world_facts_perturbed",
}
TOFU_CITATION = """@article{maini2024tofu,
  title   = {TOFU: A Task of Fictitious Unlearning for LLMs},
  author  = {Maini, Pratyush and Feng, Zhili and Schwarzschild, Avi and Lipton, Zachary C. and Kolter, J. Zico},
  journal = {arXiv preprint arXiv:2401.06121},
  year    = {2024}
}"""
SAMSUM_REPO = "Samsung/samsum"
QA_PROMPT = "Question: {question}\nAnswer:"
DIALOGUE_PROMPT = "Summarize the dialogue.\n{dialogue}\nSummary:"


def _as_dataset(value: Any, config: str) -> datasets.Dataset:
    if isinstance(value, datasets.DatasetDict):
        if len(value) != 1:
            raise MubenchError(
                f"tofu: config {config!r} should hold one split (TOFU's 'train'), not {list(value)}"
            )
        return next(iter(value.values()))
    if isinstance(value, datasets.Dataset):
        return value
    raise MubenchError(
        f"tofu: config {config!r} must be a Dataset or DatasetDict, not {type(value).__name__}"
    )


def tofu_config(source: Any, config: str, *, required: bool = False) -> datasets.Dataset | None:
    """One TOFU config from ``source`` (see the module docstring) or the Hub; ``None`` when an optional one
    is missing from a local source. A config that is there but empty is refused by name."""
    ds = _tofu_config(source, config, required)
    if ds is not None and len(ds) == 0:
        raise MubenchError(
            f"tofu: config {config!r} of the source is empty; give it its rows"
            + (" (the task needs it)" if required else ", or leave it out")
        )
    return ds


def _tofu_config(source: Any, config: str, required: bool) -> datasets.Dataset | None:
    if source is None:
        try:
            raw = load_hub_source(
                HubSource(TOFU_REPO, config_name=config), f"task 'tofu' ({config})", "--source DIR"
            )
        except MubenchError:
            if required:
                raise
            return None
        return _as_dataset(raw, config)
    if isinstance(source, Mapping):
        if config not in source:
            if required:
                raise MubenchError(f"tofu: the source has no {config!r} config (it has {sorted(source)})")
            return None
        return _as_dataset(source[config], config)
    folder = Path(source) / config
    if not folder.exists():
        if required:
            raise MubenchError(f"tofu: {Path(source)} has no {config}/ folder (TOFU's {config!r} config)")
        return None
    return _as_dataset(load_source(folder, what=f"tofu config {config!r}"), config)


def _qa_rows(ds: datasets.Dataset) -> dict[str, list]:
    for column in ("question", "answer"):
        if column not in ds.column_names:
            raise MubenchError(f"tofu: a config has no {column!r} column (its columns: {ds.column_names})")
    return {
        "prompt": [QA_PROMPT.format(question=q) for q in ds["question"]],
        "completion": [" " + a for a in ds["answer"]],
    }


def _extras(ds: datasets.Dataset) -> tuple[list[str], list[list[str]], list[str]]:
    """(paraphrased completions, perturbed completions, paraphrased prompts) of a config's rows."""
    n = len(ds)
    para = ds["paraphrased_answer"] if "paraphrased_answer" in ds.column_names else [""] * n
    pert = ds["perturbed_answer"] if "perturbed_answer" in ds.column_names else [[] for _ in range(n)]
    pert = [[p] if isinstance(p, str) else list(p) for p in pert]
    asked = ds["paraphrased_question"] if "paraphrased_question" in ds.column_names else [""] * n
    return (
        [" " + p if p else "" for p in para],
        [[" " + x for x in row] for row in pert],
        [QA_PROMPT.format(question=q) if q else "" for q in asked],
    )


def load_tofu(source: Any = None) -> datasets.DatasetDict:
    """TOFU as canonical splits (see the module docstring)."""
    full = tofu_config(source, "full", required=True)
    rows = _qa_rows(full)
    n = len(full)
    groups = author_groups(full, "full")
    # the forget configs that are there must hold whole authors: else the authors are not the copy's
    forget = {c: tofu_config(source, c) for c in TOFU_FORGET_CONFIGS}
    check_forget_configs(full, groups, {c: ds for c, ds in forget.items() if ds is not None})
    num_authors = int(groups.max()) + 1
    rows["group"] = groups.tolist()
    paraphrased, perturbed, asked = [""] * n, [[] for _ in range(n)], [""] * n
    row_of = {q: i for i, q in enumerate(full["question"])}
    for config in TOFU_PERTURBED_CONFIGS:
        extra = tofu_config(source, config)
        if extra is None:
            continue
        for q, p, options, prompt in zip(extra["question"], *_extras(extra)):
            if q in row_of:
                paraphrased[row_of[q]], perturbed[row_of[q]], asked[row_of[q]] = p, options, prompt
    rows["paraphrased_completion"], rows["perturbed_completions"] = paraphrased, perturbed
    rows["paraphrased_prompt"] = asked
    out = {"train": datasets.Dataset.from_dict(rows)}
    for split, config in TOFU_EVAL_CONFIGS.items():
        ds = tofu_config(source, config)
        if ds is None and config.endswith("_perturbed"):
            config = config.removesuffix("_perturbed")
            ds = tofu_config(source, config)
        if ds is None:
            continue
        split_rows = _qa_rows(ds)
        (
            split_rows["paraphrased_completion"],
            split_rows["perturbed_completions"],
            split_rows["paraphrased_prompt"],
        ) = _extras(ds)
        # holdout authors are not in full: their groups continue after it. Real authors and world facts
        # are scored, never deleted, and come in any number (117 world facts): blocks of 20 after train's.
        split_rows["group"] = (
            author_groups(ds, config, first=num_authors)
            if split == "test"
            else num_authors + np.arange(len(ds)) // TOFU_QUESTIONS_PER_AUTHOR
        ).tolist()
        out[split] = datasets.Dataset.from_dict(split_rows)
    if "test" not in out:
        raise MubenchError(
            "tofu: no holdout10 config in the source; TOFU's holdout authors are the test split (non-members)"
        )
    return datasets.DatasetDict(out)


def tofu_upstream_order(source: Any = None) -> list[int]:
    """The author order under which ``tofu_del1/5/10`` are TOFU's ``forget01/05/10``: forget01's authors,
    then forget05's others, then forget10's others (each in ascending author index)."""
    full = tofu_config(source, "full", required=True)
    groups = author_groups(full, "full")
    order: list[int] = []
    for config in TOFU_FORGET_CONFIGS:
        forget = tofu_config(source, config, required=True)
        order += [a for a in forget_authors(full, groups, config, forget) if a not in order]
    return order


def load_samsum(source: Any = None) -> datasets.DatasetDict:
    """SAMSum as prompt–completion rows (train / validation / test)."""
    raw = (
        load_source(source, what="source for task 'samsum'")
        if source is not None
        else load_hub_source(HubSource(SAMSUM_REPO), "task 'samsum'", "--source PATH")
    )
    out = {}
    for split in ("train", "validation", "test"):
        if split not in raw:
            raise MubenchError(f"samsum: the source has no {split!r} split (it has {sorted(raw)})")
        ds = raw[split]
        for column in ("dialogue", "summary"):
            if column not in ds.column_names:
                raise MubenchError(f"samsum: split {split!r} has no {column!r} column ({ds.column_names})")
        # a few upstream dialogues are empty: nothing to summarise
        keep = [i for i, d in enumerate(ds["dialogue"]) if d and d.strip()]
        ds = ds.select(keep)
        out[split] = datasets.Dataset.from_dict(
            {
                "prompt": [DIALOGUE_PROMPT.format(dialogue=d.strip()) for d in ds["dialogue"]],
                "completion": [" " + s.strip() for s in ds["summary"]],
                "sample_id": keep,
            }
        )
    return datasets.DatasetDict(out)


def _path_or_none(source: Any) -> Any:
    return os.fspath(source) if isinstance(source, os.PathLike) else source


TOFU = register_task(
    GenerationTask(
        name="tofu",
        modality="text",
        description="TOFU: 200 fictitious authors x 20 QA; forget whole authors (1/5/10 %), holdout, real authors, world facts.",
        hub=HubSource(TOFU_REPO),
        build=lambda source: load_tofu(_path_or_none(source)),
        upstream=lambda source: tofu_upstream_order(_path_or_none(source)),
        group_column="group",
        extra_columns=("paraphrased_completion", "perturbed_completions", "paraphrased_prompt"),
        eval_splits=("test", "real_authors", "world_facts"),
        recipe={
            "num_train_epochs": 5.0,
            "learning_rate": 1e-5,
            "per_device_train_batch_size": 4,
            "gradient_accumulation_steps": 4,
            "warmup_steps": 0,
            "weight_decay": 0.01,
            "lr_scheduler_type": "linear",
        },
        max_length=512,
        license="mit",
        source_citation=TOFU_CITATION,
        split_note="TOFU full (train), holdout10 (test), real_authors, world_facts; deletion by author",
    )
)

SAMSUM = register_task(
    GenerationTask(
        name="samsum",
        modality="text",
        description="SAMSum: ~16k messenger dialogues with human-written summaries (dialogue -> summary), seq2seq.",
        hub=HubSource(SAMSUM_REPO),
        build=lambda source: load_samsum(_path_or_none(source)),
        architecture="seq2seq",
        eval_splits=("validation", "test"),
        recipe={
            "num_train_epochs": 3.0,
            "learning_rate": 3e-4,
            "per_device_train_batch_size": 8,
            "lr_scheduler_type": "linear",
        },
        max_length=512,
        license="cc-by-nc-nd-4.0",
        source_citation="Gliwa et al., SAMSum Corpus, Workshop on New Frontiers in Summarization 2019",
        split_note="Samsung/samsum train / validation / test (empty dialogues dropped)",
    )
)
