"""The text-to-image tasks beyond digits: ``fashion_mnist_t2i`` (offline, Debian's Fashion-MNIST files),
``tiny_imagenet_t2i`` (Stable Diffusion with Tiny-ImageNet's class prompts) and ``unlearncanvas_style`` /
``unlearncanvas_object`` (UnlearnCanvas's release layout, checked against OPTML-Group/UnlearnCanvas's
``dataset_preparation.py`` and ``constants/const.py``), each built from local data of its upstream shape."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import numpy as np
import pytest

from mubench_hf import MubenchError, build_splits, get_task
from mubench_hf.tasks.fashion_mnist import fashion_mnist_arrays, fashion_mnist_available
from tests.fixtures.mubench_hub import tiny_imagenet_like
from tests.fixtures.unlearncanvas import unlearncanvas_folder


@pytest.mark.skipif(not fashion_mnist_available(), reason="apt-get install dataset-fashion-mnist")
def test_fashion_mnist_t2i_is_a_class_balanced_subset_with_garment_prompts(tmp_path: Path) -> None:
    task = get_task("fashion_mnist_t2i")
    data = task.load()
    assert {k: len(v) for k, v in data.items()} == {"train": 1000, "validation": 500, "test": 1000}
    for split, per_class in (("train", 100), ("validation", 50), ("test", 100)):
        assert np.bincount(np.asarray(data[split]["label"]), minlength=10).tolist() == [per_class] * 10
    assert data["train"][0]["image"].size == (28, 28) and task.image_size == 14 and task.channels == 1
    assert task.prompt(7) == "a picture of a sneaker" and task.prompt(9) == "a picture of an ankle boot"
    # the rows are fashion_mnist's own: the first training sneaker is the first of its documented train split
    images, labels = fashion_mnist_arrays()["train"]
    sneaker = next(i for i, label in enumerate(data["train"]["label"]) if label == 7)
    assert np.array_equal(images[np.flatnonzero(labels == 7)[0]], np.asarray(data["train"][sneaker]["image"]))
    result = build_splits("fashion_mnist_t2i", tmp_path / "repo", ratios=(5,), forget_classes=[7],
                          show_progress=False)  # fmt: skip
    assert result.split_sizes["fashion_mnist_t2i_class7"]["forget"] == 100
    assert result.split_sizes["fashion_mnist_t2i_del5"]["forget"] == 50  # 5 % of the 1,000 train rows


def test_tiny_imagenet_t2i_prompts_every_class_by_its_imagenet_name(tmp_path: Path) -> None:
    task = get_task("tiny_imagenet_t2i")
    assert task.kind == "image_generation" and task.hub.repo_id == "zh-plus/tiny-imagenet"
    assert task.default_model == "CompVis/stable-diffusion-v1-4" and task.test_split == "valid"
    prompts = task.prompts()
    assert len(prompts) == 200 == len(set(prompts))
    assert prompts[0] == "a photo of a goldfish." and prompts[199] == "a photo of a acorn."
    assert task.prompt(task.label2id["n02123394"]) == "a photo of a Persian cat."
    result = build_splits("tiny_imagenet_t2i", tmp_path / "repo", ratios=(5,), source=tiny_imagenet_like(),
                          forget_classes=["n01443537"], show_progress=False)  # fmt: skip
    assert result.split_sizes["tiny_imagenet_t2i_class0"] == {
        "train": 400,
        "forget": 2,
        "retain": 398,
        "test": 100,
    }


def test_stable_diffusion_tasks_keep_their_fine_tuning_recipe_for_a_pretrained_start(tmp_path: Path) -> None:
    from mubench_hf.reference_models.recipe import recipe_defaults_for

    task = get_task("tiny_imagenet_t2i")
    (tmp_path / "sd").mkdir()
    (tmp_path / "sd" / "model_index.json").write_text("{}")
    for start in (str(tmp_path / "sd"), "CompVis/stable-diffusion-v1-4"):
        recipe = recipe_defaults_for(task, start)
        assert recipe["learning_rate"] == 1e-5 and recipe["num_train_epochs"] == 1.0
        assert recipe["lr_scheduler_type"] == "constant"
    assert recipe_defaults_for(get_task("fashion_mnist_t2i"), "tiny:unet")["learning_rate"] == 2e-3


def test_tasks_json_lists_the_text_to_image_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    from mubench_hf.cli import main

    assert main(["tasks", "--json"]) == 0
    records = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    t2i = {name: r for name, r in records.items() if r["kind"] == "image_generation"}
    assert sorted(t2i) == ["digits_t2i", "fashion_mnist_t2i", "tiny_imagenet_t2i", "unlearncanvas_object",
                           "unlearncanvas_style"]  # fmt: skip
    assert {name: r["offline"] for name, r in t2i.items()} == {
        "digits_t2i": True, "fashion_mnist_t2i": True, "tiny_imagenet_t2i": False,
        "unlearncanvas_object": False, "unlearncanvas_style": False,
    }  # fmt: skip
    assert t2i["unlearncanvas_style"]["source"] == "OPTML-Group/UnlearnCanvas@main"
    assert t2i["tiny_imagenet_t2i"]["default_model"] == "CompVis/stable-diffusion-v1-4"
    assert t2i["digits_t2i"]["default_model"] is None and records["digits"]["default_model"] is None


def test_unlearncanvas_reads_the_release_layout_and_splits_each_style_object(tmp_path: Path) -> None:
    folder = unlearncanvas_folder(tmp_path / "release")
    style = get_task("unlearncanvas_style")
    assert (
        style.num_labels == 51 and style.prompt(style.label2id["Van_Gogh"]) == "An image in Van Gogh style."
    )
    assert style.prompt(style.label2id["Seed_Images"]) == "An image in Photo style."
    objects = get_task("unlearncanvas_object")
    assert objects.num_labels == 20 and objects.prompt(objects.label2id["Dogs"]) == "A Dogs image."
    assert objects.prompt(objects.label2id["Architectures"]) == "An Architectures image."
    data = style.load(source=str(folder))
    # 3 styles x 2 objects: images 1-18 train, 19 validation, 20 test of each
    assert {k: len(v) for k, v in data.items()} == {"train": 108, "validation": 6, "test": 6}
    names = [style.class_names[k] for k in data["test"]["label"]]
    assert sorted(set(names)) == ["Crayon", "Seed_Images", "Van_Gogh"]
    result = build_splits("unlearncanvas_style", tmp_path / "repo", ratios=(5,), source=str(folder),
                          forget_classes=["Van_Gogh"], show_progress=False)  # fmt: skip
    k = style.label2id["Van_Gogh"]
    assert result.split_sizes[f"unlearncanvas_style_class{k}"]["forget"] == 36  # 2 objects x 18
    by_object = objects.load(source=str(folder))
    assert np.bincount(np.asarray(by_object["train"]["label"])).max() == 54  # 3 styles x 18 of one object


def test_unlearncanvas_reads_rows_with_style_and_object_columns_and_names_missing_ones(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(0)
    rows = {
        "image": [rng.integers(0, 255, (8, 8, 3), dtype=np.uint8) for _ in range(40)],
        "style": ["Monet"] * 20 + ["Crayon"] * 20,
        "object": ["Cats"] * 40,
    }
    features = datasets.Features({"image": datasets.Image(), "style": datasets.Value("string"),
                                  "object": datasets.Value("string")})  # fmt: skip
    source = datasets.DatasetDict({"train": datasets.Dataset.from_dict(rows, features=features)})
    data = get_task("unlearncanvas_style").load(source=source)
    assert {k: len(v) for k, v in data.items()} == {"train": 36, "validation": 2, "test": 2}
    wrong = datasets.DatasetDict({"train": source["train"].rename_column("style", "theme")})
    with pytest.raises(MubenchError, match="no 'style' column; its columns are .*theme"):
        get_task("unlearncanvas_style").load(source=wrong)
    odd = datasets.DatasetDict({"train": source["train"].map(lambda r: {"style": "Oils"})})
    with pytest.raises(MubenchError, match="unknown style \\['Oils'\\]"):
        get_task("unlearncanvas_style").load(source=odd)
