"""Helpers of the text-to-image tests: the digits_t2i deletion repo (class 3 forgotten), its processed splits
and tiny models built from configs. Nothing is downloaded: the tokenizer is trained on the task's prompts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import pytest
import torch

from mubench_hf.kinds import get_kind
from mubench_hf.tasks import get_task

TASK = "digits_t2i"
CONFIG = "digits_t2i_class3"


@pytest.fixture(scope="session")
def t2i_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The digits_t2i deletion repo with del5 and a class-wise config for digit 3, built once."""
    from mubench_hf import build_splits

    out = tmp_path_factory.mktemp("t2i_repo") / "mubench"
    build_splits(TASK, out, ratios=[5], forget_classes=[3], show_progress=False)
    return out


@pytest.fixture(scope="session")
def t2i_class3(t2i_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> datasets.DatasetDict:
    """The raw ``digits_t2i_class3`` splits (forget: every training 3)."""
    datasets.disable_progress_bars()
    return datasets.load_dataset(str(t2i_repo), CONFIG, cache_dir=str(tmp_path_factory.mktemp("t2i_cache")))


def tiny_parts(raw: Any, seed: int = 0) -> tuple[Any, Any, Any]:
    """(kind, tokenizer, fresh tiny model) of digits_t2i, the weights drawn under ``seed``."""
    task, kind = get_task(TASK), get_kind("image_generation")
    tokenizer = kind.load_processor(task, None, raw)
    torch.manual_seed(seed)
    model = kind.build_model(task, "tiny:unet", raw, tokenizer)
    return kind, tokenizer, model


def small_splits(raw: datasets.DatasetDict, rows: int = 16) -> datasets.DatasetDict:
    """The first ``rows`` rows of every split (the config name kept: the report reads it)."""
    return datasets.DatasetDict({name: split.select(range(min(rows, len(split)))) for name, split in raw.items()})


def processed(raw: datasets.DatasetDict, model: Any, tokenizer: Any) -> datasets.DatasetDict:
    return get_kind("image_generation").process_splits(get_task(TASK), raw, model, tokenizer)


def batch_of(splits: datasets.DatasetDict, split: str, tokenizer: Any, size: int = 4, seed: int = 0) -> dict:
    """A collated batch of the first ``size`` rows of ``split`` (noise and timesteps drawn under ``seed``)."""
    collator = get_kind("image_generation").collator(get_task(TASK), tokenizer)
    torch.manual_seed(seed)
    return collator([splits[split][i] for i in range(size)])
