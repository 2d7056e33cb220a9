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
  (the other entries, ``kgltop1/2/4/6/7.py``: ``test_methods_peers_kaggle.py``)
* ``sfr_on``: K1nght/Unified-Unlearning-w-Remain-Geometry ``Classification/unlearn/sfron.py``
  (``test_methods_peers_sfr_on.py``)
* ``unsir``: vikram2000b/Fast-Machine-Unlearning ``Machine Unlearning.ipynb`` (the authors' notebook)
* ``boundary_shrink`` / ``boundary_expand``: OPTML-Group/Unlearn-Saliency
  ``Classification/unlearn/boundary_sh.py`` / ``boundary_ex.py``

A "first update" check runs the trainer for one plain-SGD step (no clipping, no decay, momentum 0) on a
batch that holds the whole forget and retain sets, and compares the weights with θo − η·∇L_peer(θo).
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from peer_testlib import (
    FORGET_ROWS,
    LR,
    assert_weights,
    first_update,
    forget_set,
    peer_sgd_step,
    retain_set,
    sgd_args,
    tiny_stack,
    xy,
)
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

from mubench_hf.errors import MubenchError
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer
from mubench_hf.trainers.blocks import block_names, head_parameter_names, last_k_parameter_names
from mubench_hf.trainers.successive_random_labels import REDRAW


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

    from mubench_hf.kinds.classification import tiny_config

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
    this_file = "".join(p.read_text() for p in Path(__file__).parent.glob("test_methods_peers*.py"))
    for method, files in peer_files.items():
        for name in files:  # every file the README names is one this module checks against
            assert name.rsplit("/", 1)[-1] in this_file, (method, name)
    assert all(peer_files[m] for m in ("neggrad_plus", "cf_k", "eu_k", "fisher", "influence", "boundary_shrink",
                                      "boundary_expand", "successive_random_labels", "transposed_kernels", "unsir", "conv_noise_finetune",
                                      "uniform_contrastive", "snip_reinit", "prune_reinit_entropy", "reset_distill",
                                      "layer_noise_finetune", "sfr_on"))  # fmt: skip
