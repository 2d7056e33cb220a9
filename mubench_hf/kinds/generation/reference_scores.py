"""The generation report's reference values, computed once: the original and retrain models' generations and
answer statistics on a split (``SplitScores``) kept in the process's reference cache under the model's
content, the split's rows and texts, and every setting that changes them (generation length, batch size,
chat template, context, tokenizer, device); and prompts and answers tokenised once per report
(:class:`ReusedPromptEncoder`), whichever model reads them.

On disk (a sweep's ``.report_cache``) a ``SplitScores`` is stored as flat arrays: every scored answer's
statistics concatenated (those that were computed: the key says which), with its row, its kind (answer, paraphrase, perturbed) and its length, and the
generations as one JSON string.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from torch import nn

from ...errors import MubenchError
from ...modalities.base import COMPLETION_COLUMN, PARAPHRASED_COLUMN, PERTURBED_COLUMN, PROMPT_COLUMN
from ...modalities.prompt_encoding import PromptEncoder
from ..reference_cache import REFERENCE_CACHE, model_digest, value_key
from .decode import device_of
from .score import OPTIONAL_STATISTICS, SplitScores, score_split

CACHE_KIND = "generation_scores"
_KINDS = ("answer", "paraphrase", "perturbed")
_STATS = ("log_probs", "target", *OPTIONAL_STATISTICS)


class ReusedPromptEncoder(PromptEncoder):
    """A ``PromptEncoder`` that tokenises each list of prompts (and of prompt–answer pairs) once: the
    models of one report score the same rows, and tokenising them again for each model is wasted work.
    ``encoded`` counts the rows actually tokenised."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._memo: dict[tuple, list[list[int]]] = {}
        self.encoded = 0

    def _reuse(self, key: tuple, encode: Any) -> list[list[int]]:
        if key not in self._memo:
            self._memo[key] = encode()
            self.encoded += len(self._memo[key])
        return list(self._memo[key])  # a new outer list; the id lists are never changed in place

    def prompt_ids(self, prompts: Sequence[str]) -> list[list[int]]:
        return self._reuse(
            ("prompt", tuple(prompts)), lambda: super(ReusedPromptEncoder, self).prompt_ids(prompts)
        )

    def answer_ids(self, prompts: Sequence[str], answers: Sequence[str]) -> list[list[int]]:
        return self._reuse(
            ("answer", tuple(prompts), tuple(str(a) for a in answers)),
            lambda: super(ReusedPromptEncoder, self).answer_ids(prompts, answers),
        )


def _texts_sha256(split: Any) -> str:
    """SHA-256 of the split's sample ids and every text the report reads from it."""
    digest = hashlib.sha256()
    for column in ("sample_id", PROMPT_COLUMN, COMPLETION_COLUMN, PARAPHRASED_COLUMN, PERTURBED_COLUMN):
        if column in split.column_names:
            digest.update(json.dumps([column, list(split[column])], default=str).encode("utf-8"))
    return digest.hexdigest()


def _tokenizer_identity(tokenizer: Any) -> dict[str, Any]:
    template = getattr(tokenizer, "chat_template", None)
    return {
        "class": type(tokenizer).__name__,
        "source": getattr(tokenizer, "name_or_path", None),
        "size": len(tokenizer) if hasattr(tokenizer, "__len__") else None,
        "pad": getattr(tokenizer, "pad_token_id", None),
        "eos": getattr(tokenizer, "eos_token_id", None),
        "chat_template": hashlib.sha256(str(template).encode("utf-8")).hexdigest() if template else None,
    }


def pool_identity(splits: Mapping[str, Any]) -> list[list[str]]:
    """What a pooled generation pass (``score.generate_pooled``) is made of: each split's name and
    :func:`_texts_sha256`, in pool order."""
    return [[name, _texts_sha256(split)] for name, split in splits.items()]


