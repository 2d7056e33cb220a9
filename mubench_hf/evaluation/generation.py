"""The generation report: every generative unlearning metric of a causal or seq2seq LM, in one flat dict.

``generation_report(model, tokenizer, splits, ...)`` scores a language model on TOFU-shaped splits (string
columns ``prompt`` and ``completion``, an int ``sample_id``, optionally ``paraphrased_completion`` and
``perturbed_completions``):

1. batched greedy generation (left padding for causal LMs, the KV cache, prompts sorted by length to
   waste little padding) on every split but the holdout set → ROUGE-L recall (``<split>_rouge_l``);
2. one teacher-forced forward per batch of (prompt, answer) sequences, the true, paraphrased and
   perturbed answers together, giving each answer token's log-probability, the model's argmax, and the
   mean and variance of ``log p`` under its next-token distribution (min-k %++);
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

import copy
import json
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..errors import MubenchError
from ..metrics.generative import (
    DEFAULT_K,
    UTILITY_SPLITS,
    aggregate_truth_ratio,
    answer_probability,
    extraction_strength,
    loss_scores,
    mia_auc,
    min_k_plus_plus_scores,
    min_k_scores,
    model_utility,
    normalised_answer_probability,
    privleak,
    rouge_l_recalls,
    truth_ratio_forget_quality,
    truth_ratios,
    zlib_scores,
)
from ..metrics.plugin_metrics import compute_plugin_metrics

GENERATIONS_FILE = "generations.jsonl"
REQUIRED_SPLITS = ("forget", "retain")
REQUIRED_COLUMNS = ("prompt", "completion", "sample_id")
PARAPHRASED = "paraphrased_completion"
PERTURBED = "perturbed_completions"

#: Every metric of the report, in order (each also as ``original_<name>`` with an original model).
REPORT_METRICS = (
    "forget_rouge_l",
    "retain_rouge_l",
    "forget_answer_prob",
    "truth_ratio",
    "forget_quality",
    "model_utility",
    "mia_loss_auc",
    "mia_zlib_auc",
    "mia_min_k_auc",
    "mia_min_k_plus_plus_auc",
    "privleak",
    "extraction_strength",
)
_CONTEXT_ATTRIBUTES = ("max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length")
# A scoring forward holds (sequences x positions x vocabulary) logits plus their log-softmax; batches are
# split so that this stays below ~256 MB of float32 for real vocabularies (tiny models are never split).
LOGIT_BUDGET = 2**26


# --------------------------------------------------------------------------- models and tokenizers
def is_seq2seq(model: nn.Module) -> bool:
    """Whether ``model`` (or the model inside a PEFT / DDP wrapper) is an encoder–decoder model."""
    while hasattr(model, "module") and isinstance(model.module, nn.Module):
        model = model.module
    return bool(getattr(getattr(model, "config", None), "is_encoder_decoder", False))


def context_length(model: nn.Module, tokenizer: Any) -> int | None:
    """How many tokens the model reads at once: its config's position limit, else the tokenizer's
    ``model_max_length`` when that is a real limit; ``None`` when neither says (no truncation)."""
    config = getattr(model, "config", None)
    if not is_seq2seq(model):
        for name in _CONTEXT_ATTRIBUTES:
            value = getattr(config, name, None)
            if isinstance(value, int) and value > 0:
                return value
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < 1_000_000:
        return limit
    return None


def ensure_pad_token(tokenizer: Any) -> None:
    """Give a tokenizer without a pad token its end-of-sequence token as one (saying so)."""
    if tokenizer.pad_token_id is not None:
        return
    if tokenizer.eos_token is None:
        raise MubenchError(
            "the tokenizer has neither a pad token nor an end-of-sequence token, so batches cannot be padded; "
            "set tokenizer.pad_token (e.g. tokenizer.add_special_tokens({'pad_token': '[PAD]'}) and resize "
            "the model's embeddings)"
        )
    warnings.warn(
        f"the tokenizer has no pad token; using its end-of-sequence token {tokenizer.eos_token!r} as the pad "
        "token for batched generation (tokenizer.pad_token is now set)",
        UserWarning,
        stacklevel=3,
    )
    tokenizer.pad_token = tokenizer.eos_token


def _device(model: nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


# --------------------------------------------------------------------------- tokenisation
@dataclass
class PromptEncoder:
    """Turns prompts and answers into token ids the way the model was fine-tuned (see module docstring).

    ``context`` is the model's context length (``None`` = unlimited); ``chat`` applies the tokenizer's chat
    template; ``seq2seq`` keeps prompt (encoder) and answer (decoder) apart.
    """

    tokenizer: Any
    seq2seq: bool
    chat: bool
    context: int | None

    def _prompt_texts(self, prompts: Sequence[str]) -> list[str]:
        if not self.chat:
            return list(prompts)
        return [
            self.tokenizer.apply_chat_template(
                [{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True
            )
            for p in prompts
        ]

    def _ids(self, texts: Sequence[str], *, special: bool) -> list[list[int]]:
        if not texts:
            return []
        return [list(ids) for ids in self.tokenizer(list(texts), add_special_tokens=special)["input_ids"]]

    def prompt_ids(self, prompts: Sequence[str]) -> list[list[int]]:
        """Untruncated prompt ids (the chat template adds its own special tokens)."""
        return self._ids(self._prompt_texts(prompts), special=not self.chat)

    def answer_ids(self, prompts: Sequence[str], answers: Sequence[str]) -> list[list[int]]:
        """The answer's tokens as the model sees them after its prompt, ending with end-of-sequence."""
        eos = self.tokenizer.eos_token_id
        if self.seq2seq:
            ids = self._ids([str(a) for a in answers], special=True)  # T5-style tokenizers append </s>
        else:
            if self.chat:
                prompt_texts = self._prompt_texts(prompts)
                full = [
                    self.tokenizer.apply_chat_template(
                        [{"role": "user", "content": p}, {"role": "assistant", "content": a}], tokenize=False
                    )
                    for p, a in zip(prompts, answers)
                ]
                special = False
            else:
                prompt_texts = list(prompts)
                full = [p + a for p, a in zip(prompts, answers)]
                special = True
            prompt_ids = self._ids(prompt_texts, special=special)
            full_ids = self._ids(full, special=special)
            ids = []
            for p_ids, f_ids, p_text, f_text in zip(prompt_ids, full_ids, prompt_texts, full):
                if f_ids[: len(p_ids)] == p_ids:
                    ids.append(f_ids[len(p_ids) :])
                else:
                    # the prompt's last token merged with the answer's first: tokenise the answer alone
                    rest = f_text[len(p_text) :] if f_text.startswith(p_text) else f_text
                    ids.append(self._ids([rest], special=False)[0])
        if eos is not None:
            ids = [row if row and row[-1] == eos else [*row, eos] for row in ids]
        return ids

    def fit_prompt(self, prompt: list[int], room: int | None) -> tuple[list[int], bool]:
        """``prompt`` cut from the left to ``room`` tokens (at least one); whether it was cut."""
        if room is None or len(prompt) <= room:
            return prompt, False
        return prompt[len(prompt) - max(room, 1) :], True


