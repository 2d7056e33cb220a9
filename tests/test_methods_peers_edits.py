"""Peer cross-checks of the retrain-free weight edits: Fisher forgetting and influence unlearning (see
``test_methods_peers.py`` for the peer files and the method of the checks)."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from peer_testlib import (
    assert_weights,
    forget_set,
    retain_set,
    tiny_stack,
    xy,
)
from test_trainers_losses import (
    CLASSES,
    FEATURES,
    logits,
    make_trainer,
    softmax,
    student,
)
from torch import nn
from trainer_testlib import linear_rows, quiet_args

from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer


# ============================================================================= fisher
def peer_fisher_variance(model: nn.Module, x: torch.Tensor, batch: int, alpha: float) -> dict:
    """Unlearn-Sparse's fisher_new: ``hessian`` then ``get_mean_var`` (as the peer, with backward())."""
    model.eval()
    acc = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    batches = 0
    for start in range(0, len(x), batch):
        data = x[start : start + batch]
        output = model(data).logits
        prob = F.softmax(output, dim=-1).data
        for y in range(output.shape[1]):
            loss = nn.CrossEntropyLoss()(output, torch.full((len(data),), y))
            model.zero_grad()
            loss.backward(retain_graph=True)
            for n, p in model.named_parameters():
                acc[n] += torch.mean(prob[:, y]) * p.grad.data.pow(2)
        batches += 1
    result = {}
    for n, p in model.named_parameters():
        var = (1.0 / (acc[n] / batches + 1e-8)).clamp(max=1e3)
        if p.shape[0] == CLASSES:
            var = var.clamp(max=1e2)
        var = alpha * var
        if p.ndim > 1:
            var = var.mean(dim=1, keepdim=True).expand_as(p).clone()
        if p.shape[0] == CLASSES or p.ndim == 1:
            var *= 10
        result[n] = var
    return result


def expected_noise(model: nn.Module, seed: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return {n: torch.randn(p.shape, generator=generator) for n, p in model.named_parameters()}


def test_fisher_estimate_by_hand_on_the_linear_model(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, "fisher", fisher_batch_size=4)
    w, b = student(trainer)
    x, _ = xy(linear_rows(10, FEATURES, CLASSES, seed=2))
    expected_w = torch.zeros_like(w)
    for start in (0, 4, 8):  # batches of 4, 4 and 2 rows
        xb = x[start : start + 4]
        p = softmax(logits(w, b, xb))
        for y in range(CLASSES):
            # d mean-CE(target y) / dW = (p − onehot(y))ᵀ x / B, weighted by the batch's mean p(y)
            err = p - F.one_hot(torch.full((len(xb),), y), CLASSES).float()
            expected_w += p[:, y].mean() * (err.T @ xb / len(xb)) ** 2
    fisher = trainer.retain_fisher()
    assert torch.allclose(fisher["linear.weight"], expected_w / 3, rtol=1e-5, atol=1e-9)


def test_fisher_update_matches_unlearn_sparse(tmp_path):
    model = tiny_stack()
    peer = copy.deepcopy(model)
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method="fisher", **quiet_args(tmp_path, fisher_alpha=0.05, fisher_batch_size=5)),
        retain_dataset=retain_set(),
    )
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    output = trainer.train()
    assert output.global_step == 0
    x, _ = xy(retain_set())
    variance = peer_fisher_variance(peer, x, 5, 0.05)
    noise = expected_noise(peer, seed=0)
    expected = {n: before[n] + variance[n].sqrt() * noise[n] for n in before}
    assert_weights(trainer.model, expected)
    assert all(not torch.equal(p, before[n]) for n, p in trainer.model.named_parameters())


def test_fisher_reads_at_most_its_bound_of_retain_rows(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, "fisher", fisher_max_samples=4, fisher_batch_size=2)
    seen = []
    handle = trainer.model.register_forward_hook(lambda m, i, o: seen.append(len(o.logits)))
    try:
        trainer.retain_fisher()
    finally:
        handle.remove()
    assert seen == [2, 2]


