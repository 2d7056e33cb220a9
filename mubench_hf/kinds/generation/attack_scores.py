"""The forget metrics of an attacked language model (weights rounded, or relearned on part of Df), from one
scoring pass over the forget rows: greedy generation for ROUGE-L recall and the teacher-forced answer for the
answer probability and the extraction strength, encoded and batched exactly as the report does
(:func:`~.report.generation_report`, with the report's :class:`~.unlearning_report.GenerationSettings`).

A MUSE-shaped task is scored as its report scores it: VerbMem and KnowMem on the probes of the documents whose
passages are scored (one generation pass per probe split; :func:`~.muse_report.muse_probe_splits`) replace
forget ROUGE-L, which the report does not generate for such a task; the teacher-forced metrics stay.

The paraphrase attack (:func:`generation_probe_scores`) scores the model itself on rephrased probes
(:mod:`.probes`): the same metrics on the forget rows asked in other words, or for a MUSE-shaped task VerbMem
on its forget documents' prefixes and KnowMem on their questions, each reworded; one pass per probe split,
batched as the report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ...metrics.generative import answer_probability, extraction_strength, rouge_l_recalls
from ...metrics.generative.muse import knowmem, verbmem
from ...modalities.base import COMPLETION_COLUMN, GROUP_COLUMN
from ...modalities.prompt_encoding import PromptEncoder
from ...objectives.generation import is_encoder_decoder_model
from .decode import context_length
from .metrics import _avg_loss, _without_eos
from .muse_report import KNOWMEM, VERBMEM, muse_probe_splits
from .probes import probe_rows
from .report import _resolve_chat
from .score import SplitScores, score_split, texts_of
from .tokenizer import ensure_pad_token
from .unlearning_report import CHAT_TEMPLATE_MODES, MAX_BATCH_SIZE, _raw, settings_of

#: what an attack on a language model is scored with (``<metric>_after_<attack>``): forget ROUGE-L (TOFU-shaped
#: tasks) or VerbMem and KnowMem on the forget documents (MUSE-shaped tasks; :data:`MUSE_HEADLINES`), then the
#: teacher-forced answer probability and extraction strength; a task reports those it has
ATTACK_METRICS = (
    "forget_rouge_l",
    "verbmem_forget",
    "knowmem_forget",
    "forget_answer_prob",
    "extraction_strength",
)
#: the headline forget metrics of a MUSE-shaped task (VerbMem: MUSE's first axis; KnowMem on the forget side)
MUSE_HEADLINES = ("verbmem_forget", "knowmem_forget")
#: what the paraphrase attack reports: the forget metrics on the reworded forget rows, or a MUSE-shaped task's
#: VerbMem and KnowMem on its reworded probes
PROBE_METRICS = ATTACK_METRICS
#: the metrics the leaderboard's robustness tables show, one table each where the cells hold it
ROBUSTNESS_METRICS = ("forget_rouge_l", *MUSE_HEADLINES)


def _muse_probes(
    forget: Any, splits: Mapping[str, Any] | None, tokenizer: Any, max_new_tokens: int
) -> dict[str, Any]:
    """The VerbMem / KnowMem probe splits of the documents of ``forget`` (``{}`` outside MUSE-shaped tasks)."""
    sources = {name: splits[name] for name in (VERBMEM, KNOWMEM) if splits is not None and name in splits}
    if not sources:
        return {}
    probes = muse_probe_splits({**sources, "forget": forget}, tokenizer, max_new_tokens)
    return {name: probes[name] for name in MUSE_HEADLINES if name in probes}


def document_groups(forget: Any, splits: Mapping[str, Any] | None) -> Sequence[int] | None:
    """The documents (``group``) of the forget rows of a MUSE-shaped task (one with VerbMem or KnowMem probes
    in ``splits``), the unit its relearning attack splits Df by; ``None`` for any other task."""
    if splits is None or not any(name in splits for name in (VERBMEM, KNOWMEM)):
        return None
    rows = _raw(forget)
    if GROUP_COLUMN not in rows.column_names:
        return None  # muse_probe_splits refuses such a split by name when it is scored
    return [int(g) for g in rows[GROUP_COLUMN]]


def _score(
    trainer: Any,
    model: nn.Module,
    rows: Any,
    settings: Any,
    seed: int | None,
    *,
    score: bool,
    name: str,
    generate: bool = True,
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
                model, tokenizer, encoder, rows, generate=generate, alternatives=False, score=score,
                max_new_tokens=settings.max_new_tokens, batch_size=batch_size, progress=False, name=name,
                statistics=("argmax",),  # extraction strength reads it; no attack metric reads min-k++'s
            )  # fmt: skip
    finally:
        model.train(was_training)


def _forget_metrics(
    trainer: Any, model: nn.Module, rows: Any, settings: Any, seed: int | None, *, generate: bool = True
) -> dict[str, float]:
    """The teacher-forced forget metrics of ``rows``, with forget ROUGE-L when ``generate``."""
    scores = _score(trainer, model, rows, settings, seed, score=True, name="forget", generate=generate)
    trimmed = [_without_eos(s, trainer.processing_class.eos_token_id) for s in scores.answer]
    out = {
        "forget_answer_prob": answer_probability([_avg_loss(s) for s in scores.answer]),
        "extraction_strength": extraction_strength(
            [s["argmax"] for s in trimmed], [s["target"] for s in trimmed]
        ),
    }
    if generate:
        out["forget_rouge_l"] = float(
            rouge_l_recalls(scores.predictions, texts_of(rows, COMPLETION_COLUMN)).mean()
        )
    return out


def _muse_metrics(
    trainer: Any, model: nn.Module, probes: Mapping[str, Any], settings: Any
) -> dict[str, float]:
    """VerbMem / KnowMem of ``model`` on the probe splits ``probes``: generated only, as the report scores them."""
    out = {}
    for name, rows in probes.items():
        scores = _score(trainer, model, rows, settings, None, score=False, name=name)
        score = verbmem if name.startswith(VERBMEM) else knowmem
        out[name] = score(scores.predictions, texts_of(rows, COMPLETION_COLUMN))
    return out


def generation_forget_scores(
    trainer: Any,
    model: nn.Module,
    forget: Any,
    settings: Any = None,
    seed: int | None = None,
    *,
    splits: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """``ATTACK_METRICS`` of ``model`` on the forget rows ``forget`` (see the module docstring); ``splits``:
    the report's, whose MUSE probes (if any) of ``forget``'s documents are scored too."""
    settings = settings_of(trainer, settings)
    forget = _raw(forget)
    probes = _muse_probes(forget, splits, trainer.processing_class, settings.max_new_tokens)
    # MUSE: VerbMem replaces forget ROUGE-L, as in the report (which generates on the probes only)
    out = _forget_metrics(trainer, model, forget, settings, seed, generate=not probes)
    out.update(_muse_metrics(trainer, model, probes, settings))
    return out


def generation_probe_scores(
    trainer: Any,
    model: nn.Module,
    splits: Any,
    settings: Any = None,
    *,
    seed: int,
    source: str = "auto",
    original: Any = None,
) -> dict[str, float]:
    """``PROBE_METRICS`` of ``model`` on the rephrased probes (:mod:`.probes`, drawn with ``seed``) of the
    report's ``splits``: the forget metrics on the forget rows, or on a MUSE-shaped task VerbMem on its forget
    documents' prefixes and KnowMem on their questions (the report's own MUSE axes; the passages themselves
    are not asked, as the report does not generate on them). ``original`` (the original model, a module:
    the attacks load it once): the same metrics of it on the same probes, as ``original_<metric>``."""
    settings = settings_of(trainer, settings)
    forget = _raw(splits["forget"])
    probes = _muse_probes(forget, splits, trainer.processing_class, settings.max_new_tokens)
    if probes:
        asked = {name: probe_rows(rows, seed, source) for name, rows in probes.items()}
        scorer = lambda m: _muse_metrics(trainer, m, asked, settings)  # noqa: E731
    else:
        reworded = probe_rows(forget, seed, source)
        scorer = lambda m: _forget_metrics(trainer, m, reworded, settings, None)  # noqa: E731
    out = scorer(model)
    if original is not None:
        out.update({f"original_{name}": value for name, value in scorer(original).items()})
    return out
