"""The image_generation kind on digits_t2i: task, tokenizer, model parts, collator, the denoising objective,
diffusers folders and cards, and batched seeded sampling (tiny models from configs, no training)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from t2i_testlib import TASK, batch_of, processed, small_splits, tiny_parts

from mubench_hf.errors import MubenchError
from mubench_hf.kinds import kind_of
from mubench_hf.kinds.image_generation.model import TextToImageModel
from mubench_hf.kinds.image_generation.sampling import SamplingSettings, chunk_size, generate
from mubench_hf.objectives import DenoisingObjective
from mubench_hf.tasks import get_task
from mubench_hf.trainers import list_methods
from mubench_hf.trainers.diffusion_parts import select_trainable


def test_digits_t2i_is_a_text_to_image_task_with_class_wise_concepts(t2i_class3):
    task = get_task(TASK)
    assert task.kind == "image_generation" and kind_of(task).name == "image_generation"
    assert task.prompt(3) == "a picture of the digit three"
    assert task.modality_spec.pipeline_tag == "text-to-image"
    forget = np.asarray(t2i_class3["forget"]["label"])
    assert len(forget) > 100 and set(forget.tolist()) == {3}
    assert 3 not in set(t2i_class3["retain"]["label"])
    assert t2i_class3["forget"][0]["image"].size == (8, 8)


def test_the_tokenizer_knows_every_prompt_word_and_the_model_is_tiny(t2i_class3):
    _, tokenizer, model = tiny_parts(t2i_class3)
    ids = model.prompt_ids([get_task(TASK).prompt(k) for k in range(10)])
    assert ids.shape == (10, model.max_prompt_length)
    assert (ids != tokenizer.unk_token_id).all()
    assert (model.prompt_ids([""]) == tokenizer.pad_token_id).all()
    assert sum(p.numel() for p in model.unet.parameters()) < 1_000_000
    assert model.config.num_labels == 10


def test_the_collator_targets_each_rows_concept_and_draws_the_forward_process(t2i_class3):
    _, tokenizer, model = tiny_parts(t2i_class3)
    splits = processed(small_splits(t2i_class3), model, tokenizer)
    batch = batch_of(splits, "retain", tokenizer, size=6)
    assert batch["pixel_values"].shape == (6, 1, 8, 8) and batch["pixel_values"].min() >= -1.0
    assert torch.equal(
        batch["input_ids"], model.prompt_ids([get_task(TASK).prompt(int(k)) for k in batch["labels"]])
    )
    assert batch["noise"].shape == batch["pixel_values"].shape
    assert ((batch["timesteps"] >= 0) & (batch["timesteps"] < 1000)).all()
    # a relabelled row (random-label methods) is re-targeted to the other concept's prompt
    collator = kind_of(TASK).collator(get_task(TASK), tokenizer)
    row = dict(splits["forget"][0])
    row["label"] = 5
    assert torch.equal(collator([row])["input_ids"][0], model.prompt_ids([get_task(TASK).prompt(5)])[0])


def test_the_objective_is_the_per_sample_noise_mse_and_refuses_distributions(t2i_class3):
    _, tokenizer, model = tiny_parts(t2i_class3)
    splits = processed(small_splits(t2i_class3), model, tokenizer)
    batch = batch_of(splits, "forget", tokenizer)
    objective = DenoisingObjective()
    outputs = objective.outputs(model, batch)
    noisy = model.scheduler.add_noise(batch["pixel_values"], batch["noise"], batch["timesteps"])
    by_hand = model.unet(
        noisy, batch["timesteps"], encoder_hidden_states=model.encode(batch["input_ids"])
    ).sample
    expected = (by_hand - batch["noise"]).pow(2).mean(dim=(1, 2, 3))
    torch.testing.assert_close(objective.per_sample_loss(outputs, batch), expected)
    torch.testing.assert_close(objective.log_likelihood(outputs, batch), -expected)
    # one forward for a paired batch gives what two give
    retain = batch_of(splits, "retain", tokenizer, seed=1)
    forget_out, retain_out = objective.pair_outputs(model, {"forget": batch, "retain": retain})
    torch.testing.assert_close(forget_out.prediction, outputs.prediction, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(
        retain_out.prediction, objective.outputs(model, retain).prediction, atol=1e-5, rtol=1e-4
    )
    with pytest.raises(MubenchError, match="no output distribution"):
        objective.kl_to_teacher(outputs, outputs, batch)


def test_a_model_round_trips_through_a_diffusers_folder(t2i_class3, tmp_path):
    _, tokenizer, model = tiny_parts(t2i_class3)
    model.save_pretrained(tmp_path)
    index = json.loads((tmp_path / "model_index.json").read_text())
    assert index["_class_name"] == "MubenchTextToImagePipeline"
    assert index["unet"] == ["diffusers", "UNet2DConditionModel"]
    loaded = TextToImageModel.from_pretrained(tmp_path)
    assert loaded.config._name_or_path == str(tmp_path)
    settings = SamplingSettings(images_per_concept=1, inference_steps=2)
    torch.testing.assert_close(generate(loaded, ["a picture of the digit one"], settings),
                               generate(model, ["a picture of the digit one"], settings))  # fmt: skip
    with pytest.raises(MubenchError, match="not a diffusers folder"):
        TextToImageModel.from_pretrained(tmp_path / "unet")


def test_sampling_is_seeded_and_the_same_in_any_batch_size(t2i_class3):
    _, _, model = tiny_parts(t2i_class3)
    prompts = [get_task(TASK).prompt(k) for k in (0, 3, 3, 7, 9)]
    settings = SamplingSettings(inference_steps=3, batch_size=100, seed=4)
    images = generate(model, prompts, settings)
    assert images.shape == (5, 1, 8, 8) and images.abs().max() <= 1.0
    torch.testing.assert_close(generate(model, prompts, SamplingSettings(inference_steps=3, batch_size=2, seed=4)),
                               images, atol=1e-5, rtol=1e-4)  # fmt: skip
    assert not torch.allclose(generate(model, prompts, SamplingSettings(inference_steps=3, seed=5)), images)
    with pytest.raises(MubenchError, match="images_per_concept must be at least 1"):
        SamplingSettings(images_per_concept=0)


def test_a_cpu_samples_in_batches_of_cpu_batch_size_and_an_accelerator_in_batch_size(t2i_class3):
    _, _, model = tiny_parts(t2i_class3)
    prompts = [get_task(TASK).prompt(k) for k in (0, 3, 3, 7, 9)]
    settings = SamplingSettings(inference_steps=3, batch_size=500, cpu_batch_size=2, seed=4)
    assert (
        chunk_size(settings, torch.device("cpu")) == 2 and chunk_size(settings, torch.device("cuda")) == 500
    )
    assert chunk_size(SamplingSettings(batch_size=16), torch.device("cpu")) == 16
    assert SamplingSettings().cpu_batch_size == 100
    # the cap chunks exactly as batch_size=2 does: the same computation, bit for bit
    assert torch.equal(generate(model, prompts, settings),
                       generate(model, prompts, SamplingSettings(inference_steps=3, batch_size=2, seed=4)))  # fmt: skip
    # a digits_t2i report's 200 images in batches of 100 are the images of one batch of 200 (bit for bit
    # measured with ATEN_CPU_CAPABILITY avx512, avx2 and default; tiny batches take other kernels: 2 vs 5
    # differ by up to 2.4e-5, see the test above)
    report = [get_task(TASK).prompt(k % 10) for k in range(200)]
    torch.testing.assert_close(generate(model, report, SamplingSettings(inference_steps=2)),
                               generate(model, report, SamplingSettings(inference_steps=2, cpu_batch_size=500)),
                               atol=1e-6, rtol=0)  # fmt: skip
    with pytest.raises(MubenchError, match="cpu_batch_size must be at least 1"):
        SamplingSettings(cpu_batch_size=0)


def test_parameter_groups_select_the_papers_parts(t2i_class3):
    _, _, model = tiny_parts(t2i_class3)
    counts = {
        group: select_trainable(model, group, "test")
        for group in ("xattn", "xattn_kv", "noxattn", "unet", "full")
    }
    unet = sum(p.numel() for p in model.unet.parameters())
    assert counts["xattn"] + counts["noxattn"] == counts["unet"] == unet
    assert 0 < counts["xattn_kv"] < counts["xattn"] < counts["noxattn"]
    assert counts["full"] == unet + sum(p.numel() for p in model.text_encoder.parameters())
    with pytest.raises(MubenchError, match="parameter group must be one of"):
        select_trainable(model, "attn", "test")


def test_the_kind_lists_the_methods_that_apply():
    methods = list_methods("image_generation")
    for name in (
        "esd",
        "salun",
        "concept_ablation",
        "fmn",
        "erasediff",
        "scissorhands",
        "grad_ascent",
        "finetune",
        "npo",
    ):
        assert name in methods
    for name in ("scrub", "bad_teaching", "ssd"):  # distributions over classes or tokens: none here
        assert name not in methods


def test_sampling_settings_come_from_the_unlearning_arguments():
    from mubench_hf.kinds.image_generation.sampling import settings_from_args
    from mubench_hf.trainers import UnlearnConfig

    args = UnlearnConfig(method="esd", output_dir="unused", t2i_images_per_concept=7, t2i_guidance_scale=1.0)
    settings = settings_from_args(args)
    assert (settings.images_per_concept, settings.guidance_scale, settings.inference_steps) == (7, 1.0, 10)
    with pytest.raises(MubenchError, match="t2i_inference_steps must be a positive integer"):
        UnlearnConfig(method="esd", output_dir="unused", t2i_inference_steps=0)


def test_the_sampling_flags_reach_the_settings():
    from mubench_hf.cli.evaluate import build_parser, sampling_settings

    base = ["--model", "m", "--dataset", "d", "--config", "digits_t2i_class3"]
    args = build_parser().parse_args([*base, "--images-per-concept", "4", "--sampling-batch-size", "300",
                                      "--sampling-cpu-batch-size", "50", "--sampling-seed", "7"])  # fmt: skip
    given = sampling_settings(args)
    assert given == {"images_per_concept": 4, "batch_size": 300, "cpu_batch_size": 50, "seed": 7}
    settings = SamplingSettings(**given)
    assert (
        chunk_size(settings, torch.device("cpu")) == 50 and chunk_size(settings, torch.device("cuda")) == 300
    )
    assert sampling_settings(build_parser().parse_args(base)) is None
