"""Class-stratified deletion orders (``--stratify``) and MU-Bench's index files imported with ``--order``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mubench_hf import MubenchError, build_splits, read_manifest
from mubench_hf.cli.build_splits import main as build_splits_main
from mubench_hf.splits.order import stratified_order
from mubench_hf.tasks import get_task


def _prefix_deviation(labels: np.ndarray, order: np.ndarray) -> float:
    """Largest gap, over every prefix of ``order`` and every class, between the class's count in the
    prefix and its proportional share."""
    classes = np.unique(labels)
    shares = np.array([np.mean(labels == c) for c in classes])
    onehot = labels[order][:, None] == classes[None, :]
    counts = np.cumsum(onehot, axis=0)
    expected = np.arange(1, len(order) + 1)[:, None] * shares[None, :]
    return float(np.abs(counts - expected).max())


def test_every_prefix_holds_each_class_in_proportion():
    rng = np.random.default_rng(3)
    labels = rng.choice(7, size=2000, p=[0.4, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05])
    order = stratified_order(labels, 2000, seed=42)
    assert sorted(order.tolist()) == list(range(2000))  # a permutation of the rows
    # about one row from the proportional share at every prefix: measured max 1.32 over seeds 0..9 with
    # these 7 unequal classes (0.90 with 10 near-equal ones); integer arithmetic, no float-path spread
    for seed in range(10):
        assert _prefix_deviation(labels, stratified_order(labels, 2000, seed=seed)) < 2
    # a plain permutation is far from that
    assert _prefix_deviation(labels, np.random.default_rng(42).permutation(2000)) > 5


def test_the_order_is_seeded_and_truncated():
    labels = np.repeat(np.arange(4), 50)
    first = stratified_order(labels, 20, seed=7)
    assert np.array_equal(first, stratified_order(labels, 20, seed=7))
    assert not np.array_equal(first, stratified_order(labels, 20, seed=8))
    assert len(first) == 20 and np.array_equal(np.bincount(labels[first], minlength=4), [5, 5, 5, 5])
    assert np.array_equal(stratified_order(labels, 200, seed=7)[:20], first)  # nested


def test_build_splits_stratify_gives_proportional_forget_sets(tmp_path: Path):
    labels = np.asarray(get_task("digits").load()["train"]["label"])
    result = build_splits("digits", tmp_path / "repo", ratios=(2, 5, 10), stratify=True, show_progress=False)
    order = np.loadtxt(tmp_path / "repo" / "data" / "digits" / "deletion_order.txt", dtype=np.int64)
    assert len(order) == 125 == result.split_sizes["digits_del10"]["forget"]
    for count in (25, 62, 125):  # del2, del5, del10
        forget = np.bincount(labels[order[:count]], minlength=10)
        expected = np.bincount(labels, minlength=10) * count / len(labels)
        assert np.abs(forget - expected).max() < 2, count  # measured max 0.69 over seeds 0..9
    entry = read_manifest(tmp_path / "repo")["tasks"]["digits"]
    assert entry["order_description"].startswith("stratified: ") and entry["order_description"].endswith(
        "seed=42"
    )


def test_stratify_cli_flag_and_conflicts(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert build_splits_main(["--task", "digits", "--output", str(tmp_path / "a"), "--ratios", "5",
                              "--stratify", "--seed", "3", "--quiet"]) == 0  # fmt: skip
    described = read_manifest(tmp_path / "a")["tasks"]["digits"]["order_description"]
    assert described.startswith("stratified: ") and "seed=3" in described
    order_file = tmp_path / "order.txt"
    order_file.write_text("\n".join(str(i) for i in range(125)) + "\n")
    with pytest.raises(MubenchError, match="--stratify.*--order imports one: give one of them"):
        build_splits(
            "digits", tmp_path / "b", ratios=(5,), stratify=True, order=order_file, show_progress=False
        )
    assert not (tmp_path / "b").exists()


def test_a_mubench_index_file_imports_with_order(tmp_path: Path):
    """MU-Bench's ``mubench/df/<task>.txt``: one train index per line, class-stratified, 10 % of train.
    The fixture is written in that format here (for digits: 125 of 1,257 rows)."""
    labels = np.asarray(get_task("digits").load()["train"]["label"])
    rng = np.random.default_rng(0)
    per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in range(10)]
    # interleave the classes, as a stratified list does, and write one index per line
    interleaved = [int(rows[i]) for i in range(20) for rows in per_class if i < len(rows)][:125]
    mubench_file = tmp_path / "digits.txt"
    mubench_file.write_text("\n".join(map(str, interleaved)) + "\n")
    assert build_splits_main(["--task", "digits", "--output", str(tmp_path / "repo"), "--ratios", "1,10",
                              "--order", str(mubench_file), "--quiet"]) == 0  # fmt: skip
    stored = np.loadtxt(tmp_path / "repo" / "data" / "digits" / "deletion_order.txt", dtype=np.int64)
    assert stored.tolist() == interleaved
    entry = read_manifest(tmp_path / "repo")["tasks"]["digits"]
    assert entry["order_description"] == "imported from digits.txt"
    assert entry["split_sizes"]["digits_del1"]["forget"] == 12  # floor(1/10 * 125), MU-Bench's rule
    assert entry["split_sizes"]["digits_del10"]["forget"] == 125
