"""Peer cross-checks of UNSIR and of the NeurIPS 2023 challenge entries DeepUnlearn implements
(``transposed_kernels``, ``conv_noise_finetune``); see ``test_methods_peers.py`` for the peer files and
the method of the checks."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from peer_testlib import (
    RETAIN_ROWS,
    assert_weights,
    image_rows,
    peer_sgd_step,
    retain_set,
    seeded_noise,
    sgd_args,
    tiny_conv,
    xy,
)
from test_trainers_losses import (
    CLASSES,
    FEATURES,
    RETAIN,
    XR,
    YR,
    close,
    column,
    cross_entropy,
    logits,
    loss_of,
    make_trainer,
    student,
)
from torch import nn
from trainer_testlib import linear_rows, quiet_args, tiny_linear

from mubench_hf.errors import MubenchError
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer


# ============================================================================= transposed_kernels
def test_transposed_kernels_first_update_matches_deepunlearn(tmp_path):
    model = tiny_conv()
    kernel = model.backbone.weight.detach().clone()
    peer = copy.deepcopy(model)
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method="transposed_kernels", **sgd_args(tmp_path)),
        retain_dataset=image_rows(RETAIN_ROWS, seed=2),
    )
    assert trainer.transposed_kernels == 1
    assert torch.equal(trainer.model.backbone.weight, kernel.transpose(2, 3))
    assert not torch.equal(kernel, kernel.transpose(2, 3))  # the swap is not a no-op on these weights
    # kgltop5.py's rotate_weight: every Conv2d weight becomes weight.swapaxes(2, 3); then CE on Dr
    peer.backbone.weight = nn.Parameter(peer.backbone.weight.swapaxes(2, 3))
    x, y = xy(image_rows(RETAIN_ROWS, seed=2))
    expected = peer_sgd_step(peer, nn.CrossEntropyLoss()(peer(x).logits, y))
    trainer.train()
    assert_weights(trainer.model, expected)


def test_transposed_kernels_loss_is_cross_entropy_on_retain(tmp_path):
    trainer = UnlearnTrainer(
        model=tiny_conv(),
        args=UnlearnConfig(method="transposed_kernels", **quiet_args(tmp_path)),
        retain_dataset=image_rows(RETAIN_ROWS, seed=2),
    )
    x, y = xy(image_rows(RETAIN_ROWS, seed=2))
    model = trainer.model
    z = torch.tanh(F.conv2d(x.view(-1, 1, 4, 4), model.backbone.weight, model.backbone.bias, padding=1))
    z = z.flatten(1) @ model.classifier.weight.T + model.classifier.bias
    assert loss_of(trainer, {"pixel_values": x, "labels": y}) == close(float(cross_entropy(z, y)))


# ============================================================================= unsir
def test_unsir_noise_matches_the_authors_notebook(tmp_path):
    trainer, _, _ = make_trainer(
        tmp_path, "unsir", unsir_noise_rows=4, unsir_noise_steps=1, unsir_noise_l2=0.3
    )
    w, b = student(trainer)
    classes = sorted(set(column(linear_rows(6, FEATURES, CLASSES, seed=1), "label").tolist()))
    starts = {c: trainer.initial_noise(torch.zeros(4, FEATURES), c) for c in classes}
    trainer.before_unlearning()
    assert [int(n["labels"][0]) for n in trainer.noise] == classes
    for c, learned in zip(classes, trainer.noise):
        # the notebook: Adam(noise, lr) on −F.cross_entropy(model(noise), c) + λ·mean(sum(noise², dims))
        noise = nn.Parameter(starts[c].clone())
        opt = torch.optim.Adam([noise], lr=0.1)
        loss = -F.cross_entropy(noise @ w.T + b, torch.full((4,), c)) + 0.3 * torch.mean(
            torch.sum(noise**2, [1])
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert torch.allclose(learned["pixel_values"], noise.detach(), atol=1e-6)
        assert torch.equal(learned["labels"], torch.full((4,), c))
    assert all(p.requires_grad for p in trainer.model.parameters())  # the model is trainable again


def test_unsir_noise_loss_and_phases_by_hand(tmp_path):
    trainer, _, _ = make_trainer(
        tmp_path, "unsir", unsir_noise_rows=2, unsir_noise_steps=3, per_device_train_batch_size=4
    )
    w, b = student(trainer)
    n = torch.randn(2, FEATURES, generator=torch.Generator().manual_seed(5))
    batch = {"pixel_values": n, "labels": torch.tensor([0, 0])}
    expected = -cross_entropy(logits(w, b, n), torch.tensor([2, 2])) + 0.1 * (n**2).sum(dim=1).mean()
    assert float(trainer.noise_loss(batch, "pixel_values", 2).detach()) == close(float(expected))
    trainer.before_unlearning()
    assert trainer.impair_steps == 3  # one pass over the 10 retain rows in batches of 4
    trainer.state.global_step = 0  # impair: the retain batch plus as many noise rows
    noise = {k: torch.cat([nb[k] for nb in trainer.noise]) for k in ("pixel_values", "labels")}
    x, y = torch.cat([XR, noise["pixel_values"][:4]]), torch.cat([YR, noise["labels"][:4]])
    assert loss_of(trainer, RETAIN) == close(float(cross_entropy(logits(w, b, x), y)))
    trainer.state.global_step = 3  # repair: Dr alone
    assert loss_of(trainer, RETAIN) == close(float(cross_entropy(logits(w, b, XR), YR)))
    with pytest.raises(MubenchError, match="needs the forget set"):
        UnlearnTrainer(model=tiny_linear(), args=trainer.args, retain_dataset=retain_set())


# ============================================================================= conv_noise_finetune
def test_conv_noise_finetune_first_update_matches_deepunlearn(tmp_path):
    from sklearn.utils.class_weight import compute_class_weight

    model = tiny_conv()
    peer = copy.deepcopy(model)
    kernel = model.backbone.weight.detach().clone()
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method="conv_noise_finetune", **sgd_args(tmp_path, start_noise_std=0.6)),
        retain_dataset=image_rows(RETAIN_ROWS, seed=2),
    )
    noise = seeded_noise(kernel.shape, 0, 0.6)
    assert torch.allclose(trainer.model.backbone.weight, kernel + noise)
    # kgltop3.py: vision_confuser (the stem's weight drawn from N(weight, σ); the same draw here), then
    # CustomCrossEntropyLoss with sklearn's "balanced" weights over Dr's labels
    with torch.no_grad():
        peer.backbone.weight.add_(noise)
    x, y = xy(image_rows(RETAIN_ROWS, seed=2))
    assert set(y.tolist()) == set(range(CLASSES))  # every class present: the peer's indexing holds
    class_weights = compute_class_weight(class_weight="balanced", classes=np.unique(y.numpy()), y=y.numpy())
    ce_loss = nn.functional.cross_entropy(peer(x).logits, y)
    weights = torch.tensor([class_weights[i] for i in y], dtype=torch.float32)
    expected = peer_sgd_step(peer, torch.mean(ce_loss * weights))
    trainer.train()  # one step of a one-epoch run: no final noise
    assert not trainer.final_noise_done
    assert_weights(trainer.model, expected)


def test_conv_noise_finetune_weights_and_final_noise_by_hand(tmp_path):
    retain = image_rows(RETAIN_ROWS, seed=2)
    trainer = UnlearnTrainer(
        model=tiny_conv(),
        args=UnlearnConfig(method="conv_noise_finetune", **quiet_args(tmp_path, final_noise_std=0.01)),
        retain_dataset=retain,
    )
    _, y = xy(retain)
    counts = torch.bincount(y, minlength=CLASSES).float()
    expected = RETAIN_ROWS / (CLASSES * counts)
    assert torch.allclose(trainer.class_weights(torch.device("cpu")), expected)
    from mubench_hf.trainers.conv_noise_finetune import balanced_class_weights

    absent = balanced_class_weights(np.array([0, 0, 2]), 4)  # class 1 and 3 absent: weight 0, not shifted
    assert torch.allclose(absent, torch.tensor([0.75, 0.0, 1.5, 0.0]))
    before = trainer.model.backbone.weight.detach().clone()
    trainer.state.num_train_epochs, trainer.state.epoch = 3, 1.5
    assert not trainer.maybe_add_final_noise(trainer.model)
    trainer.state.epoch = 2.0  # the last epoch starts
    assert trainer.maybe_add_final_noise(trainer.model)
    assert torch.allclose(trainer.model.backbone.weight, before + seeded_noise(before.shape, 1, 0.01))
    assert not trainer.maybe_add_final_noise(trainer.model)  # once
    linear = tiny_linear()  # no convolution: no noise, only the balanced fine-tuning
    weights = {n: p.detach().clone() for n, p in linear.named_parameters()}
    plain = UnlearnTrainer(model=linear, args=trainer.args, retain_dataset=retain_set())
    assert all(torch.equal(p, weights[n]) for n, p in plain.model.named_parameters())


def test_unsir_joins_noise_and_batches_whose_questions_were_padded_to_other_lengths() -> None:
    """image_text: one class's noise template and the next batch can hold questions padded to 15 and 10
    tokens; joining them failed ("Sizes of tensors must match"). Token columns are right-padded with 0."""
    import torch

    from mubench_hf.trainers.unsir import concat_padded

    first = {"input_ids": torch.ones(2, 15, dtype=torch.long), "pixel_values": torch.zeros(2, 3),
             "labels": torch.tensor([1, 1])}  # fmt: skip
    second = {
        "input_ids": torch.full((3, 10), 7),
        "pixel_values": torch.ones(3, 3),
        "labels": torch.tensor([2, 2, 2]),
    }
    joined = concat_padded(first, second)
    assert joined["input_ids"].shape == (5, 15)
    assert joined["input_ids"][2:, :10].eq(7).all() and joined["input_ids"][2:, 10:].eq(0).all()
    assert joined["pixel_values"].shape == (5, 3) and joined["labels"].tolist() == [1, 1, 2, 2, 2]
