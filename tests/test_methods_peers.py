"""The methods taken from peer benchmarks: each one's loss or update written out by hand, and its first
update (or loss) checked against the peer's own procedure, re-derived here in plain PyTorch on the same
weights and batch.

Peer files (read for their formulas and defaults, not copied):

* ``neggrad_plus``: xcadet/deepunlearn ``munl/unlearning/neggradplus.py`` (+ ``scrub_utils.l2_penalty``)
* ``cf_k`` / ``eu_k``: deepunlearn ``munl/unlearning/catastrophic_forgetting_k.py``,
  ``exact_unlearning_k.py`` (+ ``scrub_utils.fk_finetune``)
* ``successive_random_labels``: deepunlearn ``munl/unlearning/successive_random_labels.py``
  (+ ``munl/datasets/common.py``'s ``RandomRelabelDataset``)
* ``fisher``: OPTML-Group/Unlearn-Sparse ``unlearn/fisher.py`` = deepunlearn ``munl/unlearning/fisher.py``
* ``influence``: OPTML-Group/Unlearn-Sparse ``unlearn/Wfisher.py`` = deepunlearn ``munl/unlearning/iu.py``
* ``transposed_kernels`` / ``conv_noise_finetune``: deepunlearn ``munl/unlearning/kgltop5.py`` / ``kgltop3.py``
* ``unsir``: vikram2000b/Fast-Machine-Unlearning ``Machine Unlearning.ipynb`` (the authors' notebook)
* ``boundary_shrink`` / ``boundary_expand``: OPTML-Group/Unlearn-Saliency
  ``Classification/unlearn/boundary_sh.py`` / ``boundary_ex.py``

A "first update" check runs the trainer for one plain-SGD step (no clipping, no decay, momentum 0) on a
batch that holds the whole forget and retain sets, and compares the weights with θo − η·∇L_peer(θo).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_trainers_losses import (
    CLASSES,
    FEATURES,
    FORGET,
    PAIRED,
    RETAIN,
    SHIFT,
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
from torch import nn
from trainer_testlib import linear_rows, quiet_args, tiny_linear
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

from mubench_hf.errors import MubenchError
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer
from mubench_hf.trainers.blocks import block_names, head_parameter_names, last_k_parameter_names
from mubench_hf.trainers.successive_random_labels import REDRAW

LR = 0.1
FORGET_ROWS, RETAIN_ROWS = 6, 12  # the retain set is twice the forget set: paired batches hold each row


def forget_set():
    return linear_rows(FORGET_ROWS, FEATURES, CLASSES, seed=1)


def retain_set():
    return linear_rows(RETAIN_ROWS, FEATURES, CLASSES, seed=2)


def xy(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    return column(dataset, "pixel_values"), column(dataset, "label")


def sgd_args(tmp_path, **hyper: Any) -> dict[str, Any]:
    """One plain SGD step over a batch holding every row."""
    return quiet_args(
        tmp_path,
        optim="sgd",
        learning_rate=LR,
        max_steps=1,
        max_grad_norm=0.0,
        weight_decay=0.0,
        lr_scheduler_type="constant",
        per_device_train_batch_size=RETAIN_ROWS + FORGET_ROWS,
        **hyper,
    )


def first_update(tmp_path, method: str, model: nn.Module, **hyper: Any) -> UnlearnTrainer:
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method=method, **sgd_args(tmp_path, **hyper)),
        forget_dataset=forget_set(),
        retain_dataset=retain_set(),
    )
    trainer.train()
    return trainer


def peer_sgd_step(model: nn.Module, loss: torch.Tensor) -> dict[str, torch.Tensor]:
    """θ − η·∇loss for the parameters that require gradients (the peers' ``optimizer.step()``)."""
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params)
    after = {n: p.detach().clone() for n, p in model.named_parameters()}
    for (name, p), g in zip([(n, p) for n, p in model.named_parameters() if p.requires_grad], grads):
        after[name] = p.detach() - LR * g
    return after


def assert_weights(model: nn.Module, expected: dict[str, torch.Tensor]) -> None:
    for name, param in model.named_parameters():
        assert torch.allclose(param.detach(), expected[name], rtol=1e-5, atol=1e-6), name


# ----------------------------------------------------------------------------- a model with blocks
class TinyStackConfig(PretrainedConfig):
    model_type = "mubench-test-stack"

    def __init__(self, num_features: int = 4, hidden: int = 5, num_labels: int = 3, **kwargs: Any) -> None:
        super().__init__(num_labels=num_labels, **kwargs)
        self.num_features, self.hidden = num_features, hidden


