"""``digits_t2i``: class-conditional generation of scikit-learn's handwritten digits, offline.

The rows are the ``digits`` task's (same 1,257 / 180 / 360 split, 8x8 grey images); each image's prompt
is its class in words, ``"a picture of the digit three"``. The images stay 8x8: upscaling adds no
information and a UNet step on 16x16 costs four times as much on CPU. ``digits_t2i_class<k>`` forgets
every image of digit k (the concept).
"""

from __future__ import annotations

from .digits import DIGITS_CLASS_NAMES, load_digits_splits
from .registry import register_task
from .text_to_image import ImageGenerationTask

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

DIGITS_T2I = register_task(
    ImageGenerationTask(
        name="digits_t2i",
        modality="image",
        class_names=DIGITS_CLASS_NAMES,
        concepts=DIGIT_WORDS,
        prompt_template="a picture of the digit {}",
        generic_prompt="a picture of a digit",
        image_size=8,
        channels=1,
        description="Text-to-image: scikit-learn's handwritten 8x8 digits generated from 'a picture of the digit <k>'.",
        loader=load_digits_splits,
        validation_split="validation",
        license="cc-by-4.0",
        split_note="sklearn load_digits; stratified split, random_state=0: 1,257 train / 180 validation / 360 test",
    )
)
