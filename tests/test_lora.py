"""LoRA targets found in the model for each family, the rank that hits a trainable share, and unlearning
through adapters (only adapters and the head change; the CLI saves an adapter folder that loads back)."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import (
    AutoModelForAudioClassification,
    AutoModelForCausalLM,
    AutoModelForImageClassification,
    AutoModelForSequenceClassification,
    BertConfig,
    GPT2Config,
    ResNetConfig,
    ViTConfig,
    WhisperConfig,
)

from mubench_hf.cli.unlearn import RUN_FILE, main
from mubench_hf.errors import MubenchError
from mubench_hf.lora import apply_lora, head_modules, lora_target_modules, rank_for_share

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QUIET = ["--use_cpu", "true", "--report_to", "none", "--disable_tqdm", "true", "--save_strategy", "no"]


def bert():
    config = BertConfig(
        vocab_size=40,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=3,
    )
    return AutoModelForSequenceClassification.from_config(config)


def vit():
    config = ViTConfig(
        image_size=8, patch_size=4, num_channels=1, hidden_size=16, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=32, num_labels=3,
    )  # fmt: skip
    return AutoModelForImageClassification.from_config(config)


def resnet():
    config = ResNetConfig(hidden_sizes=[8, 16], depths=[1, 1], embedding_size=8, num_channels=1, num_labels=3)
    return AutoModelForImageClassification.from_config(config)


def whisper():
    config = WhisperConfig(
        d_model=16, encoder_layers=2, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=32, decoder_ffn_dim=32, num_mel_bins=8, max_source_positions=16, num_labels=3,
        vocab_size=60, pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1,
    )  # fmt: skip
    return AutoModelForAudioClassification.from_config(config)


def gpt2():
    config = GPT2Config(n_embd=16, n_layer=2, n_head=2, vocab_size=40, bos_token_id=0, eos_token_id=0)
    return AutoModelForCausalLM.from_config(config)


def test_bert_targets_attention_projections_but_not_its_feed_forward_dense_layers() -> None:
    targets = lora_target_modules(bert())
    assert targets[:4] == [
        "bert.encoder.layer.0.attention.self.query",
        "bert.encoder.layer.0.attention.self.key",
        "bert.encoder.layer.0.attention.self.value",
        "bert.encoder.layer.0.attention.output.dense",
    ]
    assert len(targets) == 8 and not any(
        "intermediate" in t or t.endswith("layer.0.output.dense") for t in targets
    )


@pytest.mark.parametrize(
    ("build", "leaf_names", "heads"),
    [
        (vit, {"q_proj", "k_proj", "v_proj", "o_proj"}, ["classifier"]),
        (whisper, {"q_proj", "k_proj", "v_proj", "out_proj"}, ["projector", "classifier"]),
        (gpt2, {"c_attn", "c_proj"}, ["lm_head"]),
    ],
)
def test_attention_families_get_their_own_projection_names(build, leaf_names, heads) -> None:
    model = build()
    targets = lora_target_modules(model)
    assert {t.rsplit(".", 1)[1] for t in targets} == leaf_names
    assert head_modules(model) == heads
    assert not any(t.startswith(tuple(heads)) for t in targets)
    if build is gpt2:  # the MLP's c_proj is not inside attention
        assert not any(".mlp." in t for t in targets)


def test_a_cnn_without_attention_adapts_its_convolutions() -> None:
    model = resnet()
    targets = lora_target_modules(model)
    modules = dict(model.named_modules())
    assert targets and all(isinstance(modules[t], torch.nn.Conv2d) for t in targets)
    assert head_modules(model) == ["classifier"]


@pytest.mark.parametrize("build", [bert, vit, resnet])
@pytest.mark.parametrize("share", [0.1, 0.2, 0.5])
def test_rank_for_share_is_the_smallest_rank_that_reaches_the_share(build, share) -> None:
    rank = rank_for_share(build(), share)
    _, plan = apply_lora(build(), r=rank)
    assert plan.trainable_share >= share
    if rank > 1:
        _, smaller = apply_lora(build(), r=rank - 1)
        assert smaller.trainable_share < share


def test_bad_lora_settings_are_refused() -> None:
    with pytest.raises(MubenchError, match="positive integer"):
        apply_lora(bert(), r=0)
    with pytest.raises(MubenchError, match=r"lie in \(0, 1\)"):
        rank_for_share(bert(), 1.5)
    with pytest.raises(MubenchError, match="no linear, Conv1D or Conv2d layer"):
        lora_target_modules(torch.nn.Sequential(torch.nn.ReLU()))


def test_one_training_step_changes_only_adapters_and_head() -> None:
    model, plan = apply_lora(vit(), r=2)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    pixels, labels = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 0])
    model(pixel_values=pixels, labels=labels).loss.backward()
    optimizer.step()
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert changed and all("lora_" in n or "modules_to_save" in n for n in changed)
    assert plan.modules_to_save == ("classifier",)


def test_unlearn_cli_trains_through_lora_and_saves_an_adapter(
    digits_repo, digits_base_model_dir, tmp_path
) -> None:
    out = tmp_path / "out"
    argv = [
        "--dataset", str(digits_repo), "--model", str(digits_base_model_dir), "--cache_dir", str(tmp_path / "c"),
        "--config", "digits_del5", "--output_dir", str(out), "--method", "grad_ascent", "--max_steps", "2",
        "--learning_rate", "1e-3", "--lora_rank", "2", *QUIET,
    ]  # fmt: skip
    assert main(argv) == 0
    assert json.loads((out / RUN_FILE).read_text())["status"] == "done"
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["r"] == 2 and adapter["lora_alpha"] == 4 and adapter["modules_to_save"] == ["classifier"]
    assert not (out / "model.safetensors").exists()  # only the adapter and head are saved
