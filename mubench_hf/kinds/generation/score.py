"""Teacher-forced scoring for the generation report: each answer's per-token statistics under a model (one
forward per batch of prompt–answer pairs), and a split's generations and answer statistics together
(:class:`SplitScores`). Prompts and answers are encoded by the shared ``PromptEncoder``, as in training."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ...errors import MubenchError
from ...modalities.base import COMPLETION_COLUMN, PARAPHRASED_COLUMN, PERTURBED_COLUMN, PROMPT_COLUMN
from ...modalities.prompt_encoding import PromptEncoder
from ...objectives.generation import is_encoder_decoder_model
from .decode import device_of, generate_batched, right_pad

# A scoring forward holds (sequences x positions x vocabulary) logits plus their log-softmax; batches are
# split so that this stays below ~256 MB of float32 for real vocabularies (tiny models are never split).
LOGIT_BUDGET = 2**26


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


# Rows of logits handled at once by _token_statistics: a block's float32 temporaries (a few
# STATISTICS_BLOCK x vocabulary arrays) stay small enough for the allocator to reuse them, where whole-batch
# temporaries of hundreds of MB are fresh pages on every batch (measured: 2-3x slower on the tiny models).
STATISTICS_BLOCK = 256


#: the per-token statistics :func:`score_answers` can add to each answer's log-probabilities and ids: the
#: mean and variance of ``log p`` under the next-token distribution (min-k %++ reads them) and the model's
#: argmax token (extraction strength reads it)
OPTIONAL_STATISTICS = ("mean", "var", "argmax")


def _token_statistics(
    logits: torch.Tensor,
    rows: torch.Tensor | None,
    positions: torch.Tensor | None,
    targets: torch.Tensor,
    statistics: frozenset[str],
) -> dict[str, np.ndarray]:
    """Per scored token (``logits[rows, positions]``, or row by row of ``logits`` already taken at the
    answer positions when ``rows`` is ``None``, predicting ``targets``): its log-probability (``log_probs``)
    and those of :data:`OPTIONAL_STATISTICS` named in ``statistics``. Only the answer positions are read (no
    padding), in blocks of :data:`STATISTICS_BLOCK` tokens; a statistic not asked for is not computed (the
    vocabulary-wide mean and variance cost more than the log-softmax itself)."""
    moments = "mean" in statistics or "var" in statistics
    parts: dict[str, list[torch.Tensor]] = {"log_probs": [], **{name: [] for name in statistics}}
    for start in range(0, len(targets), STATISTICS_BLOCK):
        end = start + STATISTICS_BLOCK
        block = (logits[start:end] if rows is None else logits[rows[start:end], positions[start:end]]).float()
        log_probs = torch.log_softmax(block, dim=-1)
        parts["log_probs"].append(log_probs.gather(-1, targets[start:end, None]).squeeze(-1).double())
        if moments:
            probs = log_probs.exp()
            mean = (probs * log_probs).sum(-1)
            if "var" in statistics:
                parts["var"].append(((probs * log_probs.square()).sum(-1) - mean.square()).double())
            if "mean" in statistics:
                parts["mean"].append(mean.double())
        if "argmax" in statistics:
            parts["argmax"].append(block.argmax(-1))
    return {
        name: torch.cat(column).cpu().numpy()
        if column
        else np.zeros(0, dtype=np.int64 if name == "argmax" else np.float64)
        for name, column in parts.items()
    }


def score_answers(
    model: nn.Module,
    pairs: Sequence[tuple[list[int], list[int]]],
    *,
    pad_token_id: int,
    batch_size: int,
    progress: bool = False,
    desc: str = "scoring",
    statistics: Collection[str] = OPTIONAL_STATISTICS,
) -> list[dict[str, np.ndarray]]:
    """Teacher-forced statistics of each (prompt ids, answer ids) pair, one forward per batch of up to
    ``batch_size`` pairs (fewer where a real vocabulary's logits would not fit :data:`LOGIT_BUDGET`).

    Returns per pair: ``log_probs`` (each answer token's log-probability), ``target`` (the answer ids)
    and, of :data:`OPTIONAL_STATISTICS`, those named in ``statistics`` (default: all): ``argmax`` (the
    model's top token at each answer position), ``mean`` and ``var`` (of ``log p`` under the next-token
    distribution there). Each value is the same whichever others were asked for.
    """
    wanted = _statistics(statistics)
    seq2seq = is_encoder_decoder_model(model)
    device = device_of(model)
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
            ids, mask = right_pad([p for p, _ in batch], pad_token_id, device)
            labels = target_ids.masked_fill(~target_mask, -100)
            inputs: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
            shift = getattr(model, "prepare_decoder_input_ids_from_labels", None)
            if shift is not None:
                inputs["decoder_input_ids"] = shift(labels=labels)
            else:
                inputs["labels"] = labels
            logits = model(**inputs).logits
            rows, positions = target_mask.nonzero(as_tuple=True)
        else:
            ids, mask = right_pad([p + a for p, a in batch], pad_token_id, device)
            # position len(prompt) + t - 1 predicts answer token t
            rows, steps = target_mask.nonzero(as_tuple=True)
            offsets = torch.tensor([len(p) - 1 for p, _ in batch], device=device)
            positions = offsets[rows] + steps
            logits, rows, positions = _answer_logits(model, ids, mask, rows, positions), None, None
        values = _token_statistics(logits, rows, positions, target_ids[target_mask], wanted)
        start = 0
        for i, a in zip(chosen, targets):
            n = len(a)
            results[i] = {name: value[start : start + n] for name, value in values.items()}
            results[i]["target"] = np.asarray(a, dtype=np.int64)
            start += n
    return [r for r in results if r is not None]


def _answer_logits(
    model: nn.Module, ids: torch.Tensor, mask: torch.Tensor, rows: torch.Tensor, positions: torch.Tensor
) -> torch.Tensor:
    """A causal LM's logits at the answer positions only, one row per scored token, in ``(rows, positions)``
    order. transformers takes a boolean ``logits_to_keep`` and runs the head (and any soft-capping or
    scaling after it) there alone, skipping prompt and padding columns; a model that does not take it gives
    every position, read here."""
    keep = torch.zeros(mask.shape, dtype=torch.bool, device=mask.device)
    keep[rows, positions] = True
    try:
        logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=keep).logits
    except (TypeError, IndexError, ValueError, RuntimeError):  # a model older than the boolean form
        logits = model(input_ids=ids, attention_mask=mask).logits
    if logits.dim() == 2 and logits.shape[0] == len(rows):
        return logits
    if logits.dim() == 3 and logits.shape[:2] == ids.shape:  # a model that ignores logits_to_keep
        return logits[rows, positions]
    raise MubenchError(
        f"the model returned logits of shape {tuple(logits.shape)} for inputs {tuple(ids.shape)}"
    )


def _statistics(statistics: Collection[str]) -> frozenset[str]:
    unknown = sorted(set(statistics) - set(OPTIONAL_STATISTICS))
    if unknown or isinstance(statistics, str):
        raise MubenchError(f"statistics must name some of {list(OPTIONAL_STATISTICS)}; got {statistics!r}")
    return frozenset(statistics)


def texts_of(split: Any, column: str) -> list[str]:
    # sliced: a ``datasets`` Column read whole is a list at once; iterated, it formats row by row (3x slower)
    return [str(v) for v in split[column][:]]


def _optional_column(split: Any, column: str) -> list[Any] | None:
    return list(split[column][:]) if column in split.column_names else None


#: one split's generations and the rows whose prompt lost its beginning to fit the context
Generated = tuple[list[str], set[int]]


def fit_prompts(
    encoder: PromptEncoder, prompt_ids: Sequence[list[int]], max_new_tokens: int
) -> tuple[list[list[int]], set[int]]:
    """Each prompt cut from the left to leave ``max_new_tokens`` in a causal LM's context (a seq2seq
    encoder reads the whole context), and the rows that were cut."""
    room = None if encoder.context is None or encoder.seq2seq else encoder.context - max_new_tokens
    if room is not None and room < 1:
        raise MubenchError(
            f"max_new_tokens={max_new_tokens} leaves no room for a prompt in the model's context of "
            f"{encoder.context} tokens; use max_new_tokens below {encoder.context}"
        )
    if encoder.seq2seq:
        room = encoder.context
    fitted, cut_rows = [], set()
    for row, ids in enumerate(prompt_ids):
        ids, cut = encoder.fit_prompt(ids, room)
        fitted.append(ids)
        if cut:
            cut_rows.add(row)
    return fitted, cut_rows


def generate_pooled(
    model: nn.Module,
    tokenizer: Any,
    encoder: PromptEncoder,
    splits: Mapping[str, Any],
    *,
    max_new_tokens: int,
    batch_size: int,
    progress: bool = False,
) -> dict[str, Generated]:
    """Greedy generations of ``model`` on several splits in one pool: all their prompts sorted by length
    together and cut into batches of ``batch_size``, so that the splits' last rows share batches instead of
    each split ending in a nearly empty batch of its own (every batch is a whole decoding loop: MUSE's
    three probe splits of 17, 17 and 42 rows take 5 batches of 16 pooled, 7 apart). Rows of a batch do not
    see each other (left padding and the attention mask): the tests compare the pooled generations with each
    split's own pass and with a one-prompt-at-a-time loop."""
    fitted: dict[str, list[list[int]]] = {}
    cut: dict[str, set[int]] = {}
    for name, split in splits.items():
        prompt_ids = encoder.prompt_ids(texts_of(split, PROMPT_COLUMN))
        fitted[name], cut[name] = fit_prompts(encoder, prompt_ids, max_new_tokens)
    texts = generate_batched(
        model,
        tokenizer,
        [ids for rows in fitted.values() for ids in rows],
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        progress=progress,
        desc=f"generating {', '.join(fitted)}",
    )
    out: dict[str, Generated] = {}
    start = 0
    for name, rows in fitted.items():
        out[name] = (texts[start : start + len(rows)], cut[name])
        start += len(rows)
    return out


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
    score: bool = True,
    statistics: Collection[str] = OPTIONAL_STATISTICS,
    generated: Callable[[], Generated] | None = None,
) -> SplitScores:
    """Generations (when ``generate``: this split's own pass, or ``generated()``, the split's share of a
    pooled pass, :func:`generate_pooled`) and answer statistics (true answer; paraphrased and perturbed
    ones when ``alternatives``; none unless ``score``; the per-token ``statistics`` of
    :func:`score_answers` beyond the log-probabilities) of one model on one split."""
    prompts, answers = texts_of(split, PROMPT_COLUMN), texts_of(split, COMPLETION_COLUMN)
    scores = SplitScores()
    prompt_ids = encoder.prompt_ids(prompts)
    if generate and generated is not None:
        scores.predictions, cut = generated()
        scores.truncated_rows |= cut
    elif generate:
        fitted, scores.truncated_rows = fit_prompts(encoder, prompt_ids, max_new_tokens)
        scores.predictions = generate_batched(
            model,
            tokenizer,
            fitted,
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            progress=progress,
            desc=f"generating {name}",
        )
    if not score:  # a probe split read by its generations only
        return scores
    # every answer to score, flattened: (row, kind, answer text)
    wanted: list[tuple[int, str, str]] = [(row, "answer", a) for row, a in enumerate(answers)]
    if alternatives:
        paraphrased = _optional_column(split, PARAPHRASED_COLUMN)
        perturbed = _optional_column(split, PERTURBED_COLUMN)
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
        statistics=statistics,
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
