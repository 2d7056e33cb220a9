"""scikit-learn's handwritten digits as an offline image-classification task.

1,797 real 8x8 grey-scale digits ship with scikit-learn, so this task needs no network and is the
default of the demo and the tests. The split is fixed and documented:

* pixel values 0..16 are scaled to 0..255 (``round(v * 255 / 16)``) and stored as 8x8 PNG images;
* ``sklearn.model_selection.train_test_split`` with ``random_state=0``, stratified by label, first
  takes 20 % of the rows as ``test`` (360), then 1/8 of the rest as ``validation`` (180);
  ``train`` keeps the other 1,257.
"""

from __future__ import annotations

import datasets
import numpy as np
from PIL import Image

from .base import Task
from .registry import register_task

DIGITS_SPLIT_SEED = 0
DIGITS_TEST_FRACTION = 0.2
DIGITS_VALIDATION_FRACTION_OF_REST = 0.125
DIGITS_CLASS_NAMES = tuple(str(i) for i in range(10))


def load_digits_splits() -> datasets.DatasetDict:
    """The digits data as ``train`` / ``validation`` / ``test`` with ``image`` and ``label`` columns."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    pixels = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    labels = bunch.target.astype(np.int64)
    rows = np.arange(len(labels))
    rest, test = train_test_split(
        rows, test_size=DIGITS_TEST_FRACTION, random_state=DIGITS_SPLIT_SEED, stratify=labels
    )
    train, validation = train_test_split(
        rest,
        test_size=DIGITS_VALIDATION_FRACTION_OF_REST,
        random_state=DIGITS_SPLIT_SEED,
        stratify=labels[rest],
    )
    features = datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=list(DIGITS_CLASS_NAMES))}
    )

    def make(idx: np.ndarray) -> datasets.Dataset:
        idx = np.sort(idx)  # keep sklearn's row order inside each split: stable sample ids
        images = [Image.fromarray(pixels[i], mode="L") for i in idx]
        return datasets.Dataset.from_dict({"image": images, "label": labels[idx].tolist()}, features=features)

    return datasets.DatasetDict({"train": make(train), "validation": make(validation), "test": make(test)})


DIGITS = register_task(
    Task(
        name="digits",
        modality="image",
        class_names=DIGITS_CLASS_NAMES,
        description="scikit-learn's 1,797 handwritten 8x8 digits (UCI optical recognition), offline.",
        loader=load_digits_splits,
        validation_split="validation",
        license="cc-by-4.0",
        split_note="sklearn load_digits; stratified split, random_state=0: 1,257 train / 180 validation / 360 test",
    )
)
