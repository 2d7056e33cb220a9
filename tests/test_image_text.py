"""The image_text modality (two images + a sentence, NLVR2-shaped), the offline digit_pairs task, the tiny
ViLT, and unlearning through them (methods, metrics, LoRA)."""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path

import datasets
import numpy as np
import pytest
import torch
from PIL import Image
from trainer_testlib import quiet_args, state
from transformers import ViltConfig, ViltForImagesAndTextClassification

from mubench_hf import MubenchError, build_splits
from mubench_hf.kinds.classification import build_model, tiny_config
from mubench_hf.modalities import get_modality
from mubench_hf.modalities.image_text import (
    ImageTextCollator,
    fast_pixels,
    image_text_transform,
    tiny_processor,
    tiny_vocabulary,
)
from mubench_hf.pipeline import prepare, unlearning_trainer
from mubench_hf.tasks import TASKS, get_task
from mubench_hf.tasks.digit_pairs import DIGIT_PAIRS_SIZES, STATEMENTS, load_digit_pairs_splits
from mubench_hf.trainers import UnlearnConfig, get_spec, list_methods

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SMALL_SIZES = {"train": 160, "validation": 40, "test": 80}


@pytest.fixture
def small_pairs(monkeypatch):
    """digit_pairs with few rows (same generator, same seed), registered under its own name."""
    task = dataclasses.replace(
        get_task("digit_pairs"),
        name="digit_pairs_small",
        loader=functools.partial(load_digit_pairs_splits, SMALL_SIZES),
    )
    monkeypatch.setitem(TASKS, task.name, task)
    return task


def _pair_rows(n: int, sizes=((8, 8), (8, 8)), texts=None) -> dict[str, list]:
    rng = np.random.default_rng(0)
    return {
        "image_left": [
            Image.fromarray(rng.integers(0, 256, (*sizes[0][::-1], 3), dtype=np.uint8)) for _ in range(n)
        ],
        "image_right": [
            Image.fromarray(rng.integers(0, 256, (*sizes[1][::-1], 3), dtype=np.uint8)) for _ in range(n)
        ],
        "text": texts or ["both digits are even"] * n,
        "label": [i % 2 for i in range(n)],
    }


# ---------------------------------------------------------------------------------- the modality
def test_the_modality_owns_its_columns_classes_and_tiny_model():
    modality = get_modality("image_text")
    task = get_task("digit_pairs")
    assert task.modality == "image_text" and task.class_names == ("False", "True")
    assert modality.input_columns == ("image_left", "image_right", "text")
    assert dict(task.features) == {
        "image_left": datasets.Image(),
        "image_right": datasets.Image(),
        "text": datasets.Value("string"),
        "label": datasets.ClassLabel(names=["False", "True"]),
        "sample_id": datasets.Value("int64"),
    }
    assert modality.pipeline_tag == "image-text-classification"
    # no Auto class maps to ViLT's two-image head in transformers 5: the loader builds that class
    loader = modality.auto_class()
    assert loader.__name__ == "ViltForImagesAndTextClassification"
    config = tiny_config(task, "vilt")
    assert isinstance(config, ViltConfig) and config.num_images == 2 and config.modality_type_vocab_size == 3
    assert config.vocab_size == len(tiny_vocabulary()) and config.num_labels == 2
    model = build_model(task, config)
    assert type(model) is ViltForImagesAndTextClassification
    with pytest.raises(
        MubenchError, match="unknown tiny architecture 'resnet' for image_text tasks; known: vilt"
    ):
        tiny_config(task, "resnet")


def test_model_cards_import_the_vilt_class():
    from mubench_hf.hub.cards import render_model_card

    card = render_model_card(
        "base", task="digit_pairs", dataset_repo="me/splits", dataset_hash=None,
        backbone="tiny", recipe={}, seed=0, results={"test_accuracy": 0.5}, model_name="me/m",
    )  # fmt: skip
    assert card.data.pipeline_tag == "image-text-classification"
    assert "from transformers import ViltForImagesAndTextClassification" in str(card)