class TinyBackbone(nn.Module):
    def __init__(self, config: TinyStackConfig) -> None:
        super().__init__()
        self.embed = nn.Linear(config.num_features, config.hidden)
        self.layers = nn.ModuleList([nn.Linear(config.hidden, config.hidden) for _ in range(2)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.tanh(self.embed(x))
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return x


class TinyStackClassifier(PreTrainedModel):
    """embed → two blocks → classifier: "the last k blocks" has an answer here."""

    config_class = TinyStackConfig
    base_model_prefix = "backbone"
    main_input_name = "pixel_values"

    def __init__(self, config: TinyStackConfig) -> None:
        super().__init__(config)
        self.backbone = TinyBackbone(config)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            module.reset_parameters()

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None, **kwargs: Any):
        return SequenceClassifierOutput(logits=self.classifier(self.backbone(pixel_values)))


def tiny_stack(seed: int = 0) -> TinyStackClassifier:
    torch.manual_seed(seed)
    return TinyStackClassifier(TinyStackConfig(num_features=FEATURES, num_labels=CLASSES))


# ============================================================================= neggrad_plus
def test_neggrad_plus_loss_by_hand(tmp_path):
    trainer, w0, b0 = make_trainer(tmp_path, "neggrad_plus", neggrad_alpha=0.9, proximal_weight=0.3)
    w, b = student(trainer)
    proximal = 0.3 / 2 * ((w - w0).pow(2).sum() + (b - b0).pow(2).sum())
    expected = 0.9 * (cross_entropy(logits(w, b, XR), YR) + proximal) - 0.1 * cross_entropy(
        logits(w, b, XF), YF
    )
    assert float(proximal) > 0  # the student was moved: the term is not vacuous
    assert loss_of(trainer, PAIRED) == close(float(expected))
    assert trainer.args.pair_anchor == "retain"  # an epoch is one pass over Dr, as in the peer


def test_neggrad_plus_defaults_and_how_it_differs_from_grad_diff(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, "neggrad_plus")
    assert (trainer.args.neggrad_alpha, trainer.args.proximal_weight) == (0.95, 0.0)  # DeepUnlearn's
    # grad_diff with γ = 1 − α, α = α and no proximal term is the same loss
    same, _, _ = make_trainer(tmp_path, "grad_diff", forget_weight=0.05, retain_weight=0.95)
    assert loss_of(trainer, PAIRED) == close(loss_of(same, PAIRED))
    default_grad_diff, _, _ = make_trainer(tmp_path, "grad_diff")
    assert loss_of(trainer, PAIRED) != close(loss_of(default_grad_diff, PAIRED))
    with pytest.raises(MubenchError, match="neggrad_alpha must be in"):
        UnlearnConfig(method="neggrad_plus", neggrad_alpha=1.5, **quiet_args(tmp_path))


def test_neggrad_plus_first_update_matches_deepunlearn(tmp_path):
    model = tiny_linear(FEATURES, CLASSES)
    peer = copy.deepcopy(model)
    trainer = first_update(tmp_path, "neggrad_plus", model, neggrad_alpha=0.7, proximal_weight=0.5)
    # neggradplus.py: loss = α·(CE(out_r, y_r) + l2_penalty(model, model_init, wd)) − (1 − α)·CE(out_f, y_f)
    peer_init = copy.deepcopy(peer)
    (xf, yf), (xr, yr) = xy(forget_set()), xy(retain_set())
    l2 = sum((p - q).pow(2).sum() for p, q in zip(peer.parameters(), peer_init.parameters())) * 0.5 / 2.0
    loss = 0.7 * (nn.CrossEntropyLoss()(peer(xr).logits, yr) + l2) - 0.3 * nn.CrossEntropyLoss()(
        peer(xf).logits, yf
    )
    assert_weights(trainer.model, peer_sgd_step(peer, loss))


# ============================================================================= cf_k / eu_k
def test_blocks_of_a_stack_and_of_the_tiny_resnet():
    from transformers import AutoModelForImageClassification

    from mubench_hf.modeling import tiny_config

    stack = tiny_stack()
    assert block_names(stack) == ["backbone.layers.0", "backbone.layers.1"]
    assert head_parameter_names(stack) == ["classifier.weight", "classifier.bias"]
    assert last_k_parameter_names(stack, 1) == [
        "backbone.layers.1.weight", "backbone.layers.1.bias", "classifier.weight", "classifier.bias"
    ]  # fmt: skip
    with pytest.raises(MubenchError, match="num_blocks must be between 0 and 2"):
        last_k_parameter_names(stack, 3)
    resnet = AutoModelForImageClassification.from_config(tiny_config("digits"))
    stages = block_names(resnet)
    assert stages == [f"resnet.encoder.stages.{i}" for i in range(len(resnet.resnet.encoder.stages))]
    assert all(n.startswith("classifier.") for n in head_parameter_names(resnet))
    assert last_k_parameter_names(tiny_linear(), 0) == ["linear.weight", "linear.bias"]  # no backbone


def cf_k_peer_step(model: nn.Module, proximal_weight: float) -> dict[str, torch.Tensor]:
    """catastrophic_forgetting_k.py: freeze all, unfreeze the last block and the classifier, then
    fk_finetune's step on CE(Dr) + l2_penalty(model, model_init, wd) over the trainable weights."""
    for p in model.parameters():
        p.requires_grad_(False)
    for module in (model.backbone.layers[-1], model.classifier):
        for p in module.parameters():
            p.requires_grad_(True)
    start = copy.deepcopy(model)
    xr, yr = xy(retain_set())
    l2 = sum(
        (p - q).pow(2).sum() for p, q in zip(model.parameters(), start.parameters()) if p.requires_grad
    ) * (proximal_weight / 2.0)
    return peer_sgd_step(model, nn.CrossEntropyLoss()(model(xr).logits, yr) + l2)


@pytest.mark.parametrize("method", ["cf_k", "eu_k"])
def test_last_k_first_update_matches_deepunlearn(tmp_path, method):
    model = tiny_stack()
    original = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method=method, **sgd_args(tmp_path, num_blocks=1, proximal_weight=0.5)),
        forget_dataset=forget_set(),
        retain_dataset=retain_set(),
    )
    start = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trained = {"backbone.layers.1.weight", "backbone.layers.1.bias", "classifier.weight", "classifier.bias"}
    assert {n for n, p in trainer.model.named_parameters() if p.requires_grad} == trained
    if method == "eu_k":  # the trained weights start from a fresh, seeded initialisation
        assert all(not torch.equal(start[n], original[n]) for n in trained)
        again = UnlearnTrainer(model=tiny_stack(), args=trainer.args, retain_dataset=retain_set())
        assert all(torch.equal(p, start[n]) for n, p in again.model.named_parameters())
    else:
        assert all(torch.equal(start[n], original[n]) for n in start)
    assert all(torch.equal(start[n], original[n]) for n in start if n not in trained)
    peer = tiny_stack()
    peer.load_state_dict(start)
    expected = cf_k_peer_step(peer, 0.5)
    trainer.train()
    assert_weights(trainer.model, expected)
    # the frozen weights did not move, and they are trainable again once train() returns
    assert all(torch.equal(trainer.model.get_parameter(n), start[n]) for n in start if n not in trained)
    assert all(p.requires_grad for p in trainer.model.parameters())


