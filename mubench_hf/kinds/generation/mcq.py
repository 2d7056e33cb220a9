"""Our own scoring of multiple-choice splits (``forget_mcq``, ``utility_mcq``: ``tasks/mcq.py``), the way
lm-evaluation-harness scores a ``multiple_choice`` task with its HF model wrapper (``lm_eval`` 0.4.13,
``api/model.py`` ``TemplateLM._encode_pair`` and ``models/huggingface.py`` ``HFLM._loglikelihood_tokens``):

* the context is tokenized as the tokenizer does by default (BOS where it adds one); for a causal LM the
  continuation's tokens are those of ``context + continuation`` after the context's own (a BPE may merge
  across the boundary otherwise); a seq2seq LM gets the context as encoder input and the continuation
  tokenized alone, without special tokens;
* trailing spaces of the context move to the continuation;
* a choice's score is the sum of its continuation tokens' log-probabilities (no EOS is scored);
* a context too long for the model's positions loses its start (the harness keeps one token more, as it
  drops the last token from the input: the two differ only at that boundary).

The forward passes are the generation report's (``score.score_answers``); accuracies come from
``metrics.mcq``. ``tests/test_wmdp.py`` checks that the harness gives the same numbers on the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from ...metrics.mcq import mcq_accuracy
from ...modalities.base import ANSWER_COLUMN, CHOICES_COLUMN, PROMPT_COLUMN
from ...objectives.generation import is_encoder_decoder_model
from ...tasks.mcq import TARGET_DELIMITER, is_mcq_split
from .score import score_answers

MCQ_SPLITS = ("forget_mcq", "utility_mcq")


def encode_choice(
    tokenizer: Any, context: str, continuation: str, *, seq2seq: bool
) -> tuple[list[int], list[int]]:
    """(context ids, continuation ids) of one choice (module docstring)."""
    spaces = len(context) - len(context.rstrip())
    if spaces:
        context, continuation = context[:-spaces], context[-spaces:] + continuation
    context_ids = list(tokenizer(context)["input_ids"])
    if seq2seq:
        return context_ids, list(tokenizer(continuation, add_special_tokens=False)["input_ids"])
    whole = list(tokenizer(context + continuation)["input_ids"])
    return context_ids, whole[len(context_ids) :]


def _fit(context: list[int], continuation: list[int], limit: int | None) -> list[int]:
    """The context cut from the left so that context + continuation fit ``limit`` positions."""
    if limit is None or len(context) + len(continuation) <= limit:
        return context
    return context[max(len(context) - max(limit - len(continuation), 1), 0) :]


@torch.no_grad()
def choice_log_likelihoods(
    model: nn.Module, tokenizer: Any, split: Any, *, batch_size: int = 16, progress: bool = False
) -> list[np.ndarray]:
    """Per question, the summed log-likelihood of each choice's continuation after its prompt."""
    seq2seq = is_encoder_decoder_model(model)
    limit = None if seq2seq else getattr(getattr(model, "config", None), "max_position_embeddings", None)
    limit = limit or getattr(getattr(model, "config", None), "n_positions", None)
    prompts, choices = list(split[PROMPT_COLUMN]), list(split[CHOICES_COLUMN])
    pairs, owner = [], []
    for row, (prompt, options) in enumerate(zip(prompts, choices)):
        for option in options:
            context, continuation = encode_choice(
                tokenizer, prompt, TARGET_DELIMITER + option, seq2seq=seq2seq
            )
            pairs.append((_fit(context, continuation, limit), continuation))
            owner.append(row)
    stats = score_answers(model, pairs, pad_token_id=int(tokenizer.pad_token_id), batch_size=batch_size,
                          progress=progress, desc="scoring choices")  # fmt: skip
    out: list[list[float]] = [[] for _ in prompts]
    for row, stat in zip(owner, stats):
        out[row].append(float(stat["log_probs"].sum()))
    return [np.asarray(v) for v in out]


def mcq_split_accuracy(model: nn.Module, tokenizer: Any, split: Any, *, batch_size: int = 16) -> float:
    """The harness's ``acc`` of ``model`` on a multiple-choice split."""
    lls = choice_log_likelihoods(model, tokenizer, split, batch_size=batch_size)
    return mcq_accuracy(lls, [int(a) for a in split[ANSWER_COLUMN]])


def mcq_metrics(
    model: nn.Module,
    tokenizer: Any,
    splits: Mapping[str, Any],
    *,
    original_model: nn.Module | None = None,
    retrain_model: nn.Module | None = None,
    batch_size: int = 16,
) -> dict[str, float]:
    """``<split>_accuracy`` of every multiple-choice split present (``forget_mcq``, ``utility_mcq``), with
    ``original_`` and ``retrain_`` values when those models are given; ``{}`` for tasks without such splits."""
    out: dict[str, float] = {}
    for name in MCQ_SPLITS:
        split = splits.get(name)
        if split is None:
            continue
        split = split.with_format(None) if hasattr(split, "with_format") else split
        if not is_mcq_split(split):
            continue
        for prefix, scored in (("", model), ("original_", original_model), ("retrain_", retrain_model)):
            if scored is not None:
                out[f"{prefix}{name}_accuracy"] = mcq_split_accuracy(
                    scored, tokenizer, split, batch_size=batch_size
                )
    return out
