"""Helpers of the text-to-image tests: the digits_t2i deletion repo (class 3 forgotten), its processed splits
and tiny models built from configs (the repo fixtures t2i_repo and t2i_class3 are in conftest.py). Nothing is
downloaded: the tokenizer is trained on the task's prompts."""

from __future__ import annotations

from typing import Any

import datasets
import torch

from mubench_hf.kinds import get_kind
from mubench_hf.tasks import get_task

TASK = "digits_t2i"
CONFIG = "digits_t2i_class3"


def tiny_parts(raw: Any, seed: int = 0) -> tuple[Any, Any, Any]:
    """(kind, tokenizer, fresh tiny model) of digits_t2i, the weights drawn under ``seed``."""
    task, kind = get_task(TASK), get_kind("image_generation")
    tokenizer = kind.load_processor(task, None, raw)
    torch.manual_seed(seed)
    model = kind.build_model(task, "tiny:unet", raw, tokenizer)
    return kind, tokenizer, model


def small_splits(raw: datasets.DatasetDict, rows: int = 16) -> datasets.DatasetDict:
    """The first ``rows`` rows of every split (the config name kept: the report reads it)."""
    return datasets.DatasetDict(
        {name: split.select(range(min(rows, len(split)))) for name, split in raw.items()}
    )


def processed(raw: datasets.DatasetDict, model: Any, tokenizer: Any) -> datasets.DatasetDict:
    return get_kind("image_generation").process_splits(get_task(TASK), raw, model, tokenizer)


def batch_of(splits: datasets.DatasetDict, split: str, tokenizer: Any, size: int = 4, seed: int = 0) -> dict:
    """A collated batch of the first ``size`` rows of ``split`` (noise and timesteps drawn under ``seed``)."""
    collator = get_kind("image_generation").collator(get_task(TASK), tokenizer)
    torch.manual_seed(seed)
    return collator([splits[split][i] for i in range(size)])
