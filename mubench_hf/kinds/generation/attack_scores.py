"""The forget metrics of an attacked language model (weights rounded, or relearned on part of Df), from one
scoring pass over the forget rows: greedy generation for ROUGE-L recall and the teacher-forced answer for the
answer probability and the extraction strength, encoded and batched exactly as the report does
(:func:`~.report.generation_report`, with the report's :class:`~.unlearning_report.GenerationSettings`).

The paraphrase attack (:func:`generation_probe_scores`) scores the model itself on rephrased probes
(:mod:`.probes`): the same metrics on the forget rows asked in other words, and for a MUSE-shaped task KnowMem
on its forget documents' questions asked in other words; one pass per probe split, batched as the report."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ...metrics.generative import answer_probability, extraction_strength, rouge_l_recalls
from ...metrics.generative.muse import knowmem
from ...modalities.base import COMPLETION_COLUMN
from ...modalities.prompt_encoding import PromptEncoder
from ...objectives.generation import is_encoder_decoder_model
from .decode import context_length
from .metrics import _avg_loss, _without_eos
from .muse_report import muse_probe_splits
from .probes import probe_rows
from .report import _resolve_chat
from .score import SplitScores, score_split, texts_of
from .tokenizer import ensure_pad_token
from .unlearning_report import CHAT_TEMPLATE_MODES, MAX_BATCH_SIZE, _raw, settings_of

#: what an attack on a language model is scored with (``<metric>_after_<attack>``), the headline first
ATTACK_METRICS = ("forget_rouge_l", "forget_answer_prob", "extraction_strength")
#: what the paraphrase attack reports: the forget metrics on the reworded forget rows, and MUSE's KnowMem on
#: the reworded questions about the forget documents (MUSE-shaped tasks only)
PROBE_METRICS = (*ATTACK_METRICS, "knowmem_forget")


def _score(
    trainer: Any, model: nn.Module, rows: Any, settings: Any, seed: int | None, *, score: bool, name: str
) -> SplitScores:
    """One scoring pass of ``model`` over the string rows ``rows``, set up as the report sets it up."""
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
            return score_split(
                model, tokenizer, encoder, rows, generate=True, alternatives=False, score=score,
                max_new_tokens=settings.max_new_tokens, batch_size=batch_size, progress=False, name=name,
            )  # fmt: skip
    finally:
        model.train(was_training)


def _forget_metrics(
    trainer: Any, model: nn.Module, rows: Any, settings: Any, seed: int | None
) -> dict[str, float]:
    scores = _score(trainer, model, rows, settings, seed, score=True, name="forget")
    trimmed = [_without_eos(s, trainer.processing_class.eos_token_id) for s in scores.answer]
    return {
        "forget_rouge_l": float(
            rouge_l_recalls(scores.predictions, texts_of(rows, COMPLETION_COLUMN)).mean()
        ),
        "forget_answer_prob": answer_probability([_avg_loss(s) for s in scores.answer]),
        "extraction_strength": extraction_strength(
            [s["argmax"] for s in trimmed], [s["target"] for s in trimmed]
        ),
    }


def generation_forget_scores(
    trainer: Any, model: nn.Module, forget: Any, settings: Any = None, seed: int | None = None
) -> dict[str, float]:
    """``ATTACK_METRICS`` of ``model`` on the forget rows ``forget`` (see the module docstring)."""
    return _forget_metrics(trainer, model, _raw(forget), settings_of(trainer, settings), seed)


def generation_probe_scores(
    trainer: Any,
    model: nn.Module,
    splits: Any,
    settings: Any = None,
    *,
    seed: int,
    source: str = "auto",
) -> dict[str, float]:
    """``PROBE_METRICS`` of ``model`` on the rephrased probes (:mod:`.probes`, drawn with ``seed``) of the
    report's ``splits``: the forget metrics on the forget rows, KnowMem on the KnowMem questions about the
    forget documents where the task has them (left out otherwise)."""
    settings = settings_of(trainer, settings)
    forget = _raw(splits["forget"])
    out = _forget_metrics(trainer, model, probe_rows(forget, seed, source), settings, None)
    # the KnowMem questions about the forget documents (VerbMem's prefixes are not needed: left out)
    wanted = {name: splits[name] for name in ("forget", "retain", "knowmem") if name in splits}
    knowmem_rows = muse_probe_splits(wanted, trainer.processing_class, settings.max_new_tokens).get(
        "knowmem_forget"
    )
    if knowmem_rows is not None:  # generated only, as the report scores KnowMem
        probes = probe_rows(knowmem_rows, seed, source)
        scores = _score(trainer, model, probes, settings, None, score=False, name="knowmem_forget")
        out["knowmem_forget"] = knowmem(scores.predictions, texts_of(probes, COMPLETION_COLUMN))
    return out