def test_last_k_proximal_term_by_hand(tmp_path):
    trainer = UnlearnTrainer(
        model=tiny_linear(FEATURES, CLASSES),
        args=UnlearnConfig(method="cf_k", **quiet_args(tmp_path, num_blocks=0, proximal_weight=0.4)),
        retain_dataset=retain_set(),
    )
    w0, b0 = (t.clone() for t in student(trainer))
    with torch.no_grad():
        trainer.model.linear.weight.add_(SHIFT)
    w, b = student(trainer)
    expected = cross_entropy(logits(w, b, XR), YR) + 0.4 / 2 * ((w - w0).pow(2).sum() + (b - b0).pow(2).sum())
    assert loss_of(trainer, RETAIN) == close(float(expected))
    assert (
        trainer.args.num_blocks,
        UnlearnConfig(method="eu_k", **quiet_args(tmp_path)).proximal_weight,
    ) == (
        0,
        0.1,
    )


# ============================================================================= successive_random_labels
def test_successive_random_labels_redraws_forget_labels_over_all_classes(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, "successive_random_labels")
    rows = [trainer.train_dataset[i] for i in range(len(trainer.train_dataset))]
    assert [int(r["label"]) for r in rows[:6]] == [REDRAW] * 6  # forget rows: drawn at every visit
    retain_labels = column(linear_rows(10, FEATURES, CLASSES, seed=2), "label")
    assert torch.equal(torch.tensor([int(r["label"]) for r in rows[6:]]), retain_labels)
    marked = torch.tensor([REDRAW, 1, REDRAW, 2])
    draws = torch.stack([trainer.draw_labels(marked, CLASSES) for _ in range(3000)])
    assert torch.equal(draws[:, 1], torch.ones(3000, dtype=torch.long))  # retain labels are kept
    assert torch.equal(draws[:, 3], torch.full((3000,), 2))
    counts = torch.bincount(draws[:, [0, 2]].flatten(), minlength=CLASSES).float() / 6000
    # uniform over all K classes (the peer's randint(0, K)); 6000 draws: 4 standard deviations ≈ 0.024
    assert torch.allclose(counts, torch.full((CLASSES,), 1 / CLASSES), atol=0.03)
    assert not torch.equal(draws[0], draws[1]) or not torch.equal(draws[1], draws[2])
    again, _, _ = make_trainer(tmp_path, "successive_random_labels")
    assert torch.equal(again.draw_labels(marked, CLASSES), draws[0])  # seeded


