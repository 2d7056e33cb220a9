"""Modalities as plug-ins: the registry, what each shipped modality owns, transforms unchanged by the move
into ``mubench_hf.modalities``, and a new modality added as one module and run end to end."""

from __future__ import annotations

import importlib
import sys
import textwrap

import datasets
import numpy as np
import pytest
import torch
from PIL import Image
from trainer_testlib import quiet_args, state
from transformers import (
    AutoImageProcessor,
    AutoModelForImageClassification,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    DataCollatorWithPadding,
    PreTrainedTokenizerFast,
    ResNetConfig,
    ViTConfig,
    ViTImageProcessorPil,
    default_data_collator,
)

from mubench_hf.errors import MubenchError
from mubench_hf.kinds.classification import (
    auto_class_for,
    build_model,
    data_collator_for,
    load_processor,
    prepare_splits,
    resolve_model,
    task_transform,
    tiny_config,
)
from mubench_hf.modalities import (
    Modality,
    UnknownModalityError,
    get_modality,
    list_modalities,
    register_modality,
)
from mubench_hf.tasks import TASKS, Task, get_task

pytestmark = pytest.mark.usefixtures("one_torch_thread")

BUILT_IN = {
    "image": dict(
        column="image",
        feature=datasets.Image(),
        auto_class=AutoModelForImageClassification,
        processor_class=AutoImageProcessor,
        pipeline_tag="image-classification",
        tiny={"resnet": ResNetConfig, "vit": ViTConfig},
        task="digits",
    ),
    "text": dict(
        column="text",
        feature=datasets.Value("string"),
        auto_class=AutoModelForSequenceClassification,
        processor_class=AutoTokenizer,
        pipeline_tag="text-classification",
        tiny={"bert": BertConfig},
        task="imdb",
    ),
}


# ---------------------------------------------------------------------------------------- registry
def test_the_shipped_modalities_are_registered():
    assert {"image", "text"} <= set(list_modalities())
    for name in BUILT_IN:
        modality = get_modality(name)
        assert isinstance(modality, Modality) and modality.name == name


def test_an_unknown_modality_names_the_known_ones():
    with pytest.raises(
        UnknownModalityError, match="unknown modality 'smell'; known modalities: .*image.*text"
    ):
        get_modality("smell")
    with pytest.raises(MubenchError, match=r"modality must be one of \[.*'image'.*'text'.*\], not 'smell'"):
        Task(name="x", modality="smell", class_names=("a",), loader=lambda: None)


def test_a_modality_is_registered_once_unless_replaced():
    image = get_modality("image")
    with pytest.raises(MubenchError, match="already registered"):
        register_modality(type(image)())
    assert register_modality(image, replace=True) is image
    with pytest.raises(MubenchError, match="needs a Modality instance"):
        register_modality("image")  # type: ignore[arg-type]


# -------------------------------------------------------------------- what each built-in one owns
@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_each_builtin_modality_owns_its_column_feature_classes_and_tiny_models(name):
    expected, modality = BUILT_IN[name], get_modality(name)
    task = get_task(expected["task"])
    assert modality.input_column == task.input_column == expected["column"]
    assert modality.input_feature() == task.features[task.input_column] == expected["feature"]
    assert modality.auto_class() is auto_class_for(task) is expected["auto_class"]
    assert modality.processor_class() is expected["processor_class"]
    assert modality.pipeline_tag == expected["pipeline_tag"]
    assert set(modality.tiny_configs()) == set(expected["tiny"])
    for architecture, config_class in expected["tiny"].items():
        config = tiny_config(task, architecture)
        assert type(config) is config_class and config.num_labels == task.num_labels
        assert config.id2label == task.id2label


def test_a_tiny_architecture_belongs_to_its_modality():
    with pytest.raises(MubenchError, match="unknown tiny architecture 'resnet' for text tasks; known: bert"):
        tiny_config("imdb", "resnet")
    with pytest.raises(MubenchError, match="for image tasks; known: resnet, vit"):
        tiny_config("digits", "bert")


