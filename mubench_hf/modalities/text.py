"""Text: a ``text`` column of strings, tokenized and classified by ``AutoModelForSequenceClassification``.

Text always needs a tokenizer (there is no fallback as for images): the transform truncates, and
``DataCollatorWithPadding`` pads per batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import datasets

from ..errors import MubenchError
from .base import LABEL_COLUMN, Collator, Modality, Transform, register_modality


def text_transform(
    tokenizer: Any,
    *,
    input_column: str = "text",
    label_column: str = LABEL_COLUMN,
    max_length: int | None = None,
) -> Transform:
    """A batch transform for text rows: the tokenizer's fields (unpadded) and ``labels``."""
    if tokenizer is None:
        raise MubenchError("text tasks need a tokenizer (processing_class)")

    def transform(batch: dict[str, list]) -> dict[str, list]:
        out = dict(tokenizer(list(batch[input_column]), truncation=True, max_length=max_length))
        if label_column in batch:
            out["labels"] = list(batch[label_column])
        return out

    return transform


class TextModality(Modality):
    name = "text"
    input_column = "text"
    pipeline_tag = "text-classification"

    def input_feature(self) -> datasets.Value:
        return datasets.Value("string")

    def auto_class(self) -> type:
        from transformers import AutoModelForSequenceClassification

        return AutoModelForSequenceClassification

    def processor_class(self) -> type:
        from transformers import AutoTokenizer

        return AutoTokenizer

    def without_processor(self, source: str | None) -> Any:
        if source is None:
            raise MubenchError("text tasks need a tokenizer: pass --processor (a folder or Hub id)")
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
        # the model plays no part: the tokenizer decides the inputs
        return text_transform(processor, input_column=input_column, label_column=label_column, **options)

    def collator(self, processor: Any) -> Collator:
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(processor)

    def tiny_configs(self) -> Mapping[str, tuple[type, dict[str, Any]]]:
        from transformers import BertConfig

        return {
            # 2 layers, hidden size 32, no dropout
            "bert": (
                BertConfig,
                dict(
                    vocab_size=1000,
                    hidden_size=32,
                    num_hidden_layers=2,
                    num_attention_heads=2,
                    intermediate_size=64,
                    max_position_embeddings=128,
                    hidden_dropout_prob=0.0,
                    attention_probs_dropout_prob=0.0,
                ),
            ),
        }


TEXT = register_modality(TextModality())
