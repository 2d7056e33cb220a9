"""The image_text modality's tiny model, made offline: its sizes and a ``ViltProcessor`` whose BERT
tokenizer reads a small built-in vocabulary (whole common words, then every character), so a ViLT built
from a config needs no download (see :mod:`mubench_hf.modalities.image_text`)."""

from __future__ import annotations

import string
from typing import Any

# The tiny model sees an 8x8 image (scikit-learn's digits) as one patch: from scratch, a model with 2x2
# patches did not learn digit pairs at all in 10 epochs, one patch per image did.
TINY_IMAGE_SIZE = 8
TINY_PATCH_SIZE = 8
# Weights drawn with std 0.1 instead of ViLT's 0.02: image tokens carry no LayerNorm in ViLT's embeddings,
# so at 0.02 they are ~10x smaller than the text tokens and training from scratch barely moved them (the
# model stayed at chance on digit pairs for 10 epochs; at 0.1 it leaves chance after ~5).
TINY_INITIALIZER_RANGE = 0.1
# Longest sentence in tokens (ViLT's own checkpoints use 40).
TINY_MAX_TEXT_TOKENS = 40

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# Whole words of the built-in tokenizer: function words, numbers and words for comparing and counting,
# so that short sentences about pictures come out one token per word.
TINY_WORDS = tuple(
    """
    the a an and or not no is are was be of in on at to than as with both either neither each every
    one two three four five six seven eight nine zero ten number numbers digit digits image images picture
    pictures left right side first second same different equal larger smaller bigger greater less more
    most least even odd there it its this that these those shows show contains contain has have at least
    only all some any pair sum product twice half times plus minus top bottom above below next true false
    """.split()
)
_CHARACTERS = string.ascii_lowercase + string.digits
_PUNCTUATION = ".,;:!?'\"()-"


def tiny_vocabulary() -> dict[str, int]:
    """The built-in WordPiece vocabulary: special tokens, whole words, then every character (as a word
    start and as a ``##`` continuation), so any lower-case ASCII text tokenizes without ``[UNK]``."""
    tokens: list[str] = list(SPECIAL_TOKENS)
    for token in [*TINY_WORDS, *_CHARACTERS, *_PUNCTUATION, *(f"##{c}" for c in _CHARACTERS)]:
        if token not in tokens:
            tokens.append(token)
    return {token: i for i, token in enumerate(tokens)}


def tiny_processor(image_size: int = TINY_IMAGE_SIZE, patch_size: int = TINY_PATCH_SIZE) -> Any:
    """A ``ViltProcessor`` made offline: the image processor's defaults at ``image_size`` (images are
    resized so the shorter side is ``image_size``, then cut to a multiple of ``patch_size``) and a BERT
    tokenizer over ``tiny_vocabulary()``."""
    from transformers import BertTokenizer, ViltImageProcessorPil, ViltProcessor

    tokenizer = BertTokenizer(vocab=tiny_vocabulary(), do_lower_case=True)
    tokenizer.model_max_length = TINY_MAX_TEXT_TOKENS
    image_processor = ViltImageProcessorPil(size={"shortest_edge": image_size}, size_divisor=patch_size)
    return ViltProcessor(image_processor=image_processor, tokenizer=tokenizer)