def test_successive_random_labels_loss_matches_deepunlearn_on_the_drawn_labels(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, "successive_random_labels")
    w, b = student(trainer)
    x = torch.cat([XF, XR])
    batch = {"pixel_values": x, "labels": torch.cat([torch.full((3,), REDRAW), YR])}
    replay, _, _ = make_trainer(tmp_path, "successive_random_labels")
    drawn = replay.draw_labels(batch["labels"], CLASSES)  # the same first draw the trainer will make
    # successive_random_labels.py → salun.RandomRelabel: CrossEntropyLoss on the union with drawn labels
    peer = nn.CrossEntropyLoss()(x @ w.T + b, drawn)
    ours = loss_of(trainer, batch)
    assert ours == close(float(peer))
    assert ours == close(float(cross_entropy(logits(w, b, x), drawn)))


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


# ============================================================================= boundary_shrink
def test_boundary_shrink_loss_by_hand(tmp_path):
    trainer, w0, b0 = make_trainer(tmp_path, "boundary_shrink", fgsm_bound=0.3)
    w, b = student(trainer)
    # ∇x CE(W0 x + b0, y) = W0ᵀ (p − onehot(y)) per row
    grad_x = (softmax(logits(w0, b0, XF)) - F.one_hot(YF, CLASSES).float()) @ w0
    neighbour = logits(w0, b0, XF + 0.3 * grad_x.sign()).argmax(dim=1)
    assert loss_of(trainer, FORGET) == close(float(cross_entropy(logits(w, b, XF), neighbour)))


def test_boundary_shrink_loss_matches_unlearn_saliency(tmp_path):
    trainer, w0, b0 = make_trainer(tmp_path, "boundary_shrink")
    w, b = student(trainer)
    test_model = nn.Linear(FEATURES, CLASSES)
    with torch.no_grad():
        test_model.weight.copy_(w0), test_model.bias.copy_(b0)
    # boundary_sh.py's FGSM_perturb (without its [0, 1] clamp and 1/255 rounding: the inputs here are
    # not pixel intensities), then CE of the student against the perturbed input's predicted class
    x_adv = XF.detach().clone().requires_grad_(True)
    nn.CrossEntropyLoss()(test_model(x_adv), YF).backward()
    x_adv = (x_adv + x_adv.grad.sign() * 0.1).detach()
    adv_label = test_model(x_adv).argmax(dim=1)
    peer = nn.CrossEntropyLoss()(XF @ w.T + b, adv_label)
    assert loss_of(trainer, FORGET) == close(float(peer))


def test_boundary_shrink_refuses_a_batch_without_continuous_inputs(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, "boundary_shrink")
    with pytest.raises(MubenchError, match="needs a floating-point input"):
        trainer.neighbour_labels({"input_ids": torch.tensor([[1, 2]]), "labels": torch.tensor([0])})