# ============================================================================= influence
def peer_wfisher(model: nn.Module, alpha: float, n: int, batch: int) -> dict[str, torch.Tensor]:
    """Unlearn-Sparse's Wfisher / woodfisher, re-derived: the peer's sums, recursion and step."""
    model.eval()
    params = list(model.parameters())

    def sam_grad(x, y):
        loss = nn.CrossEntropyLoss()(model(x).logits, y)
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params)])

    (xf, yf), (xr, yr) = xy(forget_set()), xy(retain_set())
    forget_grad = sum(sam_grad(xf[s : s + batch], yf[s : s + batch]) * len(yf[s : s + batch])
                      for s in range(0, len(yf), batch))  # fmt: skip
    retain_grad = sum(sam_grad(xr[s : s + batch], yr[s : s + batch]) * len(yr[s : s + batch])
                      for s in range(0, len(yr), batch))  # fmt: skip
    total, total_2 = len(yf), len(yr)
    retain_grad = retain_grad * total / ((total + total_2) * total_2)
    forget_grad = forget_grad / (total + total_2)
    k_vec, o_vec = (forget_grad - retain_grad).clone(), None
    for idx in range(len(yr)):
        sample_grad = sam_grad(xr[idx : idx + 1], yr[idx : idx + 1])
        if o_vec is None:
            o_vec = sample_grad.clone()
        else:
            tmp = torch.dot(o_vec, sample_grad)
            k_vec -= (torch.dot(k_vec, sample_grad) / (n + tmp)) * o_vec
            o_vec -= (tmp / (n + tmp)) * o_vec
        if idx > n:
            break
    after, offset = {}, 0
    for name, p in model.named_parameters():
        after[name] = p.detach() + alpha * k_vec[offset : offset + p.numel()].view_as(p)
        offset += p.numel()
    return after


@pytest.mark.parametrize("n", [3, 1000])  # 3: the loop stops after row N + 1 = 4 of 12
def test_influence_update_matches_unlearn_sparse(tmp_path, n):
    model = tiny_stack()
    peer = copy.deepcopy(model)
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(
            method="influence",
            **quiet_args(tmp_path, influence_alpha=5.0, woodfisher_samples=n, influence_batch_size=4),
        ),
        forget_dataset=forget_set(),
        retain_dataset=retain_set(),
    )
    output = trainer.train()
    assert output.global_step == 0 and output.metrics["update_norm"] > 0
    assert_weights(trainer.model, peer_wfisher(peer, 5.0, n, 4))


def test_influence_first_direction_by_hand_on_the_linear_model(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, "influence", influence_batch_size=4)
    w, b = student(trainer)
    (xf, yf), (xr, yr) = xy(forget_set()), xy(linear_rows(10, FEATURES, CLASSES, seed=2))

    def summed(x, y):  # Σ over rows of d CE / d(W, b) = ((p − onehot)ᵀ x, Σ (p − onehot))
        err = softmax(logits(w, b, x)) - F.one_hot(y, CLASSES).float()
        return torch.cat([(err.T @ x).reshape(-1), err.sum(dim=0)])

    nf, nr = 6, 10
    expected = summed(xf, yf) / (nf + nr) - summed(xr, yr) * nf / ((nf + nr) * nr)
    captured = {}
    trainer.woodfisher = lambda v: captured.setdefault("v", v)
    trainer.influence_step()
    assert torch.allclose(captured["v"], expected, rtol=1e-5, atol=1e-7)


def test_the_retrain_free_edits_are_searched_over_their_own_knob():
    from mubench_hf.studies.hpo_space import resolve_space

    # no gradient steps: a learning rate or a training length would be searched for nothing
    assert [p.name for p in resolve_space("fisher", {"fisher_alpha": 1e-5})] == ["fisher_alpha"]
    (step,) = resolve_space("influence", {"influence_alpha": 3.0})
    assert (step.name, step.low, step.high) == ("influence_alpha", pytest.approx(0.75), pytest.approx(12.0))
