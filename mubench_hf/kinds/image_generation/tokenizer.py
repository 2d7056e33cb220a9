"""The tokenizer of a text-to-image model built from a config: a word-level vocabulary trained locally (with
``tokenizers``) on the task's prompts, so a tiny text encoder needs no downloaded CLIP tokenizer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...tasks.text_to_image import ImageGenerationTask

PAD, UNKNOWN = "[PAD]", "[UNK]"


def prompt_corpus(task: ImageGenerationTask) -> list[str]:
    """Every prompt the task's models read: each concept's, and the generic one (an anchor)."""
    return [*task.prompts(), task.generic_prompt]


def train_word_tokenizer(task: ImageGenerationTask) -> Any:
    """A ``PreTrainedTokenizerFast`` whose vocabulary is the words of the task's prompts (pad id 0)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = prompt_corpus(task)
    tokenizer = Tokenizer(models.WordLevel(unk_token=UNKNOWN))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=[PAD, UNKNOWN]))
    longest = max(len(tokenizer.encode(prompt).ids) for prompt in corpus)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token=PAD, unk_token=UNKNOWN, model_max_length=longest
    )


def load_prompt_tokenizer(task: ImageGenerationTask, source: str | None) -> Any:
    """The tokenizer of the diffusers folder ``source`` (its ``tokenizer/``) or of the Hub pipeline ``source``
    (``owner/name``), else (``tiny:unet``, no source) one trained on the task's prompts."""
    from transformers import AutoTokenizer

    if source and (Path(source) / "tokenizer").is_dir():
        return AutoTokenizer.from_pretrained(str(Path(source) / "tokenizer"))
    if (
        source
        and not str(source).startswith("tiny:")
        and not Path(source).exists()
        and str(source).count("/") == 1
    ):
        return AutoTokenizer.from_pretrained(str(source), subfolder="tokenizer")
    return train_word_tokenizer(task)