# ============================================================================= boundary_expand
def test_boundary_expand_trains_towards_a_shadow_class_then_removes_it(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, "boundary_expand")
    w, b = student(trainer)
    trainer.before_unlearning()
    layer = trainer.model.linear
    assert layer.out_features == CLASSES + 1
    assert torch.equal(layer.weight[:CLASSES], w) and torch.equal(layer.bias[:CLASSES], b)
    ws, bs = layer.weight.detach(), layer.bias.detach()
    shadow = torch.full((3,), CLASSES)
    assert loss_of(trainer, FORGET) == close(float(cross_entropy(logits(ws, bs, XF), shadow)))
    trainer.remove_shadow_class()
    assert trainer.model.linear.out_features == CLASSES
    assert torch.equal(trainer.model.linear.weight, ws[:CLASSES])


def test_boundary_expand_first_update_matches_unlearn_saliency(tmp_path):
    model = tiny_linear(FEATURES, CLASSES)
    peer = copy.deepcopy(model)
    with torch.random.fork_rng():  # the shadow row: nn.Linear's initialisation under args.seed
        torch.manual_seed(0)
        shadow = nn.Linear(FEATURES, CLASSES + 1)
    trainer = first_update(tmp_path, "boundary_expand", model)
    # boundary_ex.py's expand_model: a (K+1)-output copy of the last Linear; then CE(output, K) on Df
    big = nn.Linear(FEATURES, CLASSES + 1)
    with torch.no_grad():
        big.weight.copy_(shadow.weight), big.bias.copy_(shadow.bias)
        big.weight[:CLASSES] = peer.linear.weight
        big.bias[:CLASSES] = peer.linear.bias
    xf, _ = xy(forget_set())
    loss = nn.CrossEntropyLoss()(big(xf), torch.full((FORGET_ROWS,), CLASSES))
    grads = torch.autograd.grad(loss, [big.weight, big.bias])
    expected = {"linear.weight": (big.weight - LR * grads[0])[:CLASSES].detach(),
                "linear.bias": (big.bias - LR * grads[1])[:CLASSES].detach()}  # fmt: skip
    assert trainer.model.linear.out_features == CLASSES  # the shadow output is removed after training
    assert_weights(trainer.model, expected)


# ============================================================================= transposed_kernels
class TinyConvClassifier(TinyStackClassifier):
    """A 4×4 one-channel image (16 features) → one 3×3 convolution → classifier."""

    def __init__(self, config: TinyStackConfig) -> None:
        super().__init__(config)
        self.backbone = nn.Conv2d(1, 2, 3, padding=1)
        self.classifier = nn.Linear(32, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            module.reset_parameters()

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None, **kwargs: Any):
        features = torch.tanh(self.backbone(pixel_values.view(-1, 1, 4, 4)))
        return SequenceClassifierOutput(logits=self.classifier(features.flatten(1)))


def tiny_conv() -> TinyConvClassifier:
    torch.manual_seed(0)
    return TinyConvClassifier(TinyStackConfig(num_features=16, num_labels=CLASSES))


def image_rows(n: int, seed: int):
    return linear_rows(n, 16, CLASSES, seed=seed)


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


# ============================================================================= the README's method table
def test_the_readme_method_table_lists_every_classification_method_and_its_checked_peer_file():
    import re
    from pathlib import Path

    from mubench_hf.trainers import list_methods

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    section = readme.split("| method | what it does | data | checked against |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| .* \| .* \| (.*) \|$", section, flags=re.MULTILINE)
    table = dict(rows)
    assert set(table) == set(list_methods("classification"))
    peer_files = {m: re.findall(r"`([\w/ ]+\.(?:py|ipynb))`", checked) for m, checked in table.items()}
    this_file = Path(__file__).read_text()
    for method, files in peer_files.items():
        for name in files:  # every file the README names is one this module checks against
            assert name.rsplit("/", 1)[-1] in this_file, (method, name)
    assert all(peer_files[m] for m in ("neggrad_plus", "cf_k", "eu_k", "fisher", "influence", "boundary_shrink",
                                      "boundary_expand", "successive_random_labels", "transposed_kernels", "unsir", "conv_noise_finetune"))  # fmt: skip


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
def seeded_noise(shape: torch.Size, seed: int, std: float) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * std


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


def test_the_retrain_free_edits_are_searched_over_their_own_knob():
    from mubench_hf.studies.hpo_space import resolve_space

    # no gradient steps: a learning rate or a training length would be searched for nothing
    assert [p.name for p in resolve_space("fisher", {"fisher_alpha": 1e-5})] == ["fisher_alpha"]
    (step,) = resolve_space("influence", {"influence_alpha": 3.0})
    assert (step.name, step.low, step.high) == ("influence_alpha", pytest.approx(0.75), pytest.approx(12.0))
