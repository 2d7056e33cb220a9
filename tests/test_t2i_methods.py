"""The text-to-image methods: each one takes a step through ``UnlearnTrainer`` on a tiny model, and the
losses of ESD, concept ablation, FMN, EraseDiff and Scissorhands are checked against their definitions."""

from __future__ import annotations

import copy

import pytest
import torch
from t2i_testlib import TASK, batch_of, processed, small_splits, tiny_parts

from mubench_hf.errors import MubenchError
from mubench_hf.kinds import kind_of
from mubench_hf.objectives import DenoisingObjective
from mubench_hf.tasks import get_task
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer, list_methods
from mubench_hf.trainers.esd import esd_target
from mubench_hf.trainers.fmn import AttentionRecorder, concept_positions, resteering_loss


def _trainer(method, raw, tmp_path, **arguments):
    _, tokenizer, model = tiny_parts(raw)
    splits = processed(small_splits(raw, rows=8), model, tokenizer)
    args = UnlearnConfig(
        method=method, output_dir=str(tmp_path / method), max_steps=1, per_device_train_batch_size=4,
        report_to="none", save_strategy="no", disable_tqdm=True, seed=0, learning_rate=1e-2, **arguments,
    )  # fmt: skip
    trainer = UnlearnTrainer(
        model=model, args=args, splits=splits, data_collator=kind_of(TASK).collator(get_task(TASK), tokenizer),
        processing_class=tokenizer, objective=DenoisingObjective(),
    )  # fmt: skip
    return trainer, splits, tokenizer


@pytest.mark.parametrize("method", sorted(list_methods("image_generation")))
def test_every_method_takes_a_finite_step_on_the_tiny_model(method, t2i_class3, tmp_path, one_torch_thread):
    trainer, _, _ = _trainer(method, t2i_class3, tmp_path)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    output = trainer.train()
    assert torch.isfinite(torch.tensor(output.training_loss))
    moved = [n for n, p in trainer.model.named_parameters() if not torch.equal(before[n], p.detach())]
    assert moved, f"{method} changed no weight"
    if method == "esd":  # ESD-u: every UNet weight but the cross-attention ones, never the text encoder
        assert all(n.startswith("unet.") and ".attn2." not in n for n in moved)
    if method == "concept_ablation":  # the cross-attention keys and values only
        assert all(".attn2.to_k." in n or ".attn2.to_v." in n for n in moved)


def test_a_method_of_class_distributions_is_refused(t2i_class3, tmp_path):
    with pytest.raises(MubenchError, match="does not apply to image_generation tasks"):
        _trainer("scrub", t2i_class3, tmp_path)


def test_esd_pulls_the_concept_to_the_negatively_guided_original(t2i_class3, tmp_path):
    trainer, splits, tokenizer = _trainer(
        "esd", t2i_class3, tmp_path, esd_negative_guidance=2.0, esd_xt_source="forget_images"
    )
    batch = batch_of(splits, "forget", tokenizer)
    objective, original = trainer.objective, trainer.original_model
    cond = objective.noise_prediction(original, batch, batch["input_ids"])
    uncond = objective.noise_prediction(original, batch, original.prompt_ids([""] * 4))
    target = uncond - 2.0 * (cond - uncond)
    torch.testing.assert_close(esd_target(cond, uncond, 2.0), target)
    expected = (objective.outputs(trainer.model, batch).prediction - target).pow(2).mean()
    torch.testing.assert_close(trainer.compute_loss(trainer.model, batch), expected)


def test_esd_draws_x_t_from_the_students_own_guided_ddim_sample(t2i_class3, tmp_path, one_torch_thread):
    """ESD's x_t (rohitgandikota/erasing train-scripts/train-esd.py): the student samples the concept with
    guidance 3 for i of the 50 DDIM steps (η = 0); θo's predictions at that timestep give the target.
    Re-derived here with diffusers' DDIMScheduler step by step."""
    from diffusers import DDIMScheduler

    trainer, splits, tokenizer = _trainer(
        "esd", t2i_class3, tmp_path, esd_ddim_steps=8, esd_start_guidance=3.0
    )
    batch = batch_of(splits, "forget", tokenizer)
    student, teacher = trainer.model, trainer.original_model
    with torch.no_grad():  # move the student off θo: x_t must come from the student, not from θo
        for parameter in student.unet.parameters():
            parameter.add_(0.01 * torch.randn_like(parameter))
    ids = batch["input_ids"]

    torch.manual_seed(7)
    loss = trainer.compute_loss(student, batch)

    torch.manual_seed(7)
    scheduler = DDIMScheduler.from_config(student.scheduler.config)
    scheduler.set_timesteps(8)
    stop = int(torch.randint(8, ()))
    assert 0 < stop < 8  # the seed makes the student take some sampling steps, not none
    config = student.unet.config
    x = torch.randn(4, config.in_channels, config.sample_size, config.sample_size)
    with torch.no_grad():
        cond_h, empty_h = student.encode(ids), student.encode(student.prompt_ids([""] * 4))
        for t in scheduler.timesteps[:stop]:
            steps = t.expand(4)
            e_c = student.unet(x, steps, encoder_hidden_states=cond_h).sample
            e_u = student.unet(x, steps, encoder_hidden_states=empty_h).sample
            x = scheduler.step(e_u + 3.0 * (e_c - e_u), t, x).prev_sample
        t = scheduler.timesteps[stop].expand(4)
        e_0 = teacher.unet(x, t, encoder_hidden_states=teacher.encode(teacher.prompt_ids([""] * 4))).sample
        e_p = teacher.unet(x, t, encoder_hidden_states=teacher.encode(ids)).sample
    e_n = student.unet(x, t, encoder_hidden_states=student.encode(ids)).sample
    expected = (e_n - (e_0 - 1.0 * (e_p - e_0))).pow(2).mean()
    # the trainer runs both guidance branches in one doubled UNet call: float32 rounding only
    torch.testing.assert_close(loss, expected, atol=1e-5, rtol=1e-4)
    assert student.training  # sampling put the student in eval mode and back


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [
        ("esd_xt_source", "noise", "esd_xt_source must be one of"),
        ("esd_ddim_steps", 0, "esd_ddim_steps must be at least 1"),
        ("esd_start_guidance", -1.0, "esd_start_guidance must be >= 0"),
    ],
)
def test_esd_refuses_bad_sampling_settings(argument, value, message, tmp_path):
    with pytest.raises(MubenchError, match=message):
        UnlearnConfig(method="esd", output_dir=str(tmp_path), report_to="none", **{argument: value})


