"""MU-Bench's NLVR2 and Tiny-ImageNet tasks, built from upstream-shaped local copies (never the Hub)."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest

from mubench_hf import MubenchError, build_splits, get_task
from mubench_hf.tasks.mubench_hub_tasks import NLVR2_IMAGES_ENV, TINY_IMAGENET_CLASSES
from tests.fixtures.mubench_hub import nlvr2_folder, tiny_imagenet_like


def test_the_tasks_are_registered():
    nlvr2, tiny = get_task("nlvr2"), get_task("tiny_imagenet")
    assert nlvr2.modality == "image_text" and nlvr2.hub.repo_id == "jialicheng/nlvr2"
    assert nlvr2.class_names == ("False", "True")
    assert tiny.modality == "image" and tiny.hub.repo_id == "zh-plus/tiny-imagenet" and tiny.num_labels == 200
    assert len(set(TINY_IMAGENET_CLASSES)) == 200 and list(TINY_IMAGENET_CLASSES) == sorted(
        TINY_IMAGENET_CLASSES
    )
    assert tiny.test_split == "valid" and tiny.validation_split is None


def test_nlvr2_from_mubench_files_and_images(tmp_path: Path, fresh_cache: str):
    source = nlvr2_folder(tmp_path / "nlvr2")
    result = build_splits("nlvr2", tmp_path / "repo", ratios=(10,), source=source, show_progress=False)
    assert result.split_sizes["nlvr2_del10"] == {
        "train": 30,
        "forget": 3,
        "retain": 27,
        "validation": 10,
        "test": 10,
    }
    splits = datasets.load_dataset(str(tmp_path / "repo"), "nlvr2_del10", cache_dir=fresh_cache)
    row = splits["train"][splits["train"]["sample_id"].index(1)]  # rows are stored in deletion order
    assert set(splits["train"].column_names) == {"image_left", "image_right", "text", "label", "sample_id"}
    assert row["image_left"].size == (16, 12) and row["text"] == "there are 1 dogs" and row["label"] == 1
    assert splits["train"].features["label"].names == ["False", "True"]


def test_nlvr2_needs_its_images(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    source = nlvr2_folder(tmp_path / "nlvr2")
    (source / "images" / "train" / "train-4-0-img1.png").unlink()
    with pytest.raises(MubenchError, match=r"row 4: image .*train-4-0-img1.png is not in the source folder"):
        build_splits("nlvr2", tmp_path / "repo", ratios=(10,), source=source, show_progress=False)
    # annotations without the photographs (the Hub repo's content) and no image folder: say where to get them
    monkeypatch.delenv(NLVR2_IMAGES_ENV, raising=False)
    annotations = datasets.load_dataset("json", data_files={"train": str(source / "train.json"),
                                                            "validation": str(source / "dev.json"),
                                                            "test": str(source / "test.json")})  # fmt: skip
    with pytest.raises(MubenchError, match=f"holds the annotations only; set {NLVR2_IMAGES_ENV}"):
        build_splits("nlvr2", tmp_path / "repo2", ratios=(10,), source=annotations, show_progress=False)
    monkeypatch.setenv(NLVR2_IMAGES_ENV, str(source))
    (source / "images" / "train" / "train-4-0-img1.png").write_bytes(
        (source / "images" / "train" / "train-3-0-img1.png").read_bytes()
    )
    result = build_splits("nlvr2", tmp_path / "repo3", ratios=(10,), source=annotations, show_progress=False)
    assert result.split_sizes["nlvr2_del10"]["train"] == 30


def test_tiny_imagenet_from_an_upstream_shaped_source(tmp_path: Path, fresh_cache: str):
    result = build_splits("tiny_imagenet", tmp_path / "repo", ratios=(5,), source=tiny_imagenet_like(),
                          forget_classes=["n01443537"], show_progress=False)  # fmt: skip
    assert result.split_sizes["tiny_imagenet_del5"] == {
        "train": 400,
        "forget": 20,
        "retain": 380,
        "test": 100,
    }
    assert result.split_sizes["tiny_imagenet_class0"]["forget"] == 2
    splits = datasets.load_dataset(str(tmp_path / "repo"), "tiny_imagenet_del5", cache_dir=fresh_cache)
    assert splits["test"][0]["image"].size == (64, 64)
    assert splits["train"].features["label"].names[199] == "n12267677"