def test_the_tiny_tokenizer_needs_no_download_and_keeps_words_whole():
    tokenizer = tiny_processor().tokenizer
    tokens = tokenizer.tokenize("The left digit is larger than the right one")
    assert tokens == ["the", "left", "digit", "is", "larger", "than", "the", "right", "one"]
    assert "[UNK]" not in tokenizer.tokenize("zebra quagga 42")  # other words fall back to characters


def test_fast_pixels_match_the_vilt_image_processor():
    processor = tiny_processor().image_processor
    images = _pair_rows(4)["image_left"]
    want = processor(images=images, return_tensors="pt")["pixel_values"]
    got = fast_pixels(processor, images)
    assert got.shape == want.shape == (4, 3, 8, 8)
    assert torch.allclose(got, want, atol=1e-6)  # measured max difference 1.2e-7
    # a size the processor changes, or mixed sizes: no shortcut (the processor itself runs)
    assert fast_pixels(processor, _pair_rows(2, sizes=((12, 10), (12, 10)))["image_left"]) is None
    mixed = _pair_rows(1)["image_left"] + _pair_rows(1, sizes=((16, 16), (16, 16)))["image_left"]
    assert fast_pixels(processor, mixed) is None


def test_transform_and_collator_pad_text_and_images():
    # shorter side 16, sides cut to multiples of 8: a 16x16 pair stays 16x16, a 16-wide 24-high one 24x16
    processor = tiny_processor(image_size=16, patch_size=8)
    config = tiny_config("digit_pairs", "vilt", image_size=16)
    transform = image_text_transform(config, processor)
    short = transform(_pair_rows(2, sizes=((16, 16), (16, 16)), texts=["both digits are even", "odd"]))
    tall = transform(
        _pair_rows(1, sizes=((16, 24), (16, 24)), texts=["the left digit is larger than the right one"])
    )
    assert short["pixel_values"][0].shape == (2, 3, 16, 16) and short["labels"] == [0, 1]
    assert tall["pixel_values"][0].shape == (2, 3, 24, 16)
    rows = [{k: v[i] for k, v in short.items()} for i in range(2)] + [{k: v[0] for k, v in tall.items()}]
    batch = ImageTextCollator(processor.tokenizer)(rows)
    assert (
        batch["input_ids"].shape[0] == 3
        and batch["attention_mask"][1].sum() < batch["attention_mask"][2].sum()
    )
    assert batch["pixel_values"].shape == (3, 2, 3, 24, 16) and batch["pixel_mask"].shape == (3, 2, 24, 16)
    assert batch["pixel_mask"][0, 0].sum() == 256 and batch["pixel_mask"][2, 1].sum() == 384
    assert torch.equal(batch["pixel_values"][0, :, :, 16:], torch.zeros(2, 3, 8, 16))  # padded with zeros
    assert batch["labels"].tolist() == [0, 1, 0]
    logits = build_model("digit_pairs", config)(**{k: v for k, v in batch.items() if k != "labels"}).logits
    assert logits.shape == (3, 2) and torch.isfinite(logits).all()