def reference_scores(
    model: nn.Module,
    tokenizer: Any,
    encoder: PromptEncoder,
    split: Any,
    *,
    pool: list[list[str]] | None = None,
    **settings: Any,
) -> SplitScores:
    """``score_split(model, tokenizer, encoder, split, **settings)`` of a reference model (the original or
    the retrain model), served from the reference cache when the same model scored the same rows with the
    same settings before. ``pool``: the :func:`pool_identity` of the pooled generation pass whose share
    ``settings["generated"]`` gives (part of the key: a split's generations come from that pass)."""
    keyed = {
        name: value for name, value in settings.items() if name not in ("progress", "statistics", "generated")
    }
    if settings.get("generate") and settings.get("generated") is not None:
        if pool is None:
            raise MubenchError("reference_scores: a pooled generation needs its pool identity (pool=...)")
        keyed["pool"] = pool
    statistics = sorted(settings.get("statistics", OPTIONAL_STATISTICS))
    if statistics != sorted(OPTIONAL_STATISTICS):
        # an entry that lacks some statistic has a key of its own, so it is never served to a caller that
        # needs that statistic (entries with all of them keep the key they had before they could lack any)
        keyed["statistics"] = statistics
    key = value_key(
        model_digest(model),
        _texts_sha256(split),
        keyed,
        {"seq2seq": encoder.seq2seq, "chat": encoder.chat, "context": encoder.context},
        _tokenizer_identity(tokenizer),
        str(device_of(model).type),
    )
    return REFERENCE_CACHE.get(
        CACHE_KIND,
        key,
        lambda: score_split(model, tokenizer, encoder, split, **settings),
        dump=dump_scores,
        load=load_scores,
    )


def dump_scores(scores: SplitScores) -> dict[str, np.ndarray]:
    """A ``SplitScores`` as flat arrays (module docstring)."""
    entries: list[tuple[int, int, dict[str, np.ndarray]]] = []
    for row, stat in enumerate(scores.answer):
        entries.append((row, 0, stat))
        if scores.paraphrase[row] is not None:
            entries.append((row, 1, scores.paraphrase[row]))  # type: ignore[arg-type]
        entries.extend((row, 2, other) for other in scores.perturbed[row])
    arrays: dict[str, np.ndarray] = {
        "rows": np.array([e[0] for e in entries], dtype=np.int64),
        "kinds": np.array([e[1] for e in entries], dtype=np.int64),
        "lengths": np.array([len(e[2]["target"]) for e in entries], dtype=np.int64),
        "num_rows": np.array(len(scores.answer), dtype=np.int64),
        "truncated": np.array(sorted(scores.truncated_rows), dtype=np.int64),
        "predictions": np.array(json.dumps(scores.predictions)),
    }
    for name in _STATS:
        if any(name not in e[2] for e in entries):
            continue  # a statistic that was not computed (scored without it) is not stored
        parts = [np.asarray(e[2][name]) for e in entries]
        arrays[name] = np.concatenate(parts) if parts else np.zeros(0)
    return arrays


def load_scores(data: dict[str, np.ndarray]) -> SplitScores:
    """The ``SplitScores`` :func:`dump_scores` stored."""
    num_rows = int(data["num_rows"])
    scores = SplitScores(
        predictions=json.loads(str(data["predictions"])),
        paraphrase=[None] * num_rows,
        perturbed=[[] for _ in range(num_rows)],
        truncated_rows={int(r) for r in data["truncated"]},
    )
    scores.answer = [None] * num_rows  # type: ignore[list-item]
    ends = np.cumsum(data["lengths"])
    for i, (row, kind) in enumerate(zip(data["rows"].tolist(), data["kinds"].tolist())):
        start = int(ends[i] - data["lengths"][i])
        stat = {name: data[name][start : int(ends[i])] for name in _STATS if name in data}
        if _KINDS[kind] == "answer":
            scores.answer[row] = stat
        elif _KINDS[kind] == "paraphrase":
            scores.paraphrase[row] = stat
        else:
            scores.perturbed[row].append(stat)
    return scores
