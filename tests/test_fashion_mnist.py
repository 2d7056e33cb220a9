"""The offline fashion_mnist task: IDX reading, the documented split, del5's 3,000 forget rows.

Tests that need Debian's dataset-fashion-mnist files skip when they are absent (apt-get install
dataset-fashion-mnist); the loader's logic is also tested on small synthetic IDX files.
"""

from __future__ import annotations

import gzip
from fractions import Fraction

import numpy as np
import pytest

from mubench_hf import MubenchError
from mubench_hf.splits.ratios import forget_counts
from mubench_hf.tasks import get_task
from mubench_hf.tasks.fashion_mnist import (
    FASHION_MNIST_CLASS_NAMES,
    FASHION_MNIST_DIR_ENV,
    FASHION_MNIST_FILES,
    FASHION_MNIST_SPLIT_SEED,
    FASHION_MNIST_VALIDATION_SIZE,
    fashion_mnist_available,
    fashion_mnist_dir,
    load_fashion_mnist_splits,
    read_idx,
)

needs_files = pytest.mark.skipif(
    not fashion_mnist_available(),
    reason=f"Fashion-MNIST IDX files not found in {fashion_mnist_dir()} "
    f"(apt-get install dataset-fashion-mnist, or set {FASHION_MNIST_DIR_ENV})",
)


def _write_idx(path, array: np.ndarray) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def _synthetic_folder(root, num_train: int = FASHION_MNIST_VALIDATION_SIZE + 40, num_test: int = 20):
    rng = np.random.default_rng(0)
    arrays = {
        "train_images": rng.integers(0, 256, (num_train, 28, 28)),
        "train_labels": rng.integers(0, 10, num_train),
        "test_images": rng.integers(0, 256, (num_test, 28, 28)),
        "test_labels": rng.integers(0, 10, num_test),
    }
    for key, name in FASHION_MNIST_FILES.items():
        _write_idx(root / name, arrays[key])
    return arrays


def test_read_idx_reads_images_and_labels_and_refuses_other_files(tmp_path) -> None:
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4) % 256
    _write_idx(tmp_path / "i.gz", images)
    _write_idx(tmp_path / "l.gz", np.array([3, 9]))
    assert np.array_equal(read_idx(tmp_path / "i.gz"), images)
    assert read_idx(tmp_path / "l.gz").tolist() == [3, 9]
    with gzip.open(tmp_path / "bad.gz", "wb") as handle:
        handle.write((1234).to_bytes(4, "big") + (1).to_bytes(4, "big") + b"\x00")
    with pytest.raises(MubenchError, match="not an IDX file"):
        read_idx(tmp_path / "bad.gz")
    with gzip.open(tmp_path / "short.gz", "wb") as handle:
        handle.write((2049).to_bytes(4, "big") + (5).to_bytes(4, "big") + b"\x00")
    with pytest.raises(MubenchError, match="promises 5 bytes"):
        read_idx(tmp_path / "short.gz")


def test_the_loader_carves_a_seeded_validation_split(tmp_path) -> None:
    arrays = _synthetic_folder(tmp_path)
    data = load_fashion_mnist_splits(tmp_path)
    assert {k: len(v) for k, v in data.items()} == {"train": 40, "validation": 6000, "test": 20}
    assert data["train"].features["label"].names == list(FASHION_MNIST_CLASS_NAMES)
    permutation = np.random.default_rng(FASHION_MNIST_SPLIT_SEED).permutation(6040)
    train_rows = np.sort(permutation[FASHION_MNIST_VALIDATION_SIZE:])
    assert data["train"]["label"] == arrays["train_labels"][train_rows].tolist()
    first = np.asarray(data["train"][0]["image"])
    assert first.shape == (28, 28) and np.array_equal(first, arrays["train_images"][train_rows[0]])
    assert np.array_equal(np.asarray(data["test"][5]["image"]), arrays["test_images"][5])


def test_missing_files_say_how_to_get_them(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(FASHION_MNIST_DIR_ENV, str(tmp_path))
    assert not fashion_mnist_available()
    with pytest.raises(MubenchError, match="apt-get install dataset-fashion-mnist"):
        get_task("fashion_mnist").load()


@needs_files
def test_the_real_task_has_the_documented_split_and_3000_forget_rows_at_del5() -> None:
    task = get_task("fashion_mnist")
    data = task.load()
    sizes = {k: len(v) for k, v in data.items()}
    assert sizes == {"train": 54_000, "validation": 6_000, "test": 10_000}
    assert sum(sizes.values()) == 70_000 and task.num_labels == 10
    raw_labels = read_idx(fashion_mnist_dir() / FASHION_MNIST_FILES["train_labels"])
    permutation = np.random.default_rng(FASHION_MNIST_SPLIT_SEED).permutation(60_000)
    assert data["validation"]["label"] == raw_labels[np.sort(permutation[:6000])].tolist()
    # every class is in validation (seeded permutation, not stratified: measured 579-626 rows per class)
    assert np.bincount(data["validation"]["label"], minlength=10).min() > 500
    order = task.deletion_order_size(sizes["train"])
    assert order == 6_000  # 10 % of the 60,000 source training images
    assert forget_counts([Fraction(1), Fraction(5), Fraction(10)], order, sizes["train"]) == [600, 3000, 6000]


@needs_files
@pytest.mark.slow
def test_build_splits_writes_del5_with_3000_forget_rows(tmp_path) -> None:
    import datasets

    from mubench_hf import build_splits

    build_splits("fashion_mnist", tmp_path / "repo", ratios=(5,), show_progress=False)
    del5 = datasets.load_dataset(str(tmp_path / "repo"), "fashion_mnist_del5", cache_dir=str(tmp_path / "c"))
    assert len(del5["forget"]) == 3000 and len(del5["retain"]) == 51_000 and len(del5["test"]) == 10_000