def test_model_cards_use_the_modality_wording():
    from mubench_hf.hub.cards import render_model_card

    for name, expected in BUILT_IN.items():
        card = render_model_card(
            "base", task=expected["task"], dataset_repo="me/splits", dataset_hash=None,
            backbone="tiny", recipe={}, seed=0, results={"test_accuracy": 0.5}, model_name="me/m",
        )  # fmt: skip
        assert card.data.pipeline_tag == expected["pipeline_tag"], name
        assert f"from transformers import {expected['auto_class'].__name__}" in str(card)


def test_grey_images_get_one_channel_models_built_from_a_config():
    features = datasets.Features({"image": datasets.Image()})
    grey = datasets.Dataset.from_dict({"image": [Image.new("L", (8, 8))]}, features=features)
    colour = datasets.Dataset.from_dict({"image": [Image.new("RGB", (8, 8))]}, features=features)
    assert resolve_model("digits", "tiny:resnet", grey).config.num_channels == 1
    assert resolve_model("digits", "tiny:vit", colour).config.num_channels == 3
    assert build_model("digits", tiny_config("digits", "resnet"), num_channels=1).config.num_channels == 1
    # text models ignore the image-only option
    assert build_model("imdb", tiny_config("imdb", "bert"), num_channels=1).config.model_type == "bert"


def test_processors_without_a_checkpoint():
    assert load_processor("digits", None) is None
    assert load_processor("digits", "tiny:vit") is None
    with pytest.raises(MubenchError, match="text tasks need a tokenizer: pass --processor"):
        load_processor("imdb", "tiny:bert")
    assert data_collator_for("digits") is default_data_collator


# ------------------------------------------------- transforms: the same output as before the move
def _reference_pixels(image: Image.Image, channels: int, size: tuple[int, int] | None) -> torch.Tensor:
    """The tensor transform as ``processing.image_transform`` wrote it before modalities existed."""
    image = image.convert("L" if channels == 1 else "RGB")
    if size is not None and image.size != (size[1], size[0]):
        image = image.resize((size[1], size[0]), Image.BILINEAR)
    array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(array[None] if array.ndim == 2 else array.transpose(2, 0, 1).copy())


def _images() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    return [
        Image.fromarray(rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)),
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)),
        Image.fromarray(rng.integers(0, 256, (8, 8, 4), dtype=np.uint8), mode="RGBA"),
    ]


@pytest.mark.parametrize("architecture", ["resnet", "vit"])
@pytest.mark.parametrize("channels", [1, 3])
def test_image_pixels_are_bit_identical_to_the_old_transform(architecture, channels):
    config = tiny_config("digits", architecture, num_channels=channels)
    size = (8, 8) if architecture == "vit" else None
    images = _images()
    out = task_transform("digits", config)({"image": images, "label": [0, 1, 2]})
    assert out["labels"] == [0, 1, 2]
    for got, image in zip(out["pixel_values"], images):
        want = _reference_pixels(image, channels, size)
        assert got.dtype == want.dtype and torch.equal(got, want)


def test_image_processor_output_is_unchanged():
    processor = ViTImageProcessorPil(size={"height": 8, "width": 8})
    images = _images()
    out = task_transform("digits", tiny_config("digits", "vit"), processor)({"image": images})
    want = processor(images=[img.convert("RGB") for img in images], return_tensors="pt")["pixel_values"]
    assert "labels" not in out and torch.equal(torch.stack(out["pixel_values"]), want)


def _tokenizer() -> PreTrainedTokenizerFast:
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "[PAD]": 1, "good": 2, "bad": 3}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]")


def test_text_transform_is_the_tokenizer_with_truncation():
    tokenizer, texts = _tokenizer(), ["good bad good bad", "bad movie"]
    out = task_transform("imdb", None, tokenizer, max_length=3)({"text": texts, "label": [1, 0]})
    assert out == {**dict(tokenizer(texts, truncation=True, max_length=3)), "labels": [1, 0]}
    assert isinstance(data_collator_for("imdb", tokenizer), DataCollatorWithPadding)
    with pytest.raises(MubenchError, match="text tasks need a tokenizer"):
        task_transform("imdb", None, None)


