"""The forget metrics of an attacked language model (weights rounded, or relearned on part of Df), from one
scoring pass over the forget rows: greedy generation for ROUGE-L recall and the teacher-forced answer for the
answer probability and the extraction strength, encoded and batched exactly as the report does
(:func:`~.report.generation_report`, with the report's :class:`~.unlearning_report.GenerationSettings`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ...metrics.generative import answer_probability, extraction_strength, rouge_l_recalls
from ...modalities.base import COMPLETION_COLUMN
from ...modalities.prompt_encoding import PromptEncoder
from ...objectives.generation import is_encoder_decoder_model
from .decode import context_length
from .metrics import _avg_loss, _without_eos
from .report import _resolve_chat
from .score import score_split, texts_of
from .tokenizer import ensure_pad_token
from .unlearning_report import CHAT_TEMPLATE_MODES, MAX_BATCH_SIZE, _raw, settings_of

#: what an attack on a language model is scored with (``<metric>_after_<attack>``), the headline first
ATTACK_METRICS = ("forget_rouge_l", "forget_answer_prob", "extraction_strength")


def generation_forget_scores(
    trainer: Any, model: nn.Module, forget: Any, settings: Any = None, seed: int | None = None
) -> dict[str, float]:
    """``ATTACK_METRICS`` of ``model`` on the forget rows ``forget`` (see the module docstring)."""
    settings = settings_of(trainer, settings)
    rows = _raw(forget)
    tokenizer = trainer.processing_class
    ensure_pad_token(tokenizer)
    seq2seq = is_encoder_decoder_model(model)
    chat = _resolve_chat(tokenizer, CHAT_TEMPLATE_MODES[settings.chat_template], seq2seq)
    context = settings.max_length if settings.max_length is not None else context_length(model, tokenizer)
    encoder = PromptEncoder(tokenizer, seq2seq=seq2seq, chat=chat, context=context)
    batch_size = settings.batch_size or max(
        1, min(MAX_BATCH_SIZE, int(trainer.args.per_device_eval_batch_size))
    )
    was_training = model.training
    model.eval()
    try:
        with torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(int(trainer.args.seed) if seed is None else seed)
            scores = score_split(
                model, tokenizer, encoder, rows, generate=True, alternatives=False,
                max_new_tokens=settings.max_new_tokens, batch_size=batch_size, progress=False, name="forget",
            )  # fmt: skip
    finally:
        model.train(was_training)
    trimmed = [_without_eos(s, tokenizer.eos_token_id) for s in scores.answer]
    return {
        "forget_rouge_l": float(
            rouge_l_recalls(scores.predictions, texts_of(rows, COMPLETION_COLUMN)).mean()
        ),
        "forget_answer_prob": answer_probability([_avg_loss(s) for s in scores.answer]),
        "extraction_strength": extraction_strength(
            [s["argmax"] for s in trimmed], [s["target"] for s in trimmed]
        ),
    }
