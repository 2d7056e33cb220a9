"""``fashion_mnist_t2i``: class-conditional generation of Fashion-MNIST clothes, offline.

The rows come from the ``fashion_mnist`` task's documented split (Debian's ``dataset-fashion-mnist`` IDX
files; ``MUBENCH_FASHION_MNIST_DIR`` points elsewhere), cut to a class-balanced subset so a tiny UNet
trains in CPU minutes rather than hours: the first ``FASHION_T2I_PER_CLASS`` images of every class of each
split, in the source's order (train 100, validation 50, test 100 per class: 1,000 / 500 / 1,000 rows).
Rows keep Fashion-MNIST's own 28x28 pixels; models are built for 14x14 (``image_size``: the transform and
the evaluation classifier shrink each image by half), since a UNet step on 28x28 costs four times one on
14x14 on CPU and the ten garments stay distinguishable at that size. The prompt of a row names its class:
``"a picture of a sneaker"``; ``fashion_mnist_t2i_class<k>`` forgets every image of garment k.

Measured with the default recipe (``tiny:unet``, 40 epochs, seed 42; ~10 CPU-minutes): the evaluation
classifier (test accuracy 0.82) recognises 0.725 of the base model's samples (20 per garment, 10 DDIM steps,
guidance 3), from 1.0 (bag) to 0.25 (sneaker, often drawn like a sandal or an ankle boot at 14x14).
"""

from __future__ import annotations

import datasets
import numpy as np

from .fashion_mnist import (
    FASHION_MNIST_CITATION,
    FASHION_MNIST_CLASS_NAMES,
    fashion_mnist_arrays,
    fashion_mnist_dataset_dict,
)
from .registry import register_task
from .text_to_image import ImageGenerationTask

#: Images kept per class of each split (the first ones, in the source's order).
FASHION_T2I_PER_CLASS = {"train": 100, "validation": 50, "test": 100}
#: How each garment reads in a prompt, in label order (Fashion-MNIST's class names, with an article).
FASHION_T2I_CONCEPTS = (
    "a t-shirt", "a pair of trousers", "a pullover", "a dress", "a coat", "a sandal", "a shirt", "a sneaker",
    "a bag", "an ankle boot",
)  # fmt: skip
FASHION_T2I_IMAGE_SIZE = 14


def first_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Positions of the first ``per_class`` rows of every class, in their original order."""
    keep = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        keep[np.flatnonzero(labels == label)[:per_class]] = True
    return np.flatnonzero(keep)


def load_fashion_mnist_t2i_splits() -> datasets.DatasetDict:
    """The class-balanced subset of ``fashion_mnist``'s split (see the module docstring)."""
    arrays = fashion_mnist_arrays()
    subset = {}
    for split, (images, labels) in arrays.items():
        rows = first_per_class(labels, FASHION_T2I_PER_CLASS[split])
        subset[split] = (images[rows], labels[rows])
    return fashion_mnist_dataset_dict(subset, name="fashion_mnist_t2i")


FASHION_MNIST_T2I = register_task(
    ImageGenerationTask(
        name="fashion_mnist_t2i",
        modality="image",
        class_names=FASHION_MNIST_CLASS_NAMES,
        concepts=FASHION_T2I_CONCEPTS,
        prompt_template="a picture of {}",
        generic_prompt="a picture of a piece of clothing",
        image_size=FASHION_T2I_IMAGE_SIZE,
        channels=1,
        description="Text-to-image: Fashion-MNIST garments (a 1,000-image class-balanced subset, generated at "
        "14x14) from 'a picture of a sneaker', offline from Debian's dataset-fashion-mnist files.",
        loader=load_fashion_mnist_t2i_splits,
        validation_split="validation",
        license="mit",
        source_citation=FASHION_MNIST_CITATION,
        split_note="fashion_mnist's split (validation = 6,000 train rows, default_rng(0)), the first 100 / 50 / "
        "100 images of every class of train / validation / test: 1,000 / 500 / 1,000 rows; models at 14x14",
    )
)
