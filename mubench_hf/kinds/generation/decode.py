"""Greedy generation for the generation report: prompts (already fitted to the context) in batches of
similar length, left-padded for causal LMs (they continue from the last column), with the KV cache; the
generated ids decoded up to the first end-of-sequence token. A leading part every prompt of a batch shares
(few-shot examples, a system prompt) is encoded once and its cache copied to each row."""

from __future__ import annotations

import copy
import inspect
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


#: prompts of a batch that share at least this many leading tokens have them encoded once (MUSE's KnowMem
#: probes share ~125 tokens of few-shot examples: a third less generation time on the MUSE-shaped bench)
MIN_SHARED_PREFIX = 16


def shared_prefix_length(rows: Sequence[list[int]]) -> int:
    """How many leading tokens all ``rows`` share, leaving at least one token of each row after them (the
    step that predicts the first new token must read one)."""
    limit = min(len(r) for r in rows) - 1
    first = rows[0]
    for n in range(max(limit, 0)):
        token = first[n]
        if any(r[n] != token for r in rows):
            return n
    return max(limit, 0)


def _cache_argument(model: nn.Module) -> str | None:
    """The name under which the model's forward takes a KV cache (``cache``; ``past_key_values`` before
    transformers renamed it), or ``None`` when it names neither (wrappers with ``**kwargs``: not shared) or
    takes no ``position_ids`` (the padding between the beginning and the rest would then shift the rest)."""
    parameters = inspect.signature(model.forward).parameters
    if "position_ids" not in parameters:
        return None
    return next((name for name in ("cache", "past_key_values") if name in parameters), None)


class _PrefixCaches:
    """KV caches of shared prompt prefixes, computed once per prefix (one row, no padding) and copied to a
    batch; ``None`` where the model cannot take one (no cache argument, a static or non-copyable cache)."""

    def __init__(self, model: nn.Module, config: Any) -> None:
        self.model = model
        self.argument = None if getattr(config, "cache_implementation", None) else _cache_argument(model)
        self.computed: dict[tuple[int, ...], Any] = {}

    def for_batch(self, prefix: list[int], rows: int) -> Any | None:
        if self.argument is None:
            return None
        key = tuple(prefix)
        if key not in self.computed:
            ids = torch.tensor([prefix], device=device_of(self.model))
            with torch.no_grad():
                out = self.model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True)
            cache = getattr(out, "cache", None)
            if cache is None:  # transformers before the rename
                cache = getattr(out, "past_key_values", None)
            usable = cache is not None and hasattr(cache, "batch_repeat_interleave")
            self.computed[key] = cache if usable else None
        cache = self.computed[key]
        if cache is None:
            return None
        copied = copy.deepcopy(cache)
        copied.batch_repeat_interleave(rows)
        return copied


def _batches(prompt_ids: Sequence[list[int]], batch_size: int, seq2seq: bool) -> list[np.ndarray]:
    """Prompt indices in batches of similar length. For a causal LM, prompts that begin alike (the same first
    :data:`MIN_SHARED_PREFIX` tokens, as few-shot probes do) fill whole batches of their own first, so that
    a short unrelated prompt does not break a batch's shared beginning; what is left of each group joins the
    other prompts. Only whole batches are set apart, so there are never more batches than by length alone."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, prompt in enumerate(prompt_ids):
        key = () if seq2seq or len(prompt) <= MIN_SHARED_PREFIX else tuple(prompt[:MIN_SHARED_PREFIX])
        groups.setdefault(key, []).append(i)
    leftover = groups.pop((), [])
    batches: list[np.ndarray] = []
    for members in groups.values():
        order = _by_length(prompt_ids, members)
        whole = len(order) - len(order) % batch_size
        batches += [order[start : start + batch_size] for start in range(0, whole, batch_size)]
        leftover += order[whole:].tolist()
    order = _by_length(prompt_ids, sorted(leftover))
    return batches + [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def _by_length(prompt_ids: Sequence[list[int]], members: Sequence[int]) -> np.ndarray:
    return np.asarray(members, dtype=np.int64)[
        np.argsort([len(prompt_ids[i]) for i in members], kind="stable")
    ]


def _prefixed_left_pad(
    rows: Sequence[list[int]], prefix_length: int, pad: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """The shared prefix in the first columns, then each row's rest left-padded (the padding sits between
    them, masked; positions are counted from the mask, so every token keeps its unpadded position)."""
    ids, mask = left_pad([r[prefix_length:] for r in rows], pad, device)
    prefix = torch.tensor(rows[0][:prefix_length], dtype=torch.long, device=device).expand(len(rows), -1)
    return torch.cat([prefix, ids], dim=1), torch.cat([torch.ones_like(prefix), mask], dim=1)


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
    texts = [""] * len(prompt_ids)  # every entry is filled: each index is in exactly one batch
    prefixes = _PrefixCaches(model, config)
    for chosen in tqdm(
        _batches(prompt_ids, batch_size, seq2seq), desc=desc, disable=not progress, leave=False
    ):
        rows = [prompt_ids[i] for i in chosen]
        shared = 0 if seq2seq else shared_prefix_length(rows)
        cache = prefixes.for_batch(rows[0][:shared], len(rows)) if shared >= MIN_SHARED_PREFIX else None
        extra = {} if cache is None else {prefixes.argument: cache}
        if cache is not None:
            ids, mask = _prefixed_left_pad(rows, shared, tokenizer.pad_token_id, device)
        else:
            pad = right_pad if seq2seq else left_pad  # decoder-only models continue from the last column
            ids, mask = pad(rows, tokenizer.pad_token_id, device)
        out = model.generate(input_ids=ids, attention_mask=mask, generation_config=config, **extra)
        new = out if seq2seq else out[:, ids.shape[1] :]
        for i, row in zip(chosen, new.tolist()):
            texts[i] = decode_generation(tokenizer, row)
    return texts
