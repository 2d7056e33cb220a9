"""digits_t2i through the product: base and retrain models trained with the diffusion recipe (a diffusers
folder, the evaluation classifier, a text-to-image card), an unlearning run scored by the kind's report
(unlearning / retain accuracy, classifier-feature FID and KID, the retrain and original models' values, a
sample grid), and the unlearned model's card. Tiny settings: a few steps, a few images (the slow test at
the end checks that the base recipe makes recognisable digits)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard
from PIL import Image

from mubench_hf.kinds.image_generation.sampling import SamplingSettings
from mubench_hf.reference_models import RecipeArguments, train_base, train_retrain

CONFIG = "digits_t2i_class3"


@pytest.fixture(scope="module")
def t2i_models(t2i_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A base (2 steps, a 1-epoch classifier) and the class-3 retrain model (2 steps) of digits_t2i."""
    import torch

    from mubench_hf.kinds.image_generation import classifier
    from mubench_hf.reference_models import diffusion

    torch.set_num_threads(1)
    patch = pytest.MonkeyPatch()
    patch.setattr(diffusion, "CLASSIFIER_EPOCHS", 1)
    patch.setattr(diffusion, "BASE_SAMPLING", SamplingSettings(images_per_concept=2, inference_steps=2))
    root = tmp_path_factory.mktemp("t2i_models")
    recipe = dict(max_steps=2, per_device_train_batch_size=16, learning_rate=1e-3, disable_tqdm=True, seed=0)
    try:
        train_base(
            str(t2i_repo),
            "digits_t2i",
            "tiny:unet",
            root / "base",
            args=RecipeArguments(**recipe),
            quiet=True,
        )
        train_retrain(str(t2i_repo), CONFIG, str(root / "base"), root / "retrain", args=RecipeArguments(**recipe),
                      quiet=True)  # fmt: skip
    finally:
        patch.undo()
    assert classifier.CLASSIFIER_EPOCHS == 15  # the patch is gone for every later test
    return {"base": root / "base", "retrain": root / "retrain"}


def test_base_and_retrain_are_diffusers_folders_with_cards(t2i_models):
    base, retrain = t2i_models["base"], t2i_models["retrain"]
    for folder in (base, retrain):
        assert (
            json.loads((folder / "model_index.json").read_text())["_class_name"]
            == "MubenchTextToImagePipeline"
        )
        card = ModelCard.load(folder / "README.md")
        assert card.data.pipeline_tag == "text-to-image" and card.data.library_name == "diffusers"
        assert "from mubench_hf.modalities.text_to_image import MubenchTextToImagePipeline" in card.text
    results = json.loads((base / "train_results.json").read_text())
    assert (base / "classifier" / "config.json").is_file()
    assert 0.0 <= results["sample_accuracy"] <= 1.0 and results["classifier_test_accuracy"] > 0.1
    assert (
        ModelCard.load(retrain / "README.md")
        .data.to_dict()["mubench"]["recipe"]["init"]
        .startswith("fresh weights")
    )
    assert not (retrain / "classifier").exists()  # one classifier per sweep: the base's


def test_a_diffusers_retrain_folder_is_a_valid_retrain_reference(t2i_models, tmp_path):
    """A sweep cell checks --retrain_reference before it trains: a diffusers folder (model_index.json, no
    config.json) is a model folder, an empty folder is not."""
    from mubench_hf.errors import MubenchError
    from mubench_hf.evaluation.report import check_reference_source

    check_reference_source(str(t2i_models["retrain"]))
    with pytest.raises(MubenchError, match="is not a predictions file, nor a folder holding one or a model"):
        check_reference_source(str(tmp_path))


def test_an_unlearning_run_is_scored_against_retrain_and_original(t2i_models, t2i_repo, tmp_path):
    from mubench_hf.evaluation import evaluate_unlearning
    from mubench_hf.pipeline import prepare, unlearning_trainer
    from mubench_hf.trainers import get_spec

    prepared = prepare(str(t2i_repo), CONFIG, str(t2i_models["base"]))
    args = get_spec("esd").config(
        method="esd", output_dir=str(tmp_path / "esd"), max_steps=1, per_device_train_batch_size=8,
        report_to="none", save_strategy="no", disable_tqdm=True, seed=0,
    )  # fmt: skip
    trainer = unlearning_trainer(prepared, args)
    trainer.train()
    settings = SamplingSettings(images_per_concept=3, inference_steps=2)
    report = evaluate_unlearning(
        trainer, trainer.report_splits(), retrain=str(t2i_models["retrain"]), base_model=str(t2i_models["base"]),
        unlearn_time_s=trainer.unlearn_time_s, output_dir=tmp_path / "esd", generation=settings, log=False,
    )  # fmt: skip
    for key in ("unlearning_accuracy", "in_domain_retain_accuracy", "retrain_unlearning_accuracy",
                "original_unlearning_accuracy", "gap_unlearning_accuracy", "gap_to_retrain"):  # fmt: skip
        assert 0.0 <= report[key] <= 1.0, key
    assert report["fid_classifier_features"] >= 0 and report["forgotten_concepts"] == 1
    assert report["unlearn_time_fraction_of_retrain"] > 0
    assert report["gap_to_retrain"] == pytest.approx(
        (report["gap_unlearning_accuracy"] + report["gap_in_domain_retain_accuracy"]) / 2
    )
    written = json.loads((tmp_path / "esd" / "unlearning_results.json").read_text())
    assert written["sampling_settings"]["images_per_concept"] == 3
    grid = Image.open(tmp_path / "esd" / "samples.png")
    assert grid.size[1] == 2 * 8 * 6  # two concepts (digit 3 and the first kept one), 8x8 images shown 6x
    trainer.create_model_card(report=report)
    card = ModelCard.load(tmp_path / "esd" / "README.md")
    assert card.data.pipeline_tag == "text-to-image" and card.data.base_model


@pytest.mark.slow
def test_the_base_recipe_generates_recognisable_digits(t2i_repo, tmp_path):
    """The base model must draw recognisable digits before unlearning them means anything: the task's
    classifier recognises most of its samples (20 per digit, 10 DDIM steps, guidance 3)."""
    import torch

    torch.set_num_threads(2)
    results = train_base(str(t2i_repo), "digits_t2i", "tiny:unet", tmp_path / "base", quiet=True)
    assert results["classifier_test_accuracy"] > 0.9
    assert results["sample_accuracy"] > 0.6


def test_a_base_model_is_pushed_as_a_diffusers_folder_and_loads_back(t2i_models, hub_server):
    from huggingface_hub import snapshot_download

    from mubench_hf.hub import push_model
    from mubench_hf.kinds.image_generation.model import TextToImageModel

    repo = "mubench-org/mubench-digits_t2i-unet"
    result = push_model(t2i_models["base"], repo)
    for path in ("model_index.json", "README.md", "unet/diffusion_pytorch_model.safetensors", "unet/config.json",
                 "text_encoder/model.safetensors", "tokenizer/tokenizer.json", "scheduler/scheduler_config.json",
                 "classifier/model.safetensors"):  # fmt: skip
        assert path in result.uploaded, path
    remote = TextToImageModel.from_pretrained(snapshot_download(repo))
    local = TextToImageModel.from_pretrained(t2i_models["base"])
    for (name, a), (_, b) in zip(local.named_parameters(), remote.named_parameters()):
        assert torch.equal(a, b), name
    assert ModelCard.load(repo).data.pipeline_tag == "text-to-image"
