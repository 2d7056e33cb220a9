"""Fashion-MNIST (Xiao et al. 2017) as an offline image-classification task, read from Debian's files.

Debian's ``dataset-fashion-mnist`` package installs the four original IDX files (gzip) under
``/usr/share/datasets/fashion-mnist/`` (``apt-get install dataset-fashion-mnist``; another folder can be
given with ``MUBENCH_FASHION_MNIST_DIR``). They hold 60,000 training and 10,000 test images, 28x28
grey-scale, in 10 classes. The split is fixed and documented:

* ``validation``: 6,000 of the 60,000 training images (a seeded permutation, ``numpy.random.default_rng(0)``,
  its first 6,000 positions, sorted), so model selection never reads the test set;
* ``train``: the other 54,000, in the source's order;
* ``test``: the original 10,000 test images.

The deletion order covers 6,000 rows (``deletion_fraction = 1/9`` of the 54,000 train rows), i.e. 10 % of
the 60,000 source training images, so ratio ``p`` forgets ``p`` % of the published training set as
MU-Bench counts it: ``fashion_mnist_del5`` has 3,000 forget rows.

The pixels are read straight from the IDX bytes with NumPy and stored as PNG (the ``datasets.Image``
feature holds encoded images); loading all 70,000 takes about 8 s on one CPU core, mostly PNG encoding.
"""

from __future__ import annotations

import gzip
import io
import os
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
from datasets.table import InMemoryTable

from ..errors import MubenchError
from .base import Task
from .registry import register_task

FASHION_MNIST_DIR_ENV = "MUBENCH_FASHION_MNIST_DIR"
FASHION_MNIST_DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
FASHION_MNIST_CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
FASHION_MNIST_SPLIT_SEED = 0
FASHION_MNIST_VALIDATION_SIZE = 6_000
# 6,000 of the 54,000 train rows: 10 % of the 60,000 source training images (see the module docstring)
FASHION_MNIST_DELETION_FRACTION = 1 / 9
FASHION_MNIST_CITATION = """@article{xiao2017fashion,
  title   = {Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms},
  author  = {Xiao, Han and Rasul, Kashif and Vollgraf, Roland},
  journal = {arXiv preprint arXiv:1708.07747},
  year    = {2017}
}"""

_IMAGE_MAGIC, _LABEL_MAGIC = 2051, 2049


def fashion_mnist_dir() -> Path:
    """The folder holding the four IDX files (``MUBENCH_FASHION_MNIST_DIR`` or Debian's folder)."""
    return Path(os.environ.get(FASHION_MNIST_DIR_ENV) or FASHION_MNIST_DEFAULT_DIR)


