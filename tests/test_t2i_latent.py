"""Latent text-to-image models (Stable Diffusion 1.x) in the image_generation kind, on a tiny pipeline of SD's
classes and layout saved locally from configs (``tests/fixtures/tiny_sd.py``; never downloaded): a pretrained
pipeline folder as the base, VAE latents as the UNet's clean sample, decoding after sampling, saving with the
VAE, the retrain model's start, and the refusals. The slow tests run build-splits, train-base, retrain, one
method (ESD) and the report on ``tiny_imagenet_t2i`` and ``unlearncanvas_style``."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from mubench_hf import MubenchError, build_splits, get_task
from mubench_hf.kinds import get_kind
from mubench_hf.kinds.image_generation.build import build_text_to_image_model
from mubench_hf.kinds.image_generation.classifier import task_view
from mubench_hf.kinds.image_generation.model import TextToImageModel
from mubench_hf.kinds.image_generation.pretrained import load_pipeline_parts
from mubench_hf.kinds.image_generation.sampling import SamplingSettings, capped, generate, initial_noise
from mubench_hf.trainers.diffusion_parts import select_trainable
from tests.fixtures.mubench_hub import tiny_imagenet_like
from tests.fixtures.tiny_sd import tiny_stable_diffusion
from tests.fixtures.unlearncanvas import unlearncanvas_folder

TASK = "tiny_imagenet_t2i"
CONFIG = "tiny_imagenet_t2i_class0"


def task_prompts(name: str) -> list[str]:
    task = get_task(name)
    return [*task.prompts(), task.generic_prompt, ""]


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Stable Diffusion-shaped folder standing in for CompVis/stable-diffusion-v1-4."""
    return tiny_stable_diffusion(tmp_path_factory.mktemp("tiny_sd") / "sd", task_prompts(TASK))


@pytest.fixture(scope="module")
def tin_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny_imagenet_t2i from a zh-plus/tiny-imagenet-shaped source: del5 and class 0 (goldfish)."""
    out = tmp_path_factory.mktemp("tin_t2i") / "mubench"
    build_splits(TASK, out, ratios=(5,), source=tiny_imagenet_like(), forget_classes=[0], show_progress=False)
    return out


def loaded(tiny_sd: Path) -> tuple[object, object, TextToImageModel]:
    task, kind = get_task(TASK), get_kind("image_generation")
    tokenizer = kind.load_processor(task, str(tiny_sd), {})
    return task, tokenizer, kind.build_model(task, str(tiny_sd), {}, tokenizer)


def test_a_stable_diffusion_folder_is_a_latent_base_whose_rows_are_vae_latents(tiny_sd, tin_repo):
    from mubench_hf.pipeline import prepare

    task, tokenizer, model = loaded(tiny_sd)
    assert type(tokenizer).__name__ == "CLIPTokenizer" and model.is_latent and model.init == str(tiny_sd)
    assert model.image_resolution == 16 and model.image_channels == 3 and model.config.num_labels == 200
    assert not any(p.requires_grad for p in model.vae.parameters())
    prepared = prepare(str(tin_repo), CONFIG, str(tiny_sd))
    row = prepared.splits["forget"][0]
    assert tuple(row["pixel_values"].shape) == (4, 8, 8) and row["label"] == 0
    # the row's latents are the VAE's encoding of its photograph at the model's 16x16
    from mubench_hf.modalities.text_to_image import image_to_unit_range

    image = prepared.raw["forget"].with_format(None)[0]["image"]
    pixels = torch.from_numpy(image_to_unit_range([image], 3, 16))
    assert torch.allclose(row["pixel_values"], prepared.model.to_latents(pixels)[0], atol=1e-5)
    # datasets fingerprints the transform by pickling it: the model's identity, not its weights
    transform = prepared.splits["forget"].format["format_kwargs"]["transform"]
    assert len(pickle.dumps(transform)) < 1_000
    with pytest.raises(MubenchError, match="not unpickled"):
        pickle.loads(pickle.dumps(transform))
    batch = prepared.collator([prepared.splits["forget"][i] for i in range(2)])
    assert batch["noise"].shape == (2, 4, 8, 8)
    objective = get_kind("image_generation").objective()
    loss = objective.per_sample_loss(objective.outputs(prepared.model, batch), batch)
    assert loss.shape == (2,) and torch.isfinite(loss).all()


def test_a_latent_model_saves_with_its_vae_and_loads_back(tiny_sd, tmp_path):
    _, _, model = loaded(tiny_sd)
    model.save_pretrained(tmp_path / "saved")
    index = json.loads((tmp_path / "saved" / "model_index.json").read_text())
    assert index["_class_name"] == "MubenchTextToImagePipeline" and index["vae"] == [
        "diffusers",
        "AutoencoderKL",
    ]
    assert json.loads((tmp_path / "saved" / "mubench_t2i.json").read_text()) == {
        "num_labels": 200,
        "init": str(tiny_sd),
    }
    again = TextToImageModel.from_pretrained(tmp_path / "saved")
    assert again.is_latent and again.init == str(tiny_sd)
    pixels = torch.rand(2, 3, 16, 16) * 2 - 1
    assert torch.equal(again.to_latents(pixels), model.to_latents(pixels))


def test_generated_latents_are_decoded_and_read_at_the_tasks_size(tiny_sd):
    task, _, model = loaded(tiny_sd)
    settings = SamplingSettings(images_per_concept=1, inference_steps=2, batch_size=4)
    images = generate(model, task.prompts()[:3], settings)
    assert images.shape == (3, 3, 16, 16) and images.min() >= -1 and images.max() <= 1
    assert task_view(images, task).shape == (3, 3, 64, 64)
    one_by_one = generate(model, task.prompts()[:3], capped(settings, 1))
    assert capped(settings, 1).batch_size == 1 and capped(settings, 16) is settings
    # the same draws in any batch size; float32 kernels order sums differently per batch shape: measured max
    # difference 2.4e-6 (ATEN_CPU_CAPABILITY=default) and 1.8e-6 (avx2), so 1e-4 leaves a 40x margin
    assert torch.allclose(one_by_one, images, atol=1e-4)


def test_generate_draws_what_diffusers_stable_diffusion_pipeline_draws_from_the_same_noise(tiny_sd):
    """bench_t2i's baseline is ``StableDiffusionPipeline`` called image by image: the same computation (DDIM from
    the folder's scheduler config, classifier-free guidance against the empty prompt, VAE decoding)."""
    import diffusers

    task, _, model = loaded(tiny_sd)
    pipe = diffusers.StableDiffusionPipeline.from_pretrained(str(tiny_sd))
    pipe.scheduler = diffusers.DDIMScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    prompts = task.prompts()[:3]
    settings = SamplingSettings(inference_steps=4, guidance_scale=3.0, batch_size=1)
    ours = generate(model, prompts, settings)
    noise = initial_noise(len(prompts), (4, 8, 8), settings.seed)
    theirs = torch.cat([
        pipe(prompt, num_inference_steps=4, guidance_scale=3.0, latents=noise[i : i + 1], output_type="pt").images
        for i, prompt in enumerate(prompts)
    ])  # fmt: skip
    # the pipeline returns [0, 1]; ours [-1, 1]. batch 1 on both sides: float rounding only (measured 6e-8)
    torch.testing.assert_close(theirs * 2 - 1, ours, atol=1e-5, rtol=0)


