"""The generation report: every generative unlearning metric of a causal or seq2seq LM, in one flat dict.

``generation_report(model, tokenizer, splits, ...)`` scores a language model on TOFU-shaped splits (string
columns ``prompt`` and ``completion``, an int ``sample_id``, optionally ``paraphrased_completion`` and
``perturbed_completions``):

1. batched greedy generation (left padding for causal LMs, the KV cache, prompts sorted by length to
   waste little padding) on every split but the holdout set, the splits' prompts pooled in one pass so that
   no split ends in a nearly empty batch of its own → ROUGE-L recall (``<split>_rouge_l``);
2. one teacher-forced forward per batch of (prompt, answer) sequences, the true, paraphrased and
   perturbed answers together, giving each answer token's log-probability and, where a metric reads them,
   the model's argmax (forget) and the mean and variance of ``log p`` under its next-token distribution
   (min-k %++: forget and holdout; every statistic everywhere when a plugin metric is registered);
3. from those: answer probability, truth ratio, forget quality against a retrain model, TOFU's model
   utility, the LOSS / zlib / min-k % / min-k %++ membership AUCs (forget vs holdout), MUSE's PrivLeak
   against the retrain model and the extraction strength (:mod:`mubench_hf.metrics.generative`);
4. the same for the original model (``original_<metric>``), and ``generations.jsonl`` in ``output_dir``.

Tokenisation follows TRL's prompt–completion convention: the answer tokens are what ``prompt + answer``
tokenises to after the prompt's tokens, with the end-of-sequence token appended (the model learned to
stop). With a chat template (``chat_template=None`` uses the tokenizer's when it has one) the prompt is
the user turn and the answer the assistant turn. A seq2seq model reads the prompt in its encoder and the
answer is its decoder target. Prompts longer than the context (prompt + answer, or prompt +
``max_new_tokens`` when generating) lose their beginning; the report counts them
(``truncated_prompts``). A tokenizer without a pad token gets its end-of-sequence token as one, with a
warning.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...errors import MubenchError
from ...metrics.generative import DEFAULT_K
from ...metrics.plugin_metrics import compute_plugin_metrics, plugin_specs
from ...modalities.prompt_encoding import PromptEncoder
from ...objectives.generation import is_encoder_decoder_model
from .decode import context_length
from .metrics import REPORT_METRICS, REQUIRED_SPLITS, model_metrics, needed_statistics
from .reference_scores import ReusedPromptEncoder, pool_identity, reference_scores
from .score import OPTIONAL_STATISTICS, SplitScores, generate_pooled, score_split
from .tokenizer import ensure_pad_token

GENERATIONS_FILE = "generations.jsonl"
REQUIRED_COLUMNS = ("prompt", "completion", "sample_id")

__all__ = ["GENERATIONS_FILE", "REPORT_METRICS", "PromptEncoder", "generation_report", "write_generations"]


def _check_splits(splits: Mapping[str, Any]) -> None:
    missing = [name for name in REQUIRED_SPLITS if name not in splits]
    if missing:
        raise MubenchError(
            f"generation_report needs the splits {list(REQUIRED_SPLITS)}; missing {missing} "
            f"(given: {sorted(splits)})"
        )
    for name, split in splits.items():
        columns = getattr(split, "column_names", None)
        if columns is None:
            raise MubenchError(f"split {name!r} must be a datasets.Dataset; got {type(split).__name__}")
        absent = [c for c in REQUIRED_COLUMNS if c not in columns]
        if absent:
            raise MubenchError(
                f"split {name!r} lacks the column(s) {absent}; a generation split has string columns "
                f"'prompt' and 'completion' and an int 'sample_id' (it has {columns})"
            )
        if len(split) == 0:
            raise MubenchError(f"split {name!r} is empty; every split needs at least one row")


def _resolve_chat(tokenizer: Any, chat_template: bool | None, seq2seq: bool) -> bool:
    has_template = bool(getattr(tokenizer, "chat_template", None))
    if chat_template is None:
        return has_template and not seq2seq
    if chat_template and seq2seq:
        raise MubenchError("chat_template=True applies to causal LMs; a seq2seq model reads the prompt as is")
    if chat_template and not has_template:
        raise MubenchError(
            "chat_template=True but the tokenizer has no chat template; pass chat_template=False"
        )
    return bool(chat_template)


def _check_model(model: nn.Module, role: str, seq2seq: bool) -> None:
    if is_encoder_decoder_model(model) != seq2seq:
        kinds = {True: "a sequence-to-sequence", False: "a causal"}
        raise MubenchError(
            f"{role} is {kinds[is_encoder_decoder_model(model)]} LM but the model under test is "
            f"{kinds[seq2seq]} one; "
            "the original and retrain models must share the architecture"
        )
    if not hasattr(model, "generate"):
        raise MubenchError(
            f"{role} ({type(model).__name__}) has no generate(); give an AutoModelForCausalLM "
            "or AutoModelForSeq2SeqLM"
        )


def _evaluate_model(
    model: nn.Module,
    tokenizer: Any,
    encoder: PromptEncoder,
    splits: Mapping[str, Any],
    names: Sequence[str],
    *,
    holdout: str | None,
    generate: bool,
    max_new_tokens: int,
    batch_size: int,
    progress: bool,
    cached: bool = False,
    generate_splits: Sequence[str] | None = None,
    generation_only: Sequence[str] = (),
    retrain: bool = False,
    all_statistics: bool = True,
) -> dict[str, SplitScores]:
    generating = [
        name
        for name in names
        if generate and name != holdout and (generate_splits is None or name in generate_splits)
    ]
    # every generating split in one pooled generation pass (generate_pooled), run when first needed: not at
    # all when the reference cache holds every split of a reference model
    pooled = functools.cache(
        lambda: generate_pooled(model, tokenizer, encoder, {n: splits[n] for n in generating},
                                max_new_tokens=max_new_tokens, batch_size=batch_size, progress=progress)
    )  # fmt: skip
    # a reference model's (original, retrain) values are the same in every report on these rows: cached,
    # under a key that names the pool its generations came from
    score = (
        functools.partial(reference_scores, pool=pool_identity({n: splits[n] for n in generating}))
        if cached
        else score_split
    )
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return {
                name: score(
                    model,
                    tokenizer,
                    encoder,
                    splits[name],
                    generate=name in generating,
                    generated=(lambda name=name: pooled()[name]) if name in generating else None,
                    alternatives=name != holdout,
                    score=name not in generation_only,
                    max_new_tokens=max_new_tokens,
                    batch_size=batch_size,
                    progress=progress,
                    name=name,
                    statistics=OPTIONAL_STATISTICS
                    if all_statistics
                    else needed_statistics(name, holdout=holdout, retrain=retrain),
                )
                for name in names
            }
    finally:
        model.train(was_training)


def write_generations(path: Path, splits: Mapping[str, Any], outputs: Mapping[str, SplitScores]) -> Path:
    """``generations.jsonl``: one line per generated row (split, sample_id, prompt, reference, prediction),
    written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, scores in outputs.items():
        if scores.predictions is None:
            continue
        split = splits[name]
        for sample_id, prompt, reference, prediction in zip(
            split["sample_id"], split["prompt"], split["completion"], scores.predictions
        ):
            record = {
                "split": name,
                "sample_id": int(sample_id),
                "prompt": prompt,
                "reference": reference,
                "prediction": prediction,
            }
            lines.append(json.dumps(record, ensure_ascii=False))
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + ("\n" if lines else ""))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def generation_report(
    model: nn.Module,
    tokenizer: Any,
    splits: Mapping[str, Any],
    *,
    original_model: nn.Module | None = None,
    retrain_model: nn.Module | None = None,
    holdout_split: str | None = "holdout",
    batch_size: int = 16,
    max_new_tokens: int = 64,
    output_dir: str | Path | None = None,
    seed: int = 0,
    chat_template: bool | None = None,
    k: float = DEFAULT_K,
    max_length: int | None = None,
    progress: bool = True,
    generate_splits: Sequence[str] | None = None,
    generation_only: Sequence[str] = (),
) -> dict[str, float]:
    """Every generative unlearning metric of ``model`` (see the module docstring), as one flat dict.

    Args:
        model: the model under test, an ``AutoModelForCausalLM`` or ``AutoModelForSeq2SeqLM`` (PEFT works).
        tokenizer: its tokenizer; one without a pad token gets its end-of-sequence token as pad (warned).
        splits: ``{"forget": ..., "retain": ..., [holdout_split]: ..., "real_authors": ..., ...}``, each a
            ``datasets.Dataset`` with ``prompt``, ``completion``, ``sample_id`` and optionally
            ``paraphrased_completion`` / ``perturbed_completions``.
        original_model: the model before unlearning: adds ``original_<metric>`` for every metric.
        retrain_model: the model fine-tuned without the forget set: gives ``forget_quality`` (KS test of the
            forget truth ratios) and ``privleak`` (min-k % AUC relative to the retrain model's); both are
            ``None`` without it. Only its forget and holdout outputs are computed.
        holdout_split: the split of never-trained rows the MIAs compare the forget set with (``None`` or a
            name not in ``splits``: the MIA AUCs and privleak are ``None``).
        batch_size: rows per generation batch and answers per scoring forward.
        max_new_tokens: greedy generation length limit.
        output_dir: where ``generations.jsonl`` goes (not written when ``None``).
        seed: seeds torch for the duration of the report (greedy decoding itself draws nothing).
        chat_template: wrap prompts and answers in the tokenizer's chat template; ``None`` = when it has one
            (causal LMs only). Use what the model was fine-tuned with.
        k: the share of lowest tokens min-k % and min-k %++ average (open-unlearning: 0.4).
        max_length: the context length to truncate to (default: the model's, see :func:`context_length`).
        progress: show progress bars.
        generate_splits: the splits to generate on (``None``: every split but the holdout). A MUSE-shaped
            task generates on its probes only: its VerbMem probes are the forget text's continuations.
        generation_only: splits that are generated on but not teacher-forced (MUSE's probes: VerbMem and
            KnowMem read the generations only); they get no answer probability or truth ratio.

    Returns:
        ``forget_rouge_l``, ``retain_rouge_l``, ``<split>_rouge_l`` (other splits), ``forget_answer_prob``,
        ``truth_ratio``, ``forget_quality``, ``model_utility``, ``mia_loss_auc``, ``mia_zlib_auc``,
        ``mia_min_k_auc``, ``mia_min_k_plus_plus_auc``, ``privleak``, ``extraction_strength``, the model
        utility's components (``<split>_answer_prob``, ``<split>_truth_ratio``), ``truncated_prompts`` and
        ``original_<metric>`` for each metric with an original model. Metrics that cannot be computed from
        what was given are ``None``.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise MubenchError(f"batch_size must be a positive integer; got {batch_size!r}")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise MubenchError(f"max_new_tokens must be a positive integer; got {max_new_tokens!r}")
    _check_splits(splits)
    seq2seq = is_encoder_decoder_model(model)
    _check_model(model, "model", seq2seq)
    for role, other in (("original_model", original_model), ("retrain_model", retrain_model)):
        if other is not None:
            _check_model(other, role, seq2seq)
    ensure_pad_token(tokenizer)
    chat = _resolve_chat(tokenizer, chat_template, seq2seq)
    context = max_length if max_length is not None else context_length(model, tokenizer)
    # tokenised once for every model of the report
    encoder = ReusedPromptEncoder(tokenizer, seq2seq=seq2seq, chat=chat, context=context)
    holdout = holdout_split if holdout_split in splits else None
    names = list(splits)
    common = dict(
        holdout=holdout,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        progress=progress,
        generate_splits=generate_splits,
        generation_only=tuple(generation_only),
        # only the per-token statistics some metric reads are computed; a plugin metric may read any
        all_statistics=bool(plugin_specs("generation")),
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        outputs = _evaluate_model(model, tokenizer, encoder, splits, names, generate=True, **common)
        original = (
            _evaluate_model(
                original_model, tokenizer, encoder, splits, names, generate=True, cached=True, **common
            )
            if original_model is not None
            else None
        )
        retrain_names = [n for n in ("forget", holdout) if n is not None]
        retrain = (
            _evaluate_model(
                retrain_model,
                tokenizer,
                encoder,
                splits,
                retrain_names,
                generate=False,
                cached=True,
                retrain=True,
                **common,
            )
            if retrain_model is not None
            else None
        )
    eos = tokenizer.eos_token_id
    report: dict[str, Any] = model_metrics(outputs, splits, holdout=holdout, retrain=retrain, eos=eos, k=k)
    report["truncated_prompts"] = sum(len(s.truncated_rows) for s in outputs.values())
    plugin_inputs = dict(outputs=outputs, splits=splits, retrain=retrain, original=original, holdout=holdout)
    report.update(compute_plugin_metrics("generation", plugin_inputs))  # metrics declared by plugins
    if original is not None:
        for name, value in model_metrics(
            original, splits, holdout=holdout, retrain=retrain, eos=eos, k=k
        ).items():
            report[f"original_{name}"] = value
    if output_dir is not None:
        write_generations(Path(output_dir) / GENERATIONS_FILE, splits, outputs)
    return report
