"""Peer cross-checks of the NeurIPS 2023 unlearning challenge entries DeepUnlearn implements in
``munl/unlearning/kgltop1.py`` … ``kgltop7.py`` (xcadet/deepunlearn): ``uniform_contrastive`` (kgltop1),
``snip_reinit`` (kgltop2), ``prune_reinit_entropy`` (kgltop4), ``reset_distill`` (kgltop6) and
``layer_noise_finetune`` (kgltop7); kgltop3 and kgltop5 are in ``test_methods_peers_entries.py``.

Each method has a first-update check (one plain SGD step over a batch holding every row, against the peer
file's loss re-derived here on identical weights) and a check of its loss or update by hand.
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from peer_testlib import (
    FORGET_ROWS,
    LR,
    RETAIN_ROWS,
    assert_weights,
    first_update,
    forget_set,
    image_rows,
    peer_sgd_step,
    retain_set,
    sgd_args,
    tiny_conv,
    tiny_stack,
    xy,
)
from test_trainers_losses import (
    PAIRED,
    RETAIN,
    SHIFT,
    XF,
    XR,
    YR,
    close,
    column,
    cross_entropy,
    kl,
    logits,
    loss_of,
    make_trainer,
    softmax,
    student,
)
from torch import nn
from trainer_testlib import linear_rows, quiet_args, tiny_linear

from mubench_hf.errors import MubenchError
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer


# ============================================================================= reset_distill (kgltop6)
def test_reset_distill_first_update_matches_deepunlearn(tmp_path):
    model = tiny_conv()
    teacher, peer = copy.deepcopy(model), copy.deepcopy(model)
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method="reset_distill", **sgd_args(tmp_path, seed=3)),
        retain_dataset=image_rows(RETAIN_ROWS, seed=2),
    )
    assert trainer.reset == [trainer.model.backbone, trainer.model.classifier]
    assert not torch.equal(trainer.model.classifier.weight, teacher.classifier.weight)
    # kgltop6.py: conv1.reset_parameters(), then fc.reset_parameters() (the same seeded draws here); the
    # warm-up's first step is kl_loss(student, teacher, T): kl_div(log_softmax(s/T), softmax(t/T), batchmean)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        peer.backbone.reset_parameters()
        peer.classifier.reset_parameters()
    x, _ = xy(image_rows(RETAIN_ROWS, seed=2))
    t = 5.0
    loss = F.kl_div(
        F.log_softmax(peer(x).logits / t, dim=1),
        F.softmax(teacher(x).logits / t, dim=1),
        reduction="batchmean",
    )
    expected = peer_sgd_step(peer, loss)
    trainer.train()
    assert_weights(trainer.model, expected)


def test_reset_distill_losses_by_hand(tmp_path):
    trainer, w0, b0 = make_trainer(tmp_path, "reset_distill", kd_temperature=2.0, kd_warmup_epochs=1)
    w, b = student(trainer)
    assert not torch.allclose(w - SHIFT, w0)  # the student was reset (then shifted), the teacher keeps θo
    zs, zt = logits(w, b, XR), logits(w0, b0, XR)
    trainer.state.epoch = 0.5  # warm-up: KL(θo ‖ θ) at T only
    assert loss_of(trainer, RETAIN) == close(float(kl(zt, zs, 2.0)))
    trainer.state.epoch = 1.0  # then soft CE + CE + KL, the peer's soft_cross_entropy re-applying log_softmax
    soft_ce = -(softmax(zt / 2.0) * torch.log(softmax(zs / 2.0))).sum(dim=1).mean()
    expected = soft_ce + cross_entropy(zs, YR) + kl(zt, zs, 2.0)
    assert loss_of(trainer, RETAIN) == close(float(expected))
    with pytest.raises(MubenchError, match="kd_temperature must be > 0"):
        UnlearnConfig(method="reset_distill", output_dir=str(tmp_path), kd_temperature=0.0)


# ============================================================================= snip_reinit (kgltop2)
def test_snip_reinit_first_update_matches_deepunlearn(tmp_path):
    model = tiny_conv()
    peer = copy.deepcopy(model)
    forget, retain = image_rows(FORGET_ROWS, seed=1), image_rows(RETAIN_ROWS, seed=2)
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method="snip_reinit", **sgd_args(tmp_path, seed=4)),
        forget_dataset=forget,
        retain_dataset=retain,
    )
    trainer.train()
    # kgltop2.py get_grads_for_snip: .grad accumulates CE on |Df| random rows of Dr, then −CE on Df
    (xf, yf), (xr, yr) = xy(forget), xy(retain)
    rows = torch.randperm(RETAIN_ROWS, generator=torch.Generator().manual_seed(4))[:FORGET_ROWS]
    F.cross_entropy(peer(xr[rows]).logits, yr[rows]).backward()
    (-F.cross_entropy(peer(xf).logits, yf)).backward()
    # re_init_model_snip_ver2_little_grad: the round(0.3·n) weights of smallest |grad| get kaiming_normal_
    # (fan_out, relu) values, the others θo's; MaskConv2d multiplies the others' gradient by 0.1
    conv = peer.backbone
    mask = torch.zeros(conv.weight.numel(), dtype=torch.bool)
    mask[torch.topk(-conv.weight.grad.abs().view(-1), k=round(0.3 * mask.numel())).indices] = True
    mask = mask.view_as(conv.weight)
    assert torch.equal(trainer.reinit_masks["backbone.weight"], mask)
    fresh = torch.empty_like(conv.weight)
    torch.nn.init.kaiming_normal_(
        fresh, mode="fan_out", nonlinearity="relu", generator=torch.Generator().manual_seed(4)
    )
    grad_mask = mask.float()
    grad_mask[grad_mask == 0] += 0.1
    with torch.no_grad():
        conv.weight[mask] = fresh[mask]
    peer.zero_grad()
    params = list(peer.parameters())
    grads = torch.autograd.grad(F.cross_entropy(peer(xr).logits, yr), params)
    expected = {}
    for (name, p), g in zip(peer.named_parameters(), grads):
        expected[name] = p.detach() - LR * (g * grad_mask if name == "backbone.weight" else g)
    assert_weights(trainer.model, expected)


def test_snip_reinit_masks_and_settings_by_hand(tmp_path):
    from mubench_hf.trainers.snip_reinit import retain_subset, smallest_fraction

    scores = torch.tensor([[0.5, 0.1, 0.9], [0.3, 0.0, 0.7]])
    assert torch.equal(
        smallest_fraction(scores, 0.5), torch.tensor([[False, True, False], [True, True, False]])
    )
    assert not smallest_fraction(scores, 0.0).any() and smallest_fraction(scores, 1.0).all()
    assert sorted(retain_subset(5, 9, seed=0)) == [0, 1, 2, 3, 4]  # never more rows than Dr has
    linear = tiny_linear()  # no convolution: the weights are θo's when training starts
    weights = {n: p.detach().clone() for n, p in linear.named_parameters()}
    trainer = UnlearnTrainer(
        model=linear,
        args=UnlearnConfig(method="snip_reinit", **quiet_args(tmp_path, max_steps=1)),
        forget_dataset=forget_set(),
        retain_dataset=retain_set(),
    )
    trainer.before_unlearning()
    assert trainer.reinit_masks == {}
    assert all(torch.equal(p, weights[n]) for n, p in trainer.model.named_parameters())
    with pytest.raises(MubenchError, match="needs the forget set"):
        UnlearnTrainer(model=tiny_linear(), args=trainer.args, retain_dataset=retain_set())
    with pytest.raises(MubenchError, match=r"reinit_fraction must be in \[0, 1\]"):
        UnlearnConfig(method="snip_reinit", output_dir=str(tmp_path), reinit_fraction=1.5)


# ============================================================================= prune_reinit_entropy (kgltop4)
def test_prune_reinit_entropy_first_update_matches_deepunlearn(tmp_path):
    import torch.nn.utils.prune as prune

    model = tiny_conv()
    teacher, peer = copy.deepcopy(model), copy.deepcopy(model)
    retain = image_rows(RETAIN_ROWS, seed=2)
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method="prune_reinit_entropy", **sgd_args(tmp_path, prune_amount=0.6, seed=5)),
        retain_dataset=retain,
    )
    # kgltop4.py prune_model: prune.global_unstructured(L1Unstructured) over the Conv2d/Linear weights and
    # biases, then each zero weight drawn as (rand − 0.5)·2·√(1/fan_in) (the same seeded draws here)
    layers = [peer.backbone, peer.classifier]
    prune.global_unstructured(
        [(m, n) for m in layers for n in ("weight", "bias")], pruning_method=prune.L1Unstructured, amount=0.6
    )
    generator = torch.Generator().manual_seed(5)
    for m in layers:
        prune.remove(m, "weight")
        prune.remove(m, "bias")
    with torch.no_grad():
        for m in layers:
            mask = m.weight == 0
            fan_in = mask.shape[1] * (mask.shape[2] * mask.shape[3] if mask.dim() == 4 else 1)
            draw = (torch.rand(m.weight.shape, generator=generator) - 0.5) * 2 * (1 / fan_in) ** 0.5
            m.weight[mask] = draw[mask]
    assert trainer.pruned_entries == round(0.6 * 119)
    for name, p in peer.named_parameters():
        assert torch.equal(trainer.model.get_parameter(name), p), name
    # entropy_loss_fn: CE weighted by counts ** -0.1 + MSE(entropy(student), entropy(θo))
    x, y = xy(retain)
    counts = torch.unique(y, return_counts=True)[1].float()
    out, target = peer(x).logits, torch.log_softmax(teacher(x).logits, dim=1).detach()
    ce = F.cross_entropy(out, y, weight=counts**-0.1)
    entropy_target = torch.sum(-torch.exp(target) * target, dim=1)
    entropy_out = torch.sum(-torch.softmax(out, dim=1) * torch.log_softmax(out, dim=1), dim=1)
    expected = peer_sgd_step(peer, ce + F.mse_loss(entropy_out, entropy_target))
    trainer.args.round_to_half = False  # checked below: the peer's net.to(half).to(float) after training
    trainer.train()
    assert_weights(trainer.model, expected)
    from mubench_hf.trainers.prune_reinit_entropy import round_to_half

    half = copy.deepcopy(peer).to(torch.half).to(torch.float)
    round_to_half(peer)
    assert all(torch.equal(p, q) for p, q in zip(peer.parameters(), half.parameters()))


def test_prune_reinit_entropy_weights_and_loss_by_hand(tmp_path):
    import numpy as np

    from mubench_hf.trainers.prune_reinit_entropy import count_weights

    weights = count_weights(np.array([0, 0, 0, 2]), 4, -0.1)  # classes 1 and 3 absent: 0, not shifted
    assert torch.allclose(weights, torch.tensor([3**-0.1, 0.0, 1.0, 0.0]))
    trainer, w0, b0 = make_trainer(tmp_path, "prune_reinit_entropy", prune_amount=0.5)
    assert trainer.pruned_entries == 8  # half of the 12 weights and 3 biases, rounded
    w, b = student(trainer)
    zs, zt = logits(w, b, XR), logits(w0, b0, XR)  # θo is the teacher, as it was before the pruning
    n = torch.bincount(
        column(linear_rows(10, 4, 3, seed=2), "label"), minlength=3
    ).float()  # make_trainer's Dr
    wy = (n**-0.1)[YR]
    p, q = softmax(zs), softmax(zt)
    ce = (wy * -torch.log(p[torch.arange(4), YR])).sum() / wy.sum()
    gap = ((-(p * torch.log(p)).sum(1)) - (-(q * torch.log(q)).sum(1))).pow(2).mean()
    assert loss_of(trainer, RETAIN) == close(float(ce + gap))
    with pytest.raises(MubenchError, match=r"prune_amount must be in \[0, 1\)"):
        UnlearnConfig(method="prune_reinit_entropy", output_dir=str(tmp_path), prune_amount=1.0)


# ============================================================================= uniform_contrastive (kgltop1)
def test_uniform_contrastive_first_update_matches_deepunlearn(tmp_path):
    model = tiny_stack()
    peer = copy.deepcopy(model)
    trainer = first_update(tmp_path, "uniform_contrastive", model)
    assert trainer.uniform_steps == 1  # one pass over the 6 forget rows in a batch of 18
    # kgltop1.py's first stage: kl_loss_sym(outputs, uniform) = KLDivLoss(batchmean)(log_softmax(z), 1/C) on Df
    x, _ = xy(forget_set())
    out = peer(x).logits
    uniform = torch.ones_like(out) / out.shape[1]
    expected = peer_sgd_step(
        peer, torch.nn.KLDivLoss(reduction="batchmean")(torch.log_softmax(out, dim=-1), uniform)
    )
    assert_weights(trainer.model, expected)


def test_uniform_contrastive_second_stage_loss_by_hand(tmp_path):
    trainer, _, _ = make_trainer(
        tmp_path, "uniform_contrastive", contrast_weight=0.3, contrast_temperature=1.15
    )
    w, b = student(trainer)
    zf, zr = logits(w, b, XF), logits(w, b, XR)
    trainer.state.global_step = trainer.uniform_steps - 1  # still the uniform pass: KL(u ‖ p) on Df
    u = torch.full_like(zf, 1 / 3)
    assert loss_of(trainer, PAIRED) == close(
        float((u * (torch.log(u) - torch.log(softmax(zf)))).sum(1).mean())
    )
    trainer.state.global_step = trainer.uniform_steps
    # kgltop1.py's forget round: (−1 · LogSoftmax(dim=-1)(outputs_forget @ outputs_retain.T / T)).mean()
    s = zf @ zr.T / 1.15
    contrast = -(s - torch.logsumexp(s, dim=1, keepdim=True)).mean()
    assert loss_of(trainer, PAIRED) == close(float(0.3 * contrast + cross_entropy(zr, YR)))
    with pytest.raises(MubenchError, match="contrast_temperature > 0"):
        UnlearnConfig(method="uniform_contrastive", output_dir=str(tmp_path), contrast_temperature=0.0)


# ============================================================================= layer_noise_finetune (kgltop7)
def test_layer_noise_finetune_first_update_matches_deepunlearn(tmp_path):
    import numpy as np

    model = tiny_stack()
    peer = copy.deepcopy(model)
    retain = retain_set()
    hyper = dict(layers_per_epoch=3, fine_tune_epochs=0, seed=6)
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method="layer_noise_finetune", **sgd_args(tmp_path, **hyper)),
        retain_dataset=retain,
    )
    trainer.train()
    # kgltop7.py: fc.reset_parameters() (the same seeded draw here); epoch 0 < reset_epoch: no noise;
    # select_optim_keys draws np.random.choice(non-"bn" keys, layer_select) and only those train
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(6)
        peer.classifier.reset_parameters()
    saved = np.random.get_state()
    try:
        np.random.seed(6)
        keys = [k for k, _ in peer.named_parameters() if "bn" not in k]
        chosen = sorted(set(np.random.choice(keys, min(3, len(keys)), replace=False).tolist()))
    finally:
        np.random.set_state(saved)
    for name, p in peer.named_parameters():
        p.requires_grad_(name in chosen)
    x, y = xy(retain)
    loss = F.cross_entropy(peer(x).logits, y)
    trainable = [(n, p) for n, p in peer.named_parameters() if p.requires_grad]
    grads = dict(zip([n for n, _ in trainable], torch.autograd.grad(loss, [p for _, p in trainable])))
    expected = {
        n: p.detach() - LR * grads[n] if n in grads else p.detach() for n, p in peer.named_parameters()
    }
    assert_weights(trainer.model, expected)
    assert all(p.requires_grad for p in trainer.model.parameters())  # every weight trainable again after


def test_layer_noise_finetune_epochs_by_hand(tmp_path):
    import numpy as np

    from mubench_hf.trainers.layer_noise_finetune import normalisation_names

    trainer = UnlearnTrainer(
        model=tiny_stack(),
        args=UnlearnConfig(
            method="layer_noise_finetune",
            **quiet_args(tmp_path, layers_per_epoch=3, noise_ratio=0.7, noise_std=0.5, fine_tune_epochs=1),
        ),
        retain_dataset=retain_set(),
    )
    model = trainer.model
    names = [n for n, _ in model.named_parameters()]
    rng, generator = np.random.RandomState(0), torch.Generator().manual_seed(0)
    first = sorted(rng.choice(names, 3, replace=False).tolist())
    assert trainer.draw_epoch(0, 3) == first and trainer.noised == []  # epoch 0: the head was just reset
    assert [n for n, p in model.named_parameters() if p.requires_grad] == first
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    second = sorted(rng.choice(names, 3, replace=False).tolist())
    noised = sorted(rng.choice(second, int(0.7 * 3), replace=False).tolist())
    expected = dict(before)
    for name in noised:  # the peer draws the noise, then skips a tensor an earlier epoch drew
        noise = torch.randn(before[name].shape, generator=generator)
        if name not in first:
            expected[name] = before[name] + 0.5 * noise
    assert trainer.draw_epoch(1, 3) == second
    assert trainer.noised == [n for n in noised if n not in first]
    for name, p in model.named_parameters():
        assert torch.allclose(p, expected[name]), name
    assert trainer.draw_epoch(2, 3) == sorted(names) and trainer.noised == []  # the last epoch: all, no noise
    normed = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.LayerNorm(2))
    assert normalisation_names(normed) == {"1.weight", "1.bias", "2.weight", "2.bias"}
    with pytest.raises(MubenchError, match=r"noise_ratio must be in \[0, 1\]"):
        UnlearnConfig(method="layer_noise_finetune", output_dir=str(tmp_path), noise_ratio=2.0)