def test_methods_never_train_the_vae(tiny_sd):
    _, _, model = loaded(tiny_sd)
    select_trainable(model, "full", "esd")
    trained = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trained and not any(name.startswith("vae.") for name in trained)
    assert any(name.startswith("text_encoder.") for name in trained)


def test_the_retrain_model_starts_from_the_pretrained_pipeline_not_the_base(tiny_sd, tin_repo, tmp_path):
    from transformers import TrainingArguments

    from mubench_hf.kinds.image_generation.training import diffusion_trainer
    from mubench_hf.pipeline import prepare

    _, _, base = loaded(tiny_sd)
    with torch.no_grad():
        next(base.unet.parameters()).add_(1.0)  # the base moved away from the pretrained weights
    base.save_pretrained(tmp_path / "base")
    prepared = prepare(str(tin_repo), CONFIG, str(tmp_path / "base"), required=("retain",))
    args = TrainingArguments(output_dir=str(tmp_path / "out"), report_to="none", use_cpu=True)
    trainer, start = diffusion_trainer("retrain", prepared, args)
    assert start.startswith(f"{tiny_sd} (the pretrained pipeline")
    pretrained = load_pipeline_parts(str(tiny_sd), 200)
    first = next(trainer.model.unet.parameters())
    assert torch.equal(first, next(pretrained.unet.parameters()))
    assert not torch.equal(first, next(prepared.model.unet.parameters()))
    assert not any(p.requires_grad for p in trainer.model.text_encoder.parameters())


