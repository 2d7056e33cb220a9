"""Greedy generation for the generation report: prompts (already fitted to the context) in batches of
similar length, left-padded for causal LMs (they continue from the last column), with the KV cache; the
generated ids decoded up to the first end-of-sequence token."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ...objectives.generation import is_encoder_decoder_model

_CONTEXT_ATTRIBUTES = ("max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length")


def context_length(model: nn.Module, tokenizer: Any) -> int | None:
    """How many tokens the model reads at once: its config's position limit, else the tokenizer's
    ``model_max_length`` when that is a real limit; ``None`` when neither says (no truncation)."""
    config = getattr(model, "config", None)
    if not is_encoder_decoder_model(model):
        for name in _CONTEXT_ATTRIBUTES:
            value = getattr(config, name, None)
            if isinstance(value, int) and value > 0:
                return value
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < 1_000_000:
        return limit
    return None


def device_of(model: nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def left_pad(rows: Sequence[list[int]], pad: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
        mask[i, width - len(row) :] = 1
    return ids.to(device), mask.to(device)


def right_pad(rows: Sequence[list[int]], pad: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return ids.to(device), mask.to(device)


def greedy_config(model: nn.Module, tokenizer: Any, max_new_tokens: int) -> Any:
    """The model's generation config made greedy (no sampling, one beam) with explicit pad/eos ids."""
    config = copy.deepcopy(model.generation_config)
    config.do_sample = False
    config.num_beams = 1
    config.max_new_tokens = max_new_tokens
    config.max_length = None
    for name in ("temperature", "top_p", "top_k"):  # sampling settings would only draw warnings
        setattr(config, name, None)
    config.pad_token_id = tokenizer.pad_token_id
    if tokenizer.eos_token_id is not None:
        config.eos_token_id = tokenizer.eos_token_id
    config.use_cache = True
    return config


def decode_generation(tokenizer: Any, ids: Sequence[int]) -> str:
    """Generated ids as text: cut at the first end-of-sequence token, special tokens dropped, stripped."""
    ids = list(ids)
    eos = tokenizer.eos_token_id
    if eos is not None and eos in ids:
        ids = ids[: ids.index(eos)]
    return tokenizer.decode(ids, skip_special_tokens=True).strip()


def generate_batched(
    model: nn.Module,
    tokenizer: Any,
    prompt_ids: Sequence[list[int]],
    *,
    max_new_tokens: int,
    batch_size: int,
    progress: bool = False,
    desc: str = "generating",
) -> list[str]:
    """Greedy generations of ``prompt_ids`` (already fitted to the context), in batches of similar length."""
    seq2seq = is_encoder_decoder_model(model)
    device = device_of(model)
    config = greedy_config(model, tokenizer, max_new_tokens)
    order = np.argsort([len(p) for p in prompt_ids], kind="stable")
    texts = [""] * len(prompt_ids)  # every entry is filled: each index is in exactly one batch
    starts = range(0, len(order), batch_size)
    for start in tqdm(starts, desc=desc, disable=not progress, leave=False):
        chosen = order[start : start + batch_size]
        rows = [prompt_ids[i] for i in chosen]
        pad = right_pad if seq2seq else left_pad  # decoder-only models continue from the last column
        ids, mask = pad(rows, tokenizer.pad_token_id, device)
        out = model.generate(input_ids=ids, attention_mask=mask, generation_config=config)
        new = out if seq2seq else out[:, ids.shape[1] :]
        for i, row in zip(chosen, new.tolist()):
            texts[i] = decode_generation(tokenizer, row)
    return texts
