"""Tokenizers of generation tasks: a checkpoint's own (with a pad token set when it has none), or, for a
language model built from a config, a small byte-level BPE tokenizer trained with ``tokenizers`` on the
train split's text, so offline runs need nothing from the Hub.

The trained tokenizer is deterministic: the same rows in the same order give the same vocabulary. It is
saved with every model folder trained from it, and loaded from there afterwards.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from ...errors import MubenchError
from ...modalities.base import COMPLETION_COLUMN, PARAPHRASED_COLUMN, PERTURBED_COLUMN, PROMPT_COLUMN
from ...modeling import current_loading_policy

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
#: vocabulary of the trained tokenizer: ample for a few thousand templated sentences
TRAINED_VOCAB_SIZE = 2048


def _texts(split: Any) -> Iterator[str]:
    columns = split.column_names
    for column in (PROMPT_COLUMN, COMPLETION_COLUMN, PARAPHRASED_COLUMN):
        if column in columns:
            yield from (t for t in split[column] if t)
    if PERTURBED_COLUMN in columns:
        for options in split[PERTURBED_COLUMN]:
            yield from options


def train_tokenizer(splits: Mapping[str, Any], vocab_size: int = TRAINED_VOCAB_SIZE) -> Any:
    """A ``PreTrainedTokenizerFast`` (byte-level BPE, pad id 0, EOS id 1, unk id 2) trained on the text of
    the ``train`` split (or the first split when there is none: a retain-only config)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    split = splits["train"] if "train" in splits else splits.get("retain", next(iter(splits.values())))
    tokenizer = Tokenizer(models.BPE(unk_token=UNK))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, EOS, UNK],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_texts(split), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token=PAD, eos_token=EOS, unk_token=UNK, padding_side="right"
    )


def ensure_pad_token(tokenizer: Any, source: str | None = None) -> Any:
    """Give a tokenizer without a pad token one (its EOS token, as TRL does), and say so. Training and the
    report both call this, so a model is scored with the padding it was trained with."""
    if tokenizer.pad_token is not None:
        return tokenizer
    if tokenizer.eos_token is None:
        raise MubenchError(
            f"the tokenizer of {source or 'the model'} has neither a pad nor an EOS token; add a pad token "
            "(tokenizer.add_special_tokens({'pad_token': '<pad>'}) and resize the model's embeddings) and save it"
        )
    warnings.warn(
        f"the tokenizer of {source or 'the model'} has no pad token: using its EOS token "
        f"{tokenizer.eos_token!r} as the pad token (padding is masked out of every loss and score)",
        stacklevel=2,
    )
    tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _has_no_checkpoint(source: str | None) -> bool:
    return source is None or source.startswith("tiny:") or source.endswith(".json")


def load_tokenizer(
    source: str | None, splits: Mapping[str, Any], *, trust_remote_code: bool | None = None
) -> Any:
    """The tokenizer of checkpoint ``source``, or one trained on ``splits`` for a model without one."""
    if _has_no_checkpoint(source):
        return train_tokenizer(splits)
    from transformers import AutoTokenizer

    if trust_remote_code is None:
        trust_remote_code = current_loading_policy().trust_remote_code
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=bool(trust_remote_code))
    except (OSError, ValueError) as err:
        raise MubenchError(
            f"no tokenizer found with {source!r} ({type(err).__name__}: {str(err).splitlines()[0][:200]}); "
            "pass --processor (a folder or Hub id holding the model's tokenizer)"
        ) from None
    return ensure_pad_token(tokenizer, source)