def test_pipelines_the_kind_cannot_train_are_refused(tiny_sd, tmp_path):
    import shutil

    task = get_task(TASK)
    v_model = tmp_path / "v"
    shutil.copytree(tiny_sd, v_model)
    config = v_model / "scheduler" / "scheduler_config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "prediction_type": "v_prediction"}))
    with pytest.raises(MubenchError, match="predicts 'v_prediction'.*'epsilon'"):
        load_pipeline_parts(str(v_model), 200)
    foreign = tmp_path / "foreign"
    shutil.copytree(tiny_sd, foreign)
    index = json.loads((foreign / "model_index.json").read_text())
    (foreign / "model_index.json").write_text(json.dumps({**index, "unet": ["my_lib", "MyUNet"]}))
    with pytest.raises(MubenchError, match="names my_lib.MyUNet for 'unet': only diffusers and transformers"):
        load_pipeline_parts(str(foreign), 200)
    (foreign / "model_index.json").write_text(json.dumps({k: v for k, v in index.items() if k != "unet"}))
    with pytest.raises(MubenchError, match="has no 'unet' part"):
        load_pipeline_parts(str(foreign), 200)
    with pytest.raises(MubenchError, match="is none of these"):
        build_text_to_image_model(task, str(tmp_path / "missing" / "folder"), {}, None)


def run_chain(name: str, repo: Path, config: str, sd: Path, root: Path) -> dict:
    """train-base (the classifier for 1 epoch, 2 images per concept), retrain, one ESD step and the report."""
    from mubench_hf.evaluation import evaluate_unlearning
    from mubench_hf.pipeline import prepare, unlearning_trainer
    from mubench_hf.reference_models import RecipeArguments, diffusion, train_base, train_retrain
    from mubench_hf.trainers import get_spec

    torch.set_num_threads(1)
    patch = pytest.MonkeyPatch()
    patch.setattr(diffusion, "CLASSIFIER_EPOCHS", 1)
    patch.setattr(diffusion, "BASE_SAMPLING", SamplingSettings(images_per_concept=1, inference_steps=2))
    recipe = dict(max_steps=2, per_device_train_batch_size=8, learning_rate=1e-4, disable_tqdm=True, seed=0)
    try:
        train_base(str(repo), name, str(sd), root / "base", args=RecipeArguments(**recipe), quiet=True)
        train_retrain(str(repo), config, str(root / "base"), root / "retrain", args=RecipeArguments(**recipe),
                      quiet=True)  # fmt: skip
    finally:
        patch.undo()
    prepared = prepare(str(repo), config, str(root / "base"))
    args = get_spec("esd").config(
        method="esd", output_dir=str(root / "esd"), max_steps=1, per_device_train_batch_size=4,
        report_to="none", save_strategy="no", disable_tqdm=True, seed=0,
    )  # fmt: skip
    trainer = unlearning_trainer(prepared, args)
    trainer.train()
    return evaluate_unlearning(
        trainer, trainer.report_splits(), retrain=str(root / "retrain"), base_model=str(root / "base"),
        unlearn_time_s=trainer.unlearn_time_s, output_dir=root / "esd",
        generation=SamplingSettings(images_per_concept=1, inference_steps=2), log=False,
    )  # fmt: skip


def check_report(report: dict, root: Path, sd: Path) -> None:
    for key in ("unlearning_accuracy", "in_domain_retain_accuracy", "retrain_unlearning_accuracy",
                "original_unlearning_accuracy", "gap_to_retrain"):  # fmt: skip
        assert 0.0 <= report[key] <= 1.0, key
    assert report["forgotten_concepts"] == 1 and report["fid_classifier_features"] >= 0
    from huggingface_hub import ModelCard
    from PIL import Image

    assert ModelCard.load(root / "base" / "README.md").data.to_dict()["mubench"]["recipe"]["init"] == str(sd)
    retrain_init = ModelCard.load(root / "retrain" / "README.md").data.to_dict()["mubench"]["recipe"]["init"]
    assert retrain_init.startswith(f"{sd} (the pretrained pipeline")
    assert (root / "base" / "classifier" / "config.json").is_file()
    # two concepts shown at the task's 64x64 (the generated 16x16 images are read at the photographs' size)
    assert Image.open(root / "esd" / "samples.png").size[1] == 2 * 64 * 6


@pytest.mark.slow
def test_tiny_imagenet_t2i_runs_base_retrain_esd_and_the_report(tiny_sd, tin_repo, tmp_path):
    report = run_chain(TASK, tin_repo, CONFIG, tiny_sd, tmp_path)
    check_report(report, tmp_path, tiny_sd)


@pytest.mark.slow
def test_unlearncanvas_style_runs_base_retrain_esd_and_the_report(tmp_path):
    name = "unlearncanvas_style"
    folder = unlearncanvas_folder(tmp_path / "release")
    build_splits(name, tmp_path / "repo", ratios=(5,), source=str(folder), forget_classes=["Van_Gogh"],
                 show_progress=False)  # fmt: skip
    sd = tiny_stable_diffusion(tmp_path / "sd", task_prompts(name))
    k = get_task(name).label2id["Van_Gogh"]
    report = run_chain(name, tmp_path / "repo", f"{name}_class{k}", sd, tmp_path)
    check_report(report, tmp_path, sd)
