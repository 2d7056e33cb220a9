"""Text generation as a modality object: what a generation task's ``modality_spec`` returns, and the
collator that pads its rows.

It answers the same questions as the classification modalities (``mubench_hf.modalities``): the input
column and feature, the ``AutoModelFor...`` class, the pipeline tag of cards, the batch transform and
collator, the tiny from-config models. One object per architecture: ``causal`` (``AutoModelForCausalLM``,
pipeline tag ``text-generation``) and ``seq2seq`` (``AutoModelForSeq2SeqLM``, ``summarization``).
Generation tasks are still ``modality: text`` in listings; this object is the text modality's
generation side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import datasets

from ..columns import IGNORE_INDEX
from ..errors import MubenchError
from .base import COMPLETION_COLUMN, LABEL_COLUMN, PROMPT_COLUMN, Collator, Modality, Transform
from .prompt_encoding import encode_rows

# Small enough to train in seconds on two CPU cores, large enough to memorise a few thousand QA pairs.
_TINY_SIZE = dict(hidden=64, layers=2, heads=4, ffn=256, positions=512)


def generation_transform(
    tokenizer: Any, *, seq2seq: bool, max_length: int | None = 256, completion_column: str = COMPLETION_COLUMN
) -> Transform:
    """A batch transform (for ``with_transform``): prompt/completion rows → unpadded ``input_ids``,
    ``attention_mask`` and ``labels`` (``-100`` on the prompt for causal LMs)."""
    if tokenizer is None:
        raise MubenchError("generation tasks need a tokenizer (processing_class)")

    def transform(batch: dict[str, list]) -> dict[str, list]:
        encoded, _ = encode_rows(
            tokenizer, batch[PROMPT_COLUMN], batch[completion_column], seq2seq=seq2seq, max_length=max_length
        )
        return encoded

    return transform


def encode_split(split: Any, tokenizer: Any, *, seq2seq: bool, max_length: int | None) -> Any:
    """``split`` with the encoded fields added as columns (in memory, nothing cached on disk), so code that
    looks for a ``labels`` column finds one and the string columns stay for the report."""
    if tokenizer is None:
        raise MubenchError("generation tasks need a tokenizer (processing_class)")

    def encode(batch: dict[str, list]) -> dict[str, list]:
        encoded, _ = encode_rows(
            tokenizer, batch[PROMPT_COLUMN], batch[COMPLETION_COLUMN], seq2seq=seq2seq, max_length=max_length
        )
        return encoded

    return split.map(encode, batched=True, keep_in_memory=True, load_from_cache_file=False, desc=None)


# Padding encoded rows into a batch: ``input_ids`` and ``attention_mask`` padded with the tokenizer's pad
# token, ``labels`` with -100, on the right (training and scoring; generation pads prompts on the left
# itself).
PADDED = {"input_ids": None, "attention_mask": 0, "labels": IGNORE_INDEX}


@dataclass
class GenerationCollator:
    """Pads ``input_ids`` / ``attention_mask`` / ``labels`` on the right (see ``PADDED``); other fields are
    dropped (the transform emits only these)."""

    pad_token_id: int
    pad_to_multiple_of: int | None = None

    def __call__(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        import torch  # on first use: listing tasks stays quick

        batch: dict[str, Any] = {}
        for key, pad in PADDED.items():
            if key not in rows[0]:
                continue
            seqs = [list(row[key]) for row in rows]
            width = max(len(s) for s in seqs)
            if self.pad_to_multiple_of:
                width = -(-width // self.pad_to_multiple_of) * self.pad_to_multiple_of
            fill = self.pad_token_id if pad is None else pad
            batch[key] = torch.tensor([s + [fill] * (width - len(s)) for s in seqs], dtype=torch.long)
        return batch


class TextGenerationModality(Modality):
    """Prompt–completion text for a causal or a seq2seq language model."""

    name = "text"
    input_column = PROMPT_COLUMN

    def __init__(self, architecture: str) -> None:
        self.architecture = architecture
        self.seq2seq = architecture == "seq2seq"

    @property
    def pipeline_tag(self) -> str:  # type: ignore[override]
        return "summarization" if self.seq2seq else "text-generation"

    def input_feature(self) -> datasets.Value:
        return datasets.Value("string")

    def auto_class(self) -> type:
        from transformers import AutoModelForCausalLM, AutoModelForSeq2SeqLM

        return AutoModelForSeq2SeqLM if self.seq2seq else AutoModelForCausalLM

    def processor_class(self) -> type:
        from transformers import AutoTokenizer

        return AutoTokenizer

    def without_processor(self, source: str | None) -> Any:
        raise MubenchError(f"no tokenizer found with {source!r}; pass --processor")

    def transform(
        self,
        model_or_config: Any,
        processor: Any,
        *,
        input_column: str,
        label_column: str = LABEL_COLUMN,
        **options: Any,
    ) -> Transform:
        return generation_transform(processor, seq2seq=self.seq2seq, **options)

    def collator(self, processor: Any) -> Collator:
        return GenerationCollator(pad_token_id=int(processor.pad_token_id))

    def tiny_configs(self) -> Mapping[str, tuple[type, dict[str, Any]]]:
        from transformers import GPT2Config, LlamaConfig, T5Config

        s = _TINY_SIZE
        causal = {
            "llama": (
                LlamaConfig,
                dict(
                    hidden_size=s["hidden"],
                    intermediate_size=s["ffn"],
                    num_hidden_layers=s["layers"],
                    num_attention_heads=s["heads"],
                    num_key_value_heads=s["heads"],
                    max_position_embeddings=s["positions"],
                    tie_word_embeddings=True,
                ),
            ),
            "gpt2": (
                GPT2Config,
                dict(
                    n_embd=s["hidden"],
                    n_layer=s["layers"],
                    n_head=s["heads"],
                    n_positions=s["positions"],
                    resid_pdrop=0.0,
                    embd_pdrop=0.0,
                    attn_pdrop=0.0,
                ),
            ),
        }
        seq2seq = {
            "t5": (
                T5Config,
                dict(
                    d_model=s["hidden"],
                    d_ff=s["ffn"],
                    d_kv=s["hidden"] // s["heads"],
                    num_layers=s["layers"],
                    num_decoder_layers=s["layers"],
                    num_heads=s["heads"],
                    dropout_rate=0.0,
                    feed_forward_proj="relu",
                ),
            ),
        }
        return seq2seq if self.seq2seq else causal


@cache
def generation_modality(architecture: str) -> TextGenerationModality:
    """The (shared) modality object of ``architecture``."""
    return TextGenerationModality(architecture)