# ------------------------------------------------------------- a new modality: one module, end to end
TOY_MODALITY = '''
"""Vectors of floats, classified by a linear model (a test plug-in)."""
from typing import Any

import datasets
import torch
from trainer_testlib import TinyLinearClassifier, TinyLinearConfig

from mubench_hf.modalities import Modality, register_modality


class LinearAuto:
    """The toy's stand-in for an AutoModelFor...Classification class."""

    @classmethod
    def from_config(cls, config):
        return TinyLinearClassifier(config)

    @classmethod
    def from_pretrained(cls, source, **kwargs):
        return TinyLinearClassifier.from_pretrained(source, **kwargs)


class VectorModality(Modality):
    name = "toy_vector"
    input_column = "vector"
    pipeline_tag = "tabular-classification"

    def input_feature(self):
        return datasets.Sequence(datasets.Value("float32"))

    def auto_class(self):
        return LinearAuto

    def transform(self, model_or_config, processor, *, input_column, label_column="label", **options):
        def transform(batch):
            out = {"pixel_values": [torch.tensor(v, dtype=torch.float32) for v in batch[input_column]]}
            if label_column in batch:
                out["labels"] = list(batch[label_column])
            return out

        return transform

    def tiny_configs(self):
        return {"linear": (TinyLinearConfig, {"num_features": 1})}

    def data_hints(self, sample, input_column):
        return {"num_features": len(sample.with_format(None)[0][input_column])}

    def adapt_config(self, config, *, num_features=None, **hints):
        if num_features is not None:
            config.num_features = num_features


register_modality(VectorModality())
'''


@pytest.fixture
def toy_modality(tmp_path, monkeypatch):
    """The toy modality's module, imported from a temporary folder, and forgotten afterwards."""
    from mubench_hf.modalities import unregister_modality

    (tmp_path / "toy_vector_modality.py").write_text(textwrap.dedent(TOY_MODALITY))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("toy_vector_modality")
    yield module
    unregister_modality("toy_vector")
    sys.modules.pop("toy_vector_modality", None)


def _vector_rows(n: int, seed: int) -> datasets.Dataset:
    rng = np.random.default_rng(seed)
    features = datasets.Features(
        {"vector": datasets.Sequence(datasets.Value("float32")), "label": datasets.ClassLabel(num_classes=3)}
    )
    return datasets.Dataset.from_dict(
        {
            "vector": rng.normal(size=(n, 5)).astype(np.float32).tolist(),
            "label": rng.integers(0, 3, n).tolist(),
        },
        features=features,
    )


def test_a_new_modality_is_one_module(toy_modality, tmp_path, monkeypatch):
    from mubench_hf.pipeline import prepare, unlearning_trainer
    from mubench_hf.splits import build_splits
    from mubench_hf.trainers import UnlearnConfig

    assert "toy_vector" in list_modalities()
    task = Task(
        name="toy_vectors",
        modality="toy_vector",
        class_names=("a", "b", "c"),
        loader=lambda: datasets.DatasetDict({"train": _vector_rows(60, 0), "test": _vector_rows(20, 1)}),
    )
    monkeypatch.setitem(TASKS, task.name, task)
    assert task.input_column == "vector"
    assert task.features["vector"] == datasets.Sequence(datasets.Value("float32"))

    # prepare_splits on the canonical data, with a tiny model built from the modality's config
    data = task.load()
    model = resolve_model(task, "tiny:linear", data["train"])
    assert type(model).__name__ == "TinyLinearClassifier" and model.config.num_features == 5
    assert load_processor(task, "tiny:linear") is None
    row = prepare_splits(data, task, model)["train"][0]
    assert row["pixel_values"].shape == (5,) and row["labels"] == data["train"][0]["label"]

    # the whole way through: deletion splits on disk → the pipeline → one unlearning method
    build_splits(task, tmp_path / "repo", ratios=[10], show_progress=False)
    prepared = prepare(
        str(tmp_path / "repo"), "toy_vectors_del10", "tiny:linear", cache_dir=str(tmp_path / "c")
    )
    assert len(prepared.splits["forget"]) == 6
    before = state(prepared.model)
    args = UnlearnConfig(method="grad_ascent", max_steps=2, learning_rate=0.1, **quiet_args(tmp_path / "out"))
    unlearning_trainer(prepared, args).train()
    assert any(not torch.equal(before[k], v) for k, v in state(prepared.model).items())
