"""Peer cross-check of ``sfr_on`` against the authors' code, K1nght/Unified-Unlearning-w-Remain-Geometry
``Classification/unlearn/sfron.py`` (``get_weight_saliency_mask``, ``AdaptiveLoss``, the forget step of
``get_unlearned_model``), re-derived here on identical weights and batch; and its losses by hand."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from peer_testlib import LR, assert_weights, forget_set, retain_set, sgd_args, tiny_stack, xy
from test_trainers_losses import (
    CLASSES,
    FEATURES,
    PAIRED,
    XF,
    XR,
    YF,
    YR,
    close,
    column,
    cross_entropy,
    logits,
    loss_of,
    make_trainer,
    softmax,
    student,
)
from trainer_testlib import linear_rows

from mubench_hf.errors import MubenchError
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer


def test_sfr_on_first_update_matches_the_authors_code(tmp_path):
    model = tiny_stack()
    peer = copy.deepcopy(model)
    args = {**sgd_args(tmp_path), "max_grad_norm": 7.0}
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method="sfr_on", **args),
        forget_dataset=forget_set(),
        retain_dataset=retain_set(),
    )
    trainer.train()
    (xf, yf), (xr, yr) = xy(forget_set()), xy(retain_set())
    params = list(peer.parameters())
    # get_weight_saliency_mask: Σ_batches grad² / len(loader) on each set, mask = (F_f + ε) / (F_r + ε) >= 1
    fisher_f = [g**2 for g in torch.autograd.grad(F.cross_entropy(peer(xf).logits, yf), params)]
    fisher_r = [g**2 for g in torch.autograd.grad(F.cross_entropy(peer(xr).logits, yr), params)]
    masks = [(f + 1e-15) / (r + 1e-15) >= 1 for f, r in zip(fisher_f, fisher_r)]
    assert 0 < sum(int(m.sum()) for m in masks) < sum(m.numel() for m in masks)  # the mask selects
    for (name, _), mask in zip(peer.named_parameters(), masks):
        assert torch.equal(trainer.saliency_mask[name].bool(), mask), name
    # step 0 is a forget step: −α·AdaptiveLoss(CE, λ = 0.5), α = 25 at the start of the cosine; the
    # gradient times the mask, clipped to norm 7, then optimizer.step()
    out = peer(xf).logits
    ce = F.cross_entropy(out, yf, reduction="none")
    coef = 1 / (torch.pow(ce.detach().clone(), 0.5) + 1e-15)
    adaptive = ((coef / coef.sum()) * ce * out.shape[0]).mean()
    grads = [g * m for g, m in zip(torch.autograd.grad(-25.0 * adaptive, params), masks)]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    assert norm > 7.0  # the clipping takes part in this update
    expected = {
        n: p.detach() - LR * g * (7.0 / (norm + 1e-6)) for (n, p), g in zip(peer.named_parameters(), grads)
    }
    assert_weights(trainer.model, expected)


def test_sfr_on_steps_losses_and_mask_by_hand(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, "sfr_on", forget_every=2, forget_alpha=4.0, adaptive_lambda=0.5)
    assert [trainer.is_forget_step(s) for s in range(7)] == [True, False, False, True, False, False, True]
    w, b = student(trainer)
    trainer.state.max_steps = 12
    trainer.state.global_step = 1  # a retain step: CE on the retain half
    assert loss_of(trainer, PAIRED) == close(float(cross_entropy(logits(w, b, XR), YR)))
    trainer.state.global_step = 3  # a forget step: −α_t · Σ c_i ℓ_i / Σ c_i, c_i = 1 / √ℓ_i
    p = softmax(logits(w, b, XF))
    ell = -torch.log(p[torch.arange(3), YF])
    c = 1 / torch.sqrt(ell)
    alpha = 4.0 * (1 + math.cos(math.pi * 3 / 12)) / 2
    assert loss_of(trainer, PAIRED) == close(float(-alpha * (c * ell).sum() / c.sum()))
    trainer.before_unlearning()  # the mask from the squared mean-CE gradients: (P − onehot)ᵀX / n for W

    def gradients(rows):
        x, y = column(rows, "pixel_values"), column(rows, "label")
        delta = softmax(logits(w, b, x)) - F.one_hot(y, CLASSES).float()
        return delta.T @ x / len(y), delta.mean(0)

    (gw_f, gb_f), (gw_r, gb_r) = (
        gradients(linear_rows(6, FEATURES, CLASSES, seed=1)),
        gradients(linear_rows(10, FEATURES, CLASSES, seed=2)),
    )
    assert torch.equal(
        trainer.saliency_mask["linear.weight"].bool(), (gw_f**2 + 1e-15) / (gw_r**2 + 1e-15) >= 1
    )
    assert torch.equal(
        trainer.saliency_mask["linear.bias"].bool(), (gb_f**2 + 1e-15) / (gb_r**2 + 1e-15) >= 1
    )
    with pytest.raises(MubenchError, match="forget_every must be >= 1"):
        UnlearnConfig(method="sfr_on", output_dir=str(tmp_path), forget_every=0)