def test_concept_ablation_pulls_the_concept_to_the_anchor_and_keeps_the_retain_loss(t2i_class3, tmp_path):
    trainer, splits, tokenizer = _trainer(
        "concept_ablation",
        t2i_class3,
        tmp_path,
        ca_anchor_prompt="a picture of the digit one",
        ca_retain_weight=0.5,
        ca_image_source="forget_images",
    )
    forget, retain = batch_of(splits, "forget", tokenizer), batch_of(splits, "retain", tokenizer, seed=1)
    objective = trainer.objective
    anchor = trainer.original_model.prompt_ids(["a picture of the digit one"] * 4)
    target = objective.noise_prediction(trainer.original_model, forget, anchor)
    forget_loss = (objective.outputs(trainer.model, forget).prediction - target).pow(2).mean()
    retain_loss = objective.loss(objective.outputs(trainer.model, retain), retain)
    loss = trainer.compute_loss(trainer.model, {"forget": forget, "retain": retain})
    torch.testing.assert_close(loss, forget_loss + 0.5 * retain_loss, atol=1e-5, rtol=1e-4)


def test_concept_ablation_noises_anchor_images_generated_by_the_original(
    t2i_class3, tmp_path, one_torch_thread
):
    """CA's x_t (nupurkmr9/concept-ablation diffusers/README.md: generated anchor images, model-based loss):
    θo's guided DDIM images of the anchor prompt, noised with the batch's ε and t. Re-derived by hand."""
    from diffusers import DDIMScheduler

    from mubench_hf.kinds.image_generation.sampling import initial_noise

    prompt = "a picture of the digit one"
    trainer, splits, tokenizer = _trainer(
        "concept_ablation", t2i_class3, tmp_path, ca_anchor_prompt=prompt, ca_retain_weight=0.5,
        ca_anchor_images=6, t2i_inference_steps=3, t2i_guidance_scale=2.0,
    )  # fmt: skip
    forget, retain = batch_of(splits, "forget", tokenizer), batch_of(splits, "retain", tokenizer, seed=1)
    teacher, objective = trainer.original_model, trainer.objective
    config = teacher.unet.config
    x = initial_noise(6, (config.in_channels, config.sample_size, config.sample_size), seed=0)  # run seed 0
    scheduler = DDIMScheduler.from_config(teacher.scheduler.config)
    scheduler.set_timesteps(3)
    with torch.no_grad():
        cond_h = teacher.encode(teacher.prompt_ids([prompt] * 6))
        empty_h = teacher.encode(teacher.prompt_ids([""] * 6))
        for t in scheduler.timesteps:
            steps = t.expand(6)
            e_c = teacher.unet(x, steps, encoder_hidden_states=cond_h).sample
            e_u = teacher.unet(x, steps, encoder_hidden_states=empty_h).sample
            x = scheduler.step(e_u + 2.0 * (e_c - e_u), t, x).prev_sample
    torch.testing.assert_close(trainer.anchor_images(), x, atol=1e-5, rtol=1e-4)

    torch.manual_seed(3)
    loss = trainer.compute_loss(trainer.model, {"forget": forget, "retain": retain})
    torch.manual_seed(3)
    drawn = {**forget, "pixel_values": x[torch.randint(6, (4,))]}
    anchor = teacher.prompt_ids([prompt] * 4)
    target = objective.noise_prediction(teacher, drawn, anchor)
    forget_loss = (objective.outputs(trainer.model, drawn).prediction - target).pow(2).mean()
    retain_loss = objective.loss(objective.outputs(trainer.model, retain), retain)
    torch.testing.assert_close(loss, forget_loss + 0.5 * retain_loss, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(
    ("argument", "value", "message"),
    [("ca_image_source", "web", "ca_image_source must be one of"), ("ca_anchor_images", 0, "at least 1")],
)
def test_concept_ablation_refuses_bad_image_settings(argument, value, message, tmp_path):
    with pytest.raises(MubenchError, match=message):
        UnlearnConfig(
            method="concept_ablation", output_dir=str(tmp_path), report_to="none", **{argument: value}
        )


@pytest.mark.parametrize("method", ["random_label", "salun"])
def test_relabelling_pulls_the_concept_to_the_next_concepts_prediction(method, t2i_class3, tmp_path):
    """SalUn's diffusion form (OPTML-Group/Unlearn-Saliency SD/train-scripts/random_label.py): on paired
    batches, ‖ε_θ(x_t, c) − sg(ε_θ(x_t, c′))‖² with c′ the next concept, + α·denoising loss on Dr."""
    trainer, splits, tokenizer = _trainer(method, t2i_class3, tmp_path, relabel_retain_weight=0.3)
    assert trainer.data_use.name == "PAIRED"  # classification keeps the relabelled union
    forget, retain = batch_of(splits, "forget", tokenizer), batch_of(splits, "retain", tokenizer, seed=1)
    objective, model = trainer.objective, trainer.model
    table = trainer.data_collator.collate.prompt_ids
    other = table[(forget["labels"] + 1) % len(table)]
    assert not torch.equal(other, forget["input_ids"])  # the prompt of digit 4, not of digit 3
    with torch.no_grad():
        target = objective.noise_prediction(model, forget, other)
    forget_loss = (objective.outputs(model, forget).prediction - target).pow(2).mean()
    retain_loss = objective.loss(objective.outputs(model, retain), retain)
    loss = trainer.compute_loss(model, {"forget": forget, "retain": retain})
    torch.testing.assert_close(loss, forget_loss + 0.3 * retain_loss, atol=1e-5, rtol=1e-4)
    with pytest.raises(MubenchError, match="relabel_retain_weight must be >= 0"):
        UnlearnConfig(method=method, output_dir=str(tmp_path), report_to="none", relabel_retain_weight=-1.0)


def test_fmn_measures_attention_to_the_concept_tokens_only(t2i_class3, tmp_path):
    trainer, splits, tokenizer = _trainer("fmn", t2i_class3, tmp_path)
    table = trainer.data_collator.prompt_ids
    positions = concept_positions(table)
    # "a picture of the digit <k>": only the last word differs between the class prompts
    assert positions.sum() == 1 and positions[5]
    model = copy.deepcopy(trainer.model)
    recorder = AttentionRecorder(model.unet)
    batch = batch_of(splits, "forget", tokenizer)
    DenoisingObjective().outputs(model, batch)
    assert len(recorder.maps) == 4  # one map per cross-attention layer of the tiny UNet
    probs = recorder.maps[0]
    assert probs.shape[-1] == table.shape[1]
    torch.testing.assert_close(probs.sum(-1), torch.ones_like(probs.sum(-1)))  # rows of a softmax
    concept = positions[None, :].expand(4, -1)
    heads = probs.shape[0] // 4
    by_hand = sum(m[:, :, 5].pow(2).mean() * 1.0 for m in recorder.maps)
    torch.testing.assert_close(resteering_loss(recorder.maps, concept), by_hand)
    assert heads >= 1
    recorder.close()
    assert "get_attention_scores" not in vars(
        model.unet.down_blocks[0].attentions[0].transformer_blocks[0].attn2
    )


def test_erasediff_without_its_forget_term_is_the_retain_loss(t2i_class3, tmp_path):
    trainer, splits, tokenizer = _trainer("erasediff", t2i_class3, tmp_path, erasediff_lambda=0.0)
    forget, retain = batch_of(splits, "forget", tokenizer), batch_of(splits, "retain", tokenizer, seed=1)
    loss = trainer.compute_loss(trainer.model, {"forget": forget, "retain": retain})
    expected = trainer.objective.loss(trainer.objective.outputs(trainer.model, retain), retain)
    torch.testing.assert_close(loss, expected, atol=1e-5, rtol=1e-4)


def test_scissorhands_reinitialises_the_most_sensitive_share(t2i_class3, tmp_path):
    trainer, _, _ = _trainer("scissorhands", t2i_class3, tmp_path, scissorhands_sparsity=0.2)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    masks = trainer.trim()
    chosen = sum(int(m.sum()) for m in masks.values())
    total = sum(m.numel() for m in masks.values())
    assert chosen == round(0.2 * total)
    fresh = dict(trainer.model.fresh_copy(0).named_parameters())
    for name, param in trainer.model.named_parameters():
        mask = masks[name].bool()
        torch.testing.assert_close(param.detach()[mask], fresh[name].detach()[mask])
        torch.testing.assert_close(param.detach()[~mask], before[name][~mask])