# --------------------------------------------------------------------------- per-model outputs
@dataclass
class SplitScores:
    """One model's outputs on one split: generations and, per scored answer, its token statistics."""

    predictions: list[str] | None = None
    # per row: the answer's statistics (see score_answers), the paraphrase's (None without one) and the
    # perturbed answers' (a list, possibly empty)
    answer: list[dict[str, np.ndarray]] = field(default_factory=list)
    paraphrase: list[dict[str, np.ndarray] | None] = field(default_factory=list)
    perturbed: list[list[dict[str, np.ndarray]]] = field(default_factory=list)
    truncated_rows: set[int] = field(default_factory=set)


def _left_pad(rows: Sequence[list[int]], pad: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
        mask[i, width - len(row) :] = 1
    return ids.to(device), mask.to(device)


def _right_pad(
    rows: Sequence[list[int]], pad: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
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
    seq2seq = is_seq2seq(model)
    device = _device(model)
    config = greedy_config(model, tokenizer, max_new_tokens)
    order = np.argsort([len(p) for p in prompt_ids], kind="stable")
    texts = [""] * len(prompt_ids)  # every entry is filled: each index is in exactly one batch
    starts = range(0, len(order), batch_size)
    for start in tqdm(starts, desc=desc, disable=not progress, leave=False):
        chosen = order[start : start + batch_size]
        rows = [prompt_ids[i] for i in chosen]
        pad = _right_pad if seq2seq else _left_pad  # decoder-only models continue from the last column
        ids, mask = pad(rows, tokenizer.pad_token_id, device)
        out = model.generate(input_ids=ids, attention_mask=mask, generation_config=config)
        new = out if seq2seq else out[:, ids.shape[1] :]
        for i, row in zip(chosen, new.tolist()):
            texts[i] = decode_generation(tokenizer, row)
    return texts


@torch.no_grad()
def _vocab_size(model: nn.Module) -> int:
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    weight = getattr(head, "weight", None)
    if weight is not None:
        return int(weight.shape[0])
    return int(getattr(getattr(model, "config", None), "vocab_size", 1) or 1)


def _chunks(lengths: Sequence[int], order: np.ndarray, batch_size: int, per_token: int) -> list[np.ndarray]:
    """``order`` (sorted by length) cut into batches of at most ``batch_size`` sequences whose logits fit
    :data:`LOGIT_BUDGET`."""
    chunks: list[np.ndarray] = []
    current: list[int] = []
    longest = 0
    for i in order:
        wider = max(longest, lengths[i])
        if current and (len(current) >= batch_size or (len(current) + 1) * wider * per_token > LOGIT_BUDGET):
            chunks.append(np.array(current))
            current, wider = [], lengths[i]
        current.append(int(i))
        longest = wider
    if current:
        chunks.append(np.array(current))
    return chunks


def score_answers(
    model: nn.Module,
    pairs: Sequence[tuple[list[int], list[int]]],
    *,
    pad_token_id: int,
    batch_size: int,
    progress: bool = False,
    desc: str = "scoring",
) -> list[dict[str, np.ndarray]]:
    """Teacher-forced statistics of each (prompt ids, answer ids) pair, one forward per batch of up to
    ``batch_size`` pairs (fewer where a real vocabulary's logits would not fit :data:`LOGIT_BUDGET`).

    Returns per pair: ``log_probs`` (each answer token's log-probability), ``argmax`` (the model's top
    token at each answer position), ``mean`` and ``var`` (of ``log p`` under the next-token
    distribution there), ``target`` (the answer ids).
    """
    seq2seq = is_seq2seq(model)
    device = _device(model)
    lengths = [len(a) if seq2seq else len(p) + len(a) for p, a in pairs]
    order = np.argsort(lengths, kind="stable")
    results: list[dict[str, np.ndarray] | None] = [None] * len(pairs)
    chunks = _chunks(lengths, order, batch_size, _vocab_size(model))
    for chosen in tqdm(chunks, desc=desc, disable=not progress, leave=False):
        batch = [pairs[i] for i in chosen]
        targets = [a for _, a in batch]
        t_max = max(len(a) for a in targets)
        target_ids = torch.full((len(batch), t_max), pad_token_id, dtype=torch.long)
        target_mask = torch.zeros((len(batch), t_max), dtype=torch.bool)
        for i, a in enumerate(targets):
            target_ids[i, : len(a)] = torch.tensor(a, dtype=torch.long)
            target_mask[i, : len(a)] = True
        target_ids, target_mask = target_ids.to(device), target_mask.to(device)
        if seq2seq:
            ids, mask = _right_pad([p for p, _ in batch], pad_token_id, device)
            labels = target_ids.masked_fill(~target_mask, -100)
            inputs: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
            shift = getattr(model, "prepare_decoder_input_ids_from_labels", None)
            if shift is not None:
                inputs["decoder_input_ids"] = shift(labels=labels)
            else:
                inputs["labels"] = labels
            logits = model(**inputs).logits
        else:
            ids, mask = _right_pad([p + a for p, a in batch], pad_token_id, device)
            full = model(input_ids=ids, attention_mask=mask).logits
            # position len(prompt) + t - 1 predicts answer token t
            offsets = torch.tensor([len(p) - 1 for p, _ in batch], device=device)
            positions = offsets[:, None] + torch.arange(t_max, device=device)[None, :]
            positions = positions.clamp(max=full.shape[1] - 1)
            logits = full.gather(1, positions[:, :, None].expand(-1, -1, full.shape[-1]))
        log_probs = torch.log_softmax(logits.float(), dim=-1)
        probs = log_probs.exp()
        token = log_probs.gather(-1, target_ids[:, :, None]).squeeze(-1)
        mean = (probs * log_probs).sum(-1)
        var = (probs * log_probs.square()).sum(-1) - mean.square()
        argmax = logits.argmax(-1)
        stats = {
            name: value.cpu().numpy()
            for name, value in {
                "log_probs": token.double(),
                "mean": mean.double(),
                "var": var.double(),
                "argmax": argmax,
            }.items()
        }
        for row, (i, a) in enumerate(zip(chosen, targets)):
            n = len(a)
            results[i] = {name: value[row, :n] for name, value in stats.items()}
            results[i]["target"] = np.asarray(a, dtype=np.int64)
    return [r for r in results if r is not None]


def _texts(split: Any, column: str) -> list[str]:
    return [str(v) for v in split[column]]


def _optional_column(split: Any, column: str) -> list[Any] | None:
    return list(split[column]) if column in split.column_names else None


def score_split(
    model: nn.Module,
    tokenizer: Any,
    encoder: PromptEncoder,
    split: Any,
    *,
    generate: bool,
    alternatives: bool,
    max_new_tokens: int,
    batch_size: int,
    progress: bool,
    name: str,
) -> SplitScores:
    """Generations (when ``generate``) and answer statistics (true answer; paraphrased and perturbed ones
    when ``alternatives``) of one model on one split."""
    prompts, answers = _texts(split, "prompt"), _texts(split, "completion")
    scores = SplitScores()
    prompt_ids = encoder.prompt_ids(prompts)
    if generate:
        room = None if encoder.context is None or encoder.seq2seq else encoder.context - max_new_tokens
        if room is not None and room < 1:
            raise MubenchError(
                f"max_new_tokens={max_new_tokens} leaves no room for a prompt in the model's context of "
                f"{encoder.context} tokens; use max_new_tokens below {encoder.context}"
            )
        if encoder.seq2seq:
            room = encoder.context
        fitted = []
        for row, ids in enumerate(prompt_ids):
            ids, cut = encoder.fit_prompt(ids, room)
            fitted.append(ids)
            if cut:
                scores.truncated_rows.add(row)
        scores.predictions = generate_batched(
            model,
            tokenizer,
            fitted,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            progress=progress,
            desc=f"generating {name}",
        )
    # every answer to score, flattened: (row, kind, answer text)
    wanted: list[tuple[int, str, str]] = [(row, "answer", a) for row, a in enumerate(answers)]
    if alternatives:
        paraphrased = _optional_column(split, PARAPHRASED)
        perturbed = _optional_column(split, PERTURBED)
        for row in range(len(answers)):
            if paraphrased is not None and paraphrased[row]:
                wanted.append((row, "paraphrase", str(paraphrased[row])))
            for text in (perturbed[row] or []) if perturbed is not None else []:
                if text:
                    wanted.append((row, "perturbed", str(text)))
    answer_ids = encoder.answer_ids([prompts[row] for row, _, _ in wanted], [text for _, _, text in wanted])
    pairs = []
    for (row, _, _), target in zip(wanted, answer_ids):
        if encoder.context is not None and not encoder.seq2seq and len(target) >= encoder.context:
            target = target[: encoder.context - 1]  # an answer longer than the context keeps its start
        room = (
            None
            if encoder.context is None
            else (encoder.context if encoder.seq2seq else encoder.context - len(target))
        )
        ids, cut = encoder.fit_prompt(prompt_ids[row], room)
        if cut:
            scores.truncated_rows.add(row)
        pairs.append((ids, target))
    # one forward per batch of rows: the answers of ``batch_size`` rows together
    per_row = max(1, round(len(pairs) / len(answers)))
    stats = score_answers(
        model,
        pairs,
        pad_token_id=tokenizer.pad_token_id,
        batch_size=batch_size * per_row,
        progress=progress,
        desc=f"scoring {name}",
    )
    scores.answer = [None] * len(answers)  # type: ignore[list-item]
    scores.paraphrase = [None] * len(answers)
    scores.perturbed = [[] for _ in answers]
    for (row, kind, _), stat in zip(wanted, stats):
        if kind == "answer":
            scores.answer[row] = stat
        elif kind == "paraphrase":
            scores.paraphrase[row] = stat
        else:
            scores.perturbed[row].append(stat)
    return scores


# --------------------------------------------------------------------------- metrics from outputs
def _avg_loss(stat: Mapping[str, np.ndarray]) -> float:
    return float(-stat["log_probs"].mean()) if stat["log_probs"].size else 0.0


def _without_eos(stat: Mapping[str, np.ndarray], eos: int | None) -> dict[str, np.ndarray]:
    """The answer's tokens minus a final end-of-sequence token (open-unlearning's min-k and extraction
    strength score the answer proper, not the stop token)."""
    if eos is not None and stat["target"].size and stat["target"][-1] == eos:
        return {name: value[:-1] for name, value in stat.items()}
    return dict(stat)


def truth_ratio_statistics(scores: SplitScores) -> np.ndarray | None:
    """Per-row truth-ratio statistics R = p(false)/p(true) over the rows with perturbed answers; the true
    answer is the paraphrase where the row has one, else the answer itself (TOFU's real authors and world
    facts). ``None`` when no row has perturbed answers."""
    rows = [row for row, wrong in enumerate(scores.perturbed) if wrong]
    if not rows:
        return None
    correct = [_avg_loss(scores.paraphrase[r] or scores.answer[r]) for r in rows]
    wrong = [[_avg_loss(s) for s in scores.perturbed[r]] for r in rows]
    return truth_ratios(correct, wrong)


def _split_probability(name: str, scores: SplitScores) -> float:
    """TOFU's "Prob.": plain on forget and retain, normalised against the perturbed answers elsewhere."""
    true = [_avg_loss(s) for s in scores.answer]
    rows = [row for row, wrong in enumerate(scores.perturbed) if wrong]
    if name in REQUIRED_SPLITS or not rows:
        return answer_probability(true)
    return normalised_answer_probability(
        [true[r] for r in rows], [[_avg_loss(s) for s in scores.perturbed[r]] for r in rows]
    )


def _mia_scores(
    scores: SplitScores, texts: Sequence[str], eos: int | None, k: float
) -> dict[str, np.ndarray]:
    avg = np.array([_avg_loss(s) for s in scores.answer])
    trimmed = [_without_eos(s, eos) for s in scores.answer]
    return {
        "loss": loss_scores([s["log_probs"] for s in scores.answer]),
        "zlib": zlib_scores(avg, texts),
        "min_k": min_k_scores([s["log_probs"] for s in trimmed], k=k),
        "min_k_plus_plus": min_k_plus_plus_scores(
            [s["log_probs"] for s in trimmed], [s["mean"] for s in trimmed], [s["var"] for s in trimmed], k=k
        ),
    }


def _model_metrics(
    outputs: Mapping[str, SplitScores],
    splits: Mapping[str, Any],
    *,
    holdout: str | None,
    retrain: Mapping[str, SplitScores] | None,
    eos: int | None,
    k: float,
) -> dict[str, float | None]:
    """Every metric of one model from its split outputs (and the retrain model's, for the relative ones)."""
    metrics: dict[str, float | None] = dict.fromkeys(REPORT_METRICS)
    for name, scores in outputs.items():
        if scores.predictions is not None:
            metrics[f"{name}_rouge_l"] = float(
                rouge_l_recalls(scores.predictions, _texts(splits[name], "completion")).mean()
            )
    forget = outputs["forget"]
    metrics["forget_answer_prob"] = answer_probability([_avg_loss(s) for s in forget.answer])
    ratios = truth_ratio_statistics(forget)
    if ratios is not None:
        metrics["truth_ratio"] = aggregate_truth_ratio(ratios, "closer_to_1_better")
        retrain_ratios = truth_ratio_statistics(retrain["forget"]) if retrain else None
        if retrain_ratios is not None:
            metrics["forget_quality"] = truth_ratio_forget_quality(ratios, retrain_ratios)
    utility: dict[str, float] = {}
    for name, scores in outputs.items():
        if name in ("forget", holdout):
            continue
        metrics[f"{name}_answer_prob"] = _split_probability(name, scores)
        split_ratios = truth_ratio_statistics(scores)
        if split_ratios is not None:
            metrics[f"{name}_truth_ratio"] = aggregate_truth_ratio(split_ratios, "true_better")
        if name in UTILITY_SPLITS:
            for metric in ("answer_prob", "rouge_l", "truth_ratio"):
                value = metrics.get(f"{name}_{metric}")
                if value is not None:
                    utility[f"{name}_{metric}"] = value
    if utility:
        metrics["model_utility"] = model_utility(utility)
    trimmed = [_without_eos(s, eos) for s in forget.answer]
    metrics["extraction_strength"] = extraction_strength(
        [s["argmax"] for s in trimmed], [s["target"] for s in trimmed]
    )
    if holdout is not None and holdout in outputs:
        member = _mia_scores(forget, _texts(splits["forget"], "completion"), eos, k)
        other = _mia_scores(outputs[holdout], _texts(splits[holdout], "completion"), eos, k)
        for attack in member:
            metrics[f"mia_{attack}_auc"] = mia_auc(member[attack], other[attack])
        if retrain is not None and holdout in retrain:
            retrain_auc = mia_auc(
                _mia_scores(retrain["forget"], _texts(splits["forget"], "completion"), eos, k)["min_k"],
                _mia_scores(retrain[holdout], _texts(splits[holdout], "completion"), eos, k)["min_k"],
            )
            metrics["privleak"] = privleak(metrics["mia_min_k_auc"], retrain_auc)
    return metrics


# --------------------------------------------------------------------------- the report
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
    if is_seq2seq(model) != seq2seq:
        kinds = {True: "a sequence-to-sequence", False: "a causal"}
        raise MubenchError(
            f"{role} is {kinds[is_seq2seq(model)]} LM but the model under test is {kinds[seq2seq]} one; "
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
) -> dict[str, SplitScores]:
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return {
                name: score_split(
                    model,
                    tokenizer,
                    encoder,
                    splits[name],
                    generate=generate and name != holdout,
                    alternatives=name != holdout,
                    max_new_tokens=max_new_tokens,
                    batch_size=batch_size,
                    progress=progress,
                    name=name,
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
    seq2seq = is_seq2seq(model)
    _check_model(model, "model", seq2seq)
    for role, other in (("original_model", original_model), ("retrain_model", retrain_model)):
        if other is not None:
            _check_model(other, role, seq2seq)
    ensure_pad_token(tokenizer)
    chat = _resolve_chat(tokenizer, chat_template, seq2seq)
    context = max_length if max_length is not None else context_length(model, tokenizer)
    encoder = PromptEncoder(tokenizer, seq2seq=seq2seq, chat=chat, context=context)
    holdout = holdout_split if holdout_split in splits else None
    names = list(splits)
    common = dict(holdout=holdout, max_new_tokens=max_new_tokens, batch_size=batch_size, progress=progress)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        outputs = _evaluate_model(model, tokenizer, encoder, splits, names, generate=True, **common)
        original = (
            _evaluate_model(original_model, tokenizer, encoder, splits, names, generate=True, **common)
            if original_model is not None
            else None
        )
        retrain_names = [n for n in ("forget", holdout) if n is not None]
        retrain = (
            _evaluate_model(
                retrain_model, tokenizer, encoder, splits, retrain_names, generate=False, **common
            )
            if retrain_model is not None
            else None
        )
    eos = tokenizer.eos_token_id
    report: dict[str, Any] = _model_metrics(outputs, splits, holdout=holdout, retrain=retrain, eos=eos, k=k)
    report["truncated_prompts"] = sum(len(s.truncated_rows) for s in outputs.values())
    plugin_inputs = dict(outputs=outputs, splits=splits, retrain=retrain, original=original, holdout=holdout)
    report.update(compute_plugin_metrics("generation", plugin_inputs))  # metrics declared by plugins
    if original is not None:
        for name, value in _model_metrics(
            original, splits, holdout=holdout, retrain=retrain, eos=eos, k=k
        ).items():
            report[f"original_{name}"] = value
    if output_dir is not None:
        write_generations(Path(output_dir) / GENERATIONS_FILE, splits, outputs)
    return report