# --------------------------------------------------------------------------- decoding once a split
def _same(a, b) -> bool:
    """Equal values of the same types, dtypes and shapes, bit for bit."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _pair_split(n: int, sizes=((8, 8), (8, 8)), texts=None) -> datasets.Dataset:
    features = datasets.Features(
        {**{k: v for k, v in get_task("digit_pairs").features.items() if k != "sample_id"}}
    )
    return datasets.Dataset.from_dict(_pair_rows(n, sizes, texts), features=features).add_column(
        "sample_id", list(range(n))
    )


def test_splits_are_decoded_once_and_serve_the_lazy_transforms_rows(monkeypatch):
    import copy
    import pickle

    from mubench_hf.kinds.classification import prepare_splits
    from mubench_hf.modalities import image_text as module

    split = _pair_split(70, texts=[f"the left digit is {i % 10} and not odd" for i in range(70)])
    model = build_model("digit_pairs", tiny_config("digit_pairs", "vilt"))
    lazy = split.with_transform(image_text_transform(model, tiny_processor()))
    want = [lazy[i] for i in range(len(lazy))]
    calls = []
    real = module.fast_pixels
    monkeypatch.setattr(module, "fast_pixels", lambda *a: calls.append(1) or real(*a))
    prepared = prepare_splits(datasets.DatasetDict({"train": split}), "digit_pairs", model, tiny_processor())[
        "train"
    ]
    assert len(calls) == 1  # the first row, for the memory estimate: the rest waits for the first read
    rows = [prepared[i] for i in range(len(prepared))]
    assert len(calls) == 1 + 2  # at the first read, every row in two batches of 64: not once a row
    for _epoch in range(2):
        rows = [prepared[i] for i in range(len(prepared))]
    assert len(calls) == 3  # later epochs read the kept tensors
    assert _same(rows, want)  # the same tokens (lists), pixels, long masks and labels as the lazy rows
    collate = ImageTextCollator(tiny_processor().tokenizer)
    assert _same(collate(rows[:32]), collate(want[:32]))
    # shuffled, selected, pickled (DataLoader workers) or deep-copied, each row keeps its own tensors
    shuffled = prepared.shuffle(seed=1)
    order = shuffled.with_format(None)["sample_id"]
    assert _same([shuffled[j] for j in range(len(shuffled))], [want[i] for i in order])
    for other in (pickle.loads(pickle.dumps(prepared)), copy.deepcopy(prepared), prepared.select([5, 69])):
        last = other.with_format(None)["sample_id"][-1]
        assert _same(other[len(other) - 1], want[last])
    # the other columns stay readable, without touching the images' transform
    assert prepared.with_format(None)["sample_id"] == list(range(70))


def test_rows_of_other_sizes_are_processed_pair_by_pair():
    # pairs the fast path cannot take (the processor resizes them) each go through the processor alone: a
    # row's tensors do not depend on the batch it was transformed in (lazily one by one, or 64 at a time)
    processor = tiny_processor(image_size=16, patch_size=8)
    transform = image_text_transform(tiny_config("digit_pairs", "vilt", image_size=16), processor)
    rows = _pair_rows(2, sizes=((20, 16), (16, 16)))
    tall = _pair_rows(1, sizes=((16, 30), (16, 24)))
    batch = {k: rows[k] + tall[k] for k in rows}
    together = transform(batch)
    for i in range(3):
        alone = transform({k: v[i : i + 1] for k, v in batch.items()})
        assert _same({k: v[0] for k, v in alone.items()}, {k: v[i] for k, v in together.items()})
    assert together["pixel_values"][2].shape == (2, 3, 24, 16)  # padded within its pair only
    assert (
        together["pixel_mask"][2].shape == (2, 24, 16) and int(together["pixel_mask"][2][1].sum()) == 24 * 16
    )
    assert together["pixel_values"][0].shape == (2, 3, 16, 16)


def test_a_split_too_big_to_keep_stays_lazy_with_a_warning():
    from mubench_hf.modalities.image_text import DEFAULT_CACHE_BYTES

    assert DEFAULT_CACHE_BYTES == 1024**3
    modality = get_modality("image_text")
    model = build_model("digit_pairs", tiny_config("digit_pairs", "vilt"))
    # a pair of 8x8 RGB images: 2 x 3 x 8 x 8 float32 pixels + a 2 x 8 x 8 bool mask = 1,664 bytes a row
    transform = image_text_transform(model, tiny_processor(), cache_bytes=1664 * 30)
    small, big = _pair_split(20), _pair_split(40)
    kept = modality.prepare_split(small, transform)
    assert transform.prepared_bytes == 1664 * 20  # reserved from the first row
    message = r"decoding the 40 image pairs of an image_text split once would keep ~0 MiB"
    with pytest.warns(UserWarning, match=message):
        lazy = modality.prepare_split(big, transform)  # 40 more rows: past the 30 rows' budget
    assert transform.prepared_bytes == 1664 * 20
    assert "__prepared_row__" in kept.column_names and "__prepared_row__" not in lazy.column_names
    assert _same(lazy[3], big.with_transform(transform)[3])
    assert _same(kept[3], small.with_transform(transform)[3])
    assert transform.prepared_bytes == 1664 * 20  # kept, as reserved
    # rows that outgrow their reservation fall back to the lazy path too, still the same rows
    square = 2 * 3 * 16 * 16 * 4 + 2 * 16 * 16  # a pair of 16x16 images: 6,656 bytes
    tall = _pair_split(10, sizes=((16, 24), (16, 24)))  # 16 wide, 24 high: 9,984 bytes a row
    tight = image_text_transform(model, tiny_processor(image_size=16), cache_bytes=square * 12)
    mixed = datasets.concatenate_datasets([_pair_split(1, sizes=((16, 16), (16, 16))), tall])
    served = modality.prepare_split(mixed, tight)
    assert tight.prepared_bytes == square * 11  # estimated from the first row
    with pytest.warns(UserWarning, match="decoding the 11 image pairs"):
        row = served[4]
    assert _same(row, mixed.with_transform(tight)[4]) and tight.prepared_bytes == 0
    assert row["pixel_values"].shape == (2, 3, 24, 16)
    with pytest.raises(MubenchError, match="cache_bytes must be >= 0"):
        image_text_transform(model, tiny_processor(), cache_bytes=-1)


# ------------------------------------------------------------------------------- bad input
def test_a_row_missing_an_image_is_refused_before_anything_is_stored(tmp_path, monkeypatch):
    rows = _pair_rows(20)
    rows["image_right"][7] = None
    features = datasets.Features(
        {**{k: v for k, v in get_task("digit_pairs").features.items() if k != "sample_id"}}
    )
    broken = datasets.Dataset.from_dict(rows, features=features)
    task = dataclasses.replace(
        get_task("digit_pairs"), name="broken_pairs",
        loader=lambda: datasets.DatasetDict({"train": broken, "validation": broken, "test": broken}),
    )  # fmt: skip
    monkeypatch.setitem(TASKS, task.name, task)
    with pytest.raises(MubenchError, match=r"1 row\(s\) have no 'image_right' image \(first at row 7\); every "
                       r"image_text row needs both 'image_left' and 'image_right'"):  # fmt: skip
        build_splits(task, tmp_path / "repo", ratios=(10,), show_progress=False)
    assert not (tmp_path / "repo").exists()
    # and a batch that reaches the transform anyway names the row
    transform = image_text_transform(tiny_config("digit_pairs", "vilt"), tiny_processor())
    with pytest.raises(MubenchError, match="sample_id 7 has no 'image_right' image"):
        transform({**rows, "sample_id": list(range(20))})


def test_a_processor_without_images_is_refused():
    with pytest.raises(
        MubenchError, match="need a ViLT-style processor with an image processor and a tokenizer"
    ):
        image_text_transform(None, tiny_processor().tokenizer)


# ----------------------------------------------------------------------------- digit pairs
def test_digit_pairs_are_balanced_varied_and_seeded():
    assert DIGIT_PAIRS_SIZES == {"train": 4000, "validation": 400, "test": 800}
    data = load_digit_pairs_splits({"train": 400, "validation": 40, "test": 80})
    for split in data.values():
        labels = np.asarray(split["label"])
        assert abs(labels.mean() - 0.5) < 1e-9
    train = data["train"]
    assert len(set(train["text"])) >= 40  # many phrasings, digits and parities
    again = load_digit_pairs_splits({"train": 50, "validation": 5, "test": 5})
    assert (
        again["train"]["text"]
        == load_digit_pairs_splits({"train": 50, "validation": 5, "test": 5})["train"]["text"]
    )
    assert (
        again["train"]["text"]
        != load_digit_pairs_splits({"train": 50, "validation": 5, "test": 5}, seed=1)["train"]["text"]
    )
    assert set(train["statement"]) == {s.name for s in STATEMENTS}


def test_digit_pair_sentences_are_true_exactly_when_labelled_so():
    from mubench_hf.tasks.digits import load_digits_splits

    pool = load_digits_splits()["train"]
    by_bytes = {np.asarray(img).tobytes(): int(label) for img, label in zip(pool["image"], pool["label"])}
    rows = load_digit_pairs_splits({"train": 300, "validation": 2, "test": 2})["train"]
    words = {
        w: i
        for i, w in enumerate(
            ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
        )
    }
    checked = 0
    for row in rows:
        x, y = (
            by_bytes[np.asarray(row["image_left"]).tobytes()],
            by_bytes[np.asarray(row["image_right"]).tobytes()],
        )
        text, truth = row["text"], bool(row["label"])
        if row["statement"] in ("larger", "smaller") and "left digit is" in text:
            assert truth == ((x > y) if "larger" in text else (x < y)), text
            checked += 1
        elif row["statement"] == "both_even":
            assert truth == (x % 2 == 0 and y % 2 == 0), text
            checked += 1
        elif row["statement"] == "left_is":
            assert truth == (x == next(words[w] for w in text.split() if w in words)), text
            checked += 1
    assert checked > 30


# -------------------------------------------------------------------------- training through it
def test_one_unlearning_step_trains_the_tiny_vilt(small_pairs, tmp_path):
    build_splits(small_pairs, tmp_path / "repo", ratios=(10,), show_progress=False)
    prepared = prepare(
        str(tmp_path / "repo"), "digit_pairs_small_del10", "tiny:vilt", cache_dir=str(tmp_path / "c")
    )
    assert len(prepared.splits["forget"]) == 16
    before = state(prepared.model)
    args = UnlearnConfig(method="grad_diff", max_steps=2, learning_rate=1e-2, **quiet_args(tmp_path / "out"))
    unlearning_trainer(prepared, args).train()
    assert any(not torch.equal(before[k], v) for k, v in state(prepared.model).items())


def test_lora_unlearning_trains_only_adapters_and_the_head(small_pairs, tmp_path):
    from mubench_hf.lora import apply_lora

    build_splits(small_pairs, tmp_path / "repo", ratios=(10,), show_progress=False)
    model = build_model(small_pairs, tiny_config(small_pairs, "vilt"))
    lora_model, plan = apply_lora(model, r=4)
    # the targets are ViLT's attention projections, found in the model; the head is saved in full
    assert plan.target_modules and all(
        t.startswith("vilt.encoder.layer.") and t.split(".")[-1] in ("query", "key", "value", "dense")
        for t in plan.target_modules
    )
    assert plan.modules_to_save == ("classifier",)
    prepared = prepare(
        str(tmp_path / "repo"), "digit_pairs_small_del10", lora_model, cache_dir=str(tmp_path / "c")
    )
    before = {k: v.clone() for k, v in lora_model.state_dict().items()}
    args = UnlearnConfig(
        method="grad_ascent", max_steps=2, learning_rate=1e-2, **quiet_args(tmp_path / "out")
    )
    unlearning_trainer(prepared, args).train()
    changed = {k for k, v in lora_model.state_dict().items() if not torch.equal(before[k], v)}
    assert changed and all("lora_" in k or "classifier" in k for k in changed), sorted(changed)[:5]
    assert any("lora_" in k for k in changed)


def _grid_run(tmp_path: Path, methods: str) -> list[dict]:
    import json

    from mubench_hf.cli.run import main as run_main

    grid = tmp_path / "grid.yaml"
    grid.write_text(
        "task: digit_pairs_small\nmodel: tiny:vilt\nratios: [10]\nseeds: [42]\n"
        f"methods: {methods}\noutput: {tmp_path / 'runs'}\n"
        "base_recipe: {num_train_epochs: 2, learning_rate: 2.0e-3}\n"
    )
    assert run_main([str(grid), "--no-progress"]) == 0
    return [json.loads(line) for line in (tmp_path / "runs" / "results.jsonl").read_text().splitlines()]


def _finite_metrics(rows: list[dict]) -> None:
    for row in rows:
        numbers = {k: v for k, v in row.items() if isinstance(v, float)}
        assert numbers and all(math.isfinite(v) for v in numbers.values()), row.get("method")


def test_a_sweep_runs_on_image_text(small_pairs, tmp_path):
    rows = _grid_run(tmp_path, "grad_ascent,random_label")
    assert {row["method"] for row in rows} >= {"grad_ascent", "random_label"}
    _finite_metrics(rows)


@pytest.mark.slow
def test_every_method_runs_on_image_text(small_pairs, tmp_path):
    rows = _grid_run(tmp_path, "all")
    assert {row["method"] for row in rows} >= set(list_methods("classification")) - {"retrain"}
    _finite_metrics(rows)


# ------------------------------------------------------------------------------ class-wise
@pytest.fixture(scope="module")
def class_true(tmp_path_factory):
    """digit_pairs_small_class1 (forget every "True" row) and a base model trained on all rows, made once."""
    from mubench_hf.reference_models import RecipeArguments, train_base

    task = dataclasses.replace(
        get_task("digit_pairs"),
        name="digit_pairs_small",
        loader=functools.partial(load_digit_pairs_splits, SMALL_SIZES),
    )
    tmp_path = tmp_path_factory.mktemp("class_true")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(TASKS, task.name, task)
        repo = tmp_path / "repo"
        build_splits(task, repo, ratios=(10,), forget_classes=["True"], show_progress=False)
        base = tmp_path / "base"
        recipe = RecipeArguments(
            output_dir=str(base), num_train_epochs=2, learning_rate=2e-3, disable_tqdm=True
        )
        train_base(str(repo), task, "tiny:vilt", base, args=recipe, cache_dir=str(tmp_path / "c"), quiet=True)
        yield repo, base


def _forget_accuracy(model, prepared) -> float:
    from torch.utils.data import DataLoader

    from mubench_hf.trainers.data import RowDataset

    model.eval()
    correct = total = 0
    with torch.no_grad():
        for batch in DataLoader(
            RowDataset(prepared.splits["forget"]), batch_size=64, collate_fn=prepared.collator
        ):
            labels = batch.pop("labels")
            correct += int((model(**batch).logits.argmax(-1) == labels).sum())
            total += len(labels)
    return correct / total


def _forgets_the_class(method: str, repo: Path, base: Path, tmp_path: Path) -> tuple[float, float]:
    prepared = prepare(str(repo), "digit_pairs_small_class1", str(base), cache_dir=str(tmp_path / "c"))
    before = _forget_accuracy(prepared.model, prepared)
    settings = dict(get_spec(method).quick_settings) if method != "retrain" else {}
    args = UnlearnConfig(
        method=method, **quiet_args(tmp_path / method, **{"num_train_epochs": 3, **settings})
    )
    trainer = unlearning_trainer(prepared, args)
    trainer.train()
    return before, _forget_accuracy(trainer.model, prepared)


@pytest.mark.parametrize("method", ["grad_ascent", "random_label"])
def test_forgetting_methods_lower_the_class_accuracy(method, class_true, small_pairs, tmp_path):
    before, after = _forgets_the_class(method, *class_true, tmp_path)
    assert after < before, f"{method}: {before:.3f} -> {after:.3f}"


# Measured on this small config, whose base (2 epochs on 160 rows) calls every forget row "True": bad_teaching
# with its quick (digits) settings leaves the forget accuracy at 1.000, and SSD dampens no weight at all
# (dampened_fraction 0). Strict: the mark must go once they forget here.
_NOT_YET = {
    "bad_teaching": "quick settings leave the forget accuracy at 1.000 on this small config",
    # measured 1.000 -> 1.000: θo calls every forget row "True", and an FGSM step of 0.1 on the pixels does
    # not cross its boundary, so the neighbouring class boundary shrink trains towards is the true one
    "boundary_shrink": "the FGSM step finds no other class on this small config (1.000 -> 1.000)",
    "ssd": "dampens no weight (dampened_fraction 0) on this small config",
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "method",
    [
        pytest.param(m, marks=pytest.mark.xfail(reason=_NOT_YET[m], strict=True)) if m in _NOT_YET else m
        for m in list_methods("classification")
    ],
)
def test_every_forgetting_method_lowers_the_class_accuracy(method, class_true, small_pairs, tmp_path):
    before, after = _forgets_the_class(method, *class_true, tmp_path)
    assert after < before, f"{method}: {before:.3f} -> {after:.3f}"