def fashion_mnist_available(folder: str | os.PathLike | None = None) -> bool:
    """Whether all four IDX files are present (tests skip on ``False``)."""
    root = Path(folder) if folder is not None else fashion_mnist_dir()
    return all((root / name).is_file() for name in FASHION_MNIST_FILES.values())


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array in one (gzip) IDX file: ``(n, rows, cols)`` uint8 images or ``(n,)`` uint8 labels."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        raw = handle.read()
    if len(raw) < 8:
        raise MubenchError(f"{path} is not an IDX file (only {len(raw)} bytes)")
    magic, count = int.from_bytes(raw[0:4], "big"), int.from_bytes(raw[4:8], "big")
    if magic == _LABEL_MAGIC:
        shape, offset = (count,), 8
    elif magic == _IMAGE_MAGIC:
        rows, cols = int.from_bytes(raw[8:12], "big"), int.from_bytes(raw[12:16], "big")
        shape, offset = (count, rows, cols), 16
    else:
        raise MubenchError(
            f"{path} is not an IDX file of uint8 images or labels (magic {magic}, expected {_IMAGE_MAGIC} "
            f"or {_LABEL_MAGIC})"
        )
    expected = int(np.prod(shape))
    if len(raw) - offset != expected:
        raise MubenchError(
            f"{path}: the header promises {expected} bytes of data, the file holds {len(raw) - offset}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def _png_bytes(images: np.ndarray) -> list[bytes]:
    from PIL import Image

    out = []
    for image in images:
        buffer = io.BytesIO()
        Image.fromarray(image, mode="L").save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out


def _split(
    images: np.ndarray, labels: np.ndarray, features: datasets.Features, name: str
) -> datasets.Dataset:
    # The Arrow table is built directly ({bytes, path} structs, as datasets.Image stores them): going
    # through Dataset.from_dict would decode-check and re-encode every image.
    image_type = features["image"].pa_type
    column = pa.array([{"bytes": b, "path": None} for b in _png_bytes(images)], type=image_type)
    table = pa.table({"image": column, "label": pa.array(labels.astype(np.int64))})
    table = table.cast(features.arrow_schema)
    return datasets.Dataset(
        InMemoryTable(table),
        info=datasets.DatasetInfo(features=features),
        fingerprint=f"{name}-{len(labels)}",
    )


def fashion_mnist_arrays(folder: str | os.PathLike | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The documented ``train`` / ``validation`` / ``test`` split as uint8 ``(images, labels)`` arrays (see the
    module docstring), read from the IDX files without encoding a single image."""
    root = Path(folder) if folder is not None else fashion_mnist_dir()
    if not fashion_mnist_available(root):
        missing = [n for n in FASHION_MNIST_FILES.values() if not (root / n).is_file()]
        raise MubenchError(
            f"task 'fashion_mnist' reads the Fashion-MNIST IDX files from {root}, but {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing: install them with 'apt-get install "
            f"dataset-fashion-mnist' (Debian/Ubuntu), or point {FASHION_MNIST_DIR_ENV} at a folder holding "
            f"{', '.join(FASHION_MNIST_FILES.values())}"
        )
    arrays = {key: read_idx(root / name) for key, name in FASHION_MNIST_FILES.items()}
    for split in ("train", "test"):
        if len(arrays[f"{split}_images"]) != len(arrays[f"{split}_labels"]):
            raise MubenchError(
                f"Fashion-MNIST {split}: {len(arrays[f'{split}_images'])} images but "
                f"{len(arrays[f'{split}_labels'])} labels in {root}"
            )
    num_train = len(arrays["train_labels"])
    if num_train <= FASHION_MNIST_VALIDATION_SIZE:
        raise MubenchError(f"Fashion-MNIST train holds {num_train} images; expected 60,000")
    permutation = np.random.default_rng(FASHION_MNIST_SPLIT_SEED).permutation(num_train)
    validation = np.sort(permutation[:FASHION_MNIST_VALIDATION_SIZE])
    train = np.sort(permutation[FASHION_MNIST_VALIDATION_SIZE:])
    images, labels = arrays["train_images"], arrays["train_labels"]
    return {
        "train": (images[train], labels[train]),
        "validation": (images[validation], labels[validation]),
        "test": (arrays["test_images"], arrays["test_labels"]),
    }


def fashion_mnist_dataset_dict(
    arrays: dict[str, tuple[np.ndarray, np.ndarray]], name: str = "fashion_mnist"
) -> datasets.DatasetDict:
    """Split arrays as a ``DatasetDict`` of PNG-encoded ``image`` and ``label`` (the class names) columns."""
    features = datasets.Features(
        {"image": datasets.Image(), "label": datasets.ClassLabel(names=list(FASHION_MNIST_CLASS_NAMES))}
    )
    return datasets.DatasetDict(
        {
            split: _split(images, labels, features, f"{name}-{split}")
            for split, (images, labels) in arrays.items()
        }
    )


def load_fashion_mnist_splits(folder: str | os.PathLike | None = None) -> datasets.DatasetDict:
    """Fashion-MNIST as ``train`` (54,000) / ``validation`` (6,000) / ``test`` (10,000) with ``image`` and
    ``label`` columns (see the module docstring for the split)."""
    return fashion_mnist_dataset_dict(fashion_mnist_arrays(folder))


FASHION_MNIST = register_task(
    Task(
        name="fashion_mnist",
        modality="image",
        class_names=FASHION_MNIST_CLASS_NAMES,
        description="Fashion-MNIST: 70,000 28x28 grey clothing images in 10 classes, offline from Debian's "
        "dataset-fashion-mnist files.",
        loader=load_fashion_mnist_splits,
        validation_split="validation",
        deletion_fraction=FASHION_MNIST_DELETION_FRACTION,
        license="mit",
        source_citation=FASHION_MNIST_CITATION,
        split_note="Debian dataset-fashion-mnist IDX files; validation = 6,000 train rows "
        "(numpy default_rng(0) permutation): 54,000 train / 6,000 validation / 10,000 test; "
        "deletion order 6,000 rows (10 % of the 60,000 source training images)",
    )
)
