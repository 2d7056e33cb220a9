"""Each method's loss on a fixed tiny batch equals the value written out by hand.

The model is linear (logits = x @ W.T + b), so the expected values below use nothing but explicit
tensor arithmetic: softmax as exp/sum, cross-entropy as −log p(y), KL(p‖q) as Σ p·(log p − log q).
The student is moved away from θo after the trainer is built, so teacher and student differ.
"""

from __future__ import annotations

import math

import pytest
import torch
from trainer_testlib import linear_rows, quiet_args, tiny_linear
from transformers import Trainer

from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer
from mubench_hf.trainers.data import RowDataset
from mubench_hf.trainers.scrub import MAX_STEP, MIN_STEP

FEATURES, CLASSES = 4, 3
G = torch.Generator().manual_seed(123)
XF = torch.randn(3, FEATURES, generator=G)
YF = torch.tensor([0, 2, 1])
XR = torch.randn(4, FEATURES, generator=G)
YR = torch.tensor([1, 1, 0, 2])
SHIFT = torch.randn(CLASSES, FEATURES, generator=G) * 0.5


# ----------------------------------------------------------------------------- hand-written math
def logits(weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return x @ weight.T + bias


def softmax(z: torch.Tensor) -> torch.Tensor:
    e = torch.exp(z - z.max(dim=1, keepdim=True).values)
    return e / e.sum(dim=1, keepdim=True)


def cross_entropy(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    p = softmax(z)
    return -torch.log(p[torch.arange(len(y)), y]).mean()


def kl(teacher_z: torch.Tensor, student_z: torch.Tensor, t: float = 1.0) -> torch.Tensor:
    """KL(teacher ‖ student) on softened outputs, summed over classes, mean over rows."""
    p, q = softmax(teacher_z / t), softmax(student_z / t)
    return (p * (torch.log(p) - torch.log(q))).sum(dim=1).mean()


# ----------------------------------------------------------------------------- fixtures
def make_trainer(tmp_path, method: str, **hyper) -> tuple[UnlearnTrainer, torch.Tensor, torch.Tensor]:
    """A trainer on the linear model; returns it with θo's weight and bias (before the shift)."""
    model = tiny_linear(FEATURES, CLASSES)
    w0, b0 = model.linear.weight.detach().clone(), model.linear.bias.detach().clone()
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method=method, **quiet_args(tmp_path, **hyper)),
        forget_dataset=linear_rows(6, FEATURES, CLASSES, seed=1),
        retain_dataset=linear_rows(10, FEATURES, CLASSES, seed=2),
    )
    with torch.no_grad():  # the student moves away from θo; frozen copies keep θo
        trainer.model.linear.weight.add_(SHIFT)
    trainer.model.train()
    return trainer, w0, b0


def student(trainer: UnlearnTrainer) -> tuple[torch.Tensor, torch.Tensor]:
    return trainer.model.linear.weight.detach(), trainer.model.linear.bias.detach()


FORGET = {"pixel_values": XF, "labels": YF}
RETAIN = {"pixel_values": XR, "labels": YR}
PAIRED = {"forget": FORGET, "retain": RETAIN}


def loss_of(trainer: UnlearnTrainer, batch) -> float:
    return float(trainer.compute_loss(trainer.model, batch).detach())


def close(expected: float):
    # float32 arithmetic: KL terms of nearby distributions lose relative precision to cancellation
    return pytest.approx(expected, rel=1e-5, abs=1e-6)


def column(dataset, name: str) -> torch.Tensor:
    return torch.tensor(list(dataset.with_format(None)[name]))


# ----------------------------------------------------------------------------- per method
def test_finetune_is_cross_entropy_on_retain(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, "finetune")
    w, b = student(trainer)
    assert loss_of(trainer, RETAIN) == close(float(cross_entropy(logits(w, b, XR), YR)))


def test_retrain_starts_from_a_fresh_seeded_initialisation(tmp_path):
    original = tiny_linear(FEATURES, CLASSES)
    trainer = UnlearnTrainer(
        model=original,
        args=UnlearnConfig(method="retrain", **quiet_args(tmp_path, seed=7)),
        retain_dataset=linear_rows(10, FEATURES, CLASSES, seed=2),
    )
    again = UnlearnTrainer(
        model=tiny_linear(FEATURES, CLASSES),
        args=UnlearnConfig(method="retrain", **quiet_args(tmp_path, seed=7)),
        retain_dataset=linear_rows(10, FEATURES, CLASSES, seed=2),
    )
    w, b = student(trainer)
    assert trainer.model is not original
    assert not torch.allclose(w, original.linear.weight)
    assert torch.equal(w, again.model.linear.weight)  # same seed, same initialisation
    assert loss_of(trainer, RETAIN) == close(float(cross_entropy(logits(w, b, XR), YR)))


def test_grad_ascent_is_negative_cross_entropy_on_forget(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, "grad_ascent")
    w, b = student(trainer)
    expected = -cross_entropy(logits(w, b, XF), YF)
    assert float(expected) < 0
    assert loss_of(trainer, FORGET) == close(float(expected))


def test_grad_diff_weights_ascent_and_descent(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, "grad_diff", forget_weight=0.7, retain_weight=1.3)
    w, b = student(trainer)
    expected = -0.7 * cross_entropy(logits(w, b, XF), YF) + 1.3 * cross_entropy(logits(w, b, XR), YR)
    assert loss_of(trainer, PAIRED) == close(float(expected))


@pytest.mark.parametrize("method", ["random_label", "salun"])
def test_random_label_trains_on_wrong_labels_for_forget_rows(tmp_path, method):
    trainer, _, _ = make_trainer(tmp_path, method)
    forget = linear_rows(6, FEATURES, CLASSES, seed=1)
    rows = [trainer.train_dataset[i] for i in range(len(trainer.train_dataset))]
    assert len(rows) == 16  # the union: 6 forget rows, then 10 retain rows
    new_labels = torch.tensor([int(r["label"]) for r in rows[:6]])
    true_labels = column(forget, "label")
    assert (new_labels != true_labels).all()
    assert torch.equal(
        torch.tensor([int(r["label"]) for r in rows[6:]]),
        column(linear_rows(10, FEATURES, CLASSES, seed=2), "label"),
    )
    x = torch.stack([r["pixel_values"] for r in rows[:6]])
    w, b = student(trainer)
    batch = {"pixel_values": x, "labels": new_labels}
    assert loss_of(trainer, batch) == close(float(cross_entropy(logits(w, b, x), new_labels)))


def test_bad_teaching_distils_competent_on_retain_and_incompetent_on_forget(tmp_path):
    trainer, w0, b0 = make_trainer(tmp_path, "bad_teaching", kd_temperature=2.0)
    w, b = student(trainer)
    bad = trainer.incompetent_teacher.linear
    assert not torch.allclose(bad.weight, w0)  # a random model, not θo
    assert not bad.weight.requires_grad and not trainer.incompetent_teacher.training
    good_kl = kl(logits(w0, b0, XR), logits(w, b, XR), 2.0)
    bad_kl = kl(logits(bad.weight, bad.bias, XF), logits(w, b, XF), 2.0)
    expected = (3 * bad_kl + 4 * good_kl) / 7
    assert loss_of(trainer, PAIRED) == close(float(expected))
    # the incompetent teacher is seeded by args.seed
    again, _, _ = make_trainer(tmp_path, "bad_teaching")
    assert torch.equal(again.incompetent_teacher.linear.weight, bad.weight)


def test_scrub_max_step_then_min_step(tmp_path):
    trainer, w0, b0 = make_trainer(
        tmp_path,
        "scrub",
        kd_temperature=4.0,
        retain_kl_weight=0.1,
        retain_ce_weight=0.9,
        forget_steps_per_cycle=2,
        retain_steps_per_cycle=3,
        max_phase_cycles=2,
    )
    w, b = student(trainer)
    phases = [trainer.phase(step) for step in range(13)]
    assert phases == [MAX_STEP] * 2 + [MIN_STEP] * 3 + [MAX_STEP] * 2 + [MIN_STEP] * 6
    trainer.state.global_step = 0
    expected_max = -16.0 * kl(logits(w0, b0, XF), logits(w, b, XF), 4.0)
    assert float(expected_max) < 0
    assert loss_of(trainer, PAIRED) == close(float(expected_max))
    trainer.state.global_step = 2
    expected_min = 0.1 * 16.0 * kl(logits(w0, b0, XR), logits(w, b, XR), 4.0) + 0.9 * cross_entropy(
        logits(w, b, XR), YR
    )
    assert loss_of(trainer, PAIRED) == close(float(expected_min))


def test_l1_sparse_penalty_decays_linearly(tmp_path):
    trainer, _, _ = make_trainer(tmp_path, "l1_sparse", l1_weight=0.01)
    w, b = student(trainer)
    trainer.state.max_steps, trainer.state.global_step = 10, 4
    l1 = w.abs().sum() + b.abs().sum()
    expected = cross_entropy(logits(w, b, XR), YR) + 0.01 * (1 - 4 / 10) * l1
    assert loss_of(trainer, RETAIN) == close(float(expected))
    trainer.state.global_step = 10  # the end of training: no penalty left
    assert loss_of(trainer, RETAIN) == close(float(cross_entropy(logits(w, b, XR), YR)))


def test_delete_distils_teacher_without_the_true_class(tmp_path):
    trainer, w0, b0 = make_trainer(tmp_path, "delete", kd_temperature=2.0)
    w, b = student(trainer)
    teacher = torch.exp(logits(w0, b0, XF) / 2.0)
    teacher[torch.arange(3), YF] = 0.0  # the true class is masked out ...
    p = teacher / teacher.sum(dim=1, keepdim=True)  # ... and the rest renormalised
    q = softmax(logits(w, b, XF) / 2.0)
    terms = torch.where(p > 0, p * (torch.log(p.clamp_min(1e-30)) - torch.log(q)), torch.zeros_like(p))
    expected = terms.sum(dim=1).mean()
    assert loss_of(trainer, FORGET) == close(float(expected))


def test_npo_against_the_frozen_reference(tmp_path):
    trainer, w0, b0 = make_trainer(tmp_path, "npo", npo_beta=0.5, retain_weight=0.8)
    w, b = student(trainer)
    log_p = torch.log(softmax(logits(w, b, XF))[torch.arange(3), YF])
    log_ref = torch.log(softmax(logits(w0, b0, XF))[torch.arange(3), YF])
    # -(2/β)·log σ(-β·d) = (2/β)·log(1 + exp(β·d))
    forget_term = (2 / 0.5) * torch.log(1 + torch.exp(0.5 * (log_p - log_ref))).mean()
    expected = forget_term + 0.8 * cross_entropy(logits(w, b, XR), YR)
    assert loss_of(trainer, PAIRED) == close(float(expected))
    # at θ = θo the forget term is (2/β)·log 2, for any β
    trainer.state.global_step = 0
    alone, _, _ = make_trainer(tmp_path, "npo", npo_beta=0.5, retain_weight=0.0)
    with torch.no_grad():
        alone.model.linear.weight.sub_(SHIFT)
    assert loss_of(alone, PAIRED) == close(4 * math.log(2))


def test_simnpo_length_normalised_without_a_reference(tmp_path):
    trainer, _, _ = make_trainer(
        tmp_path, "simnpo", simnpo_beta=2.0, simnpo_gamma=0.3, forget_weight=0.5, retain_weight=0.7
    )
    assert trainer.original_model is None  # SimNPO needs no reference model
    w, b = student(trainer)
    log_p = torch.log(softmax(logits(w, b, XF))[torch.arange(3), YF])
    # -(2/β)·log σ(-(β/|y|)·ℓ - γ) = (2/β)·log(1 + exp((β/|y|)·ℓ + γ)), with |y| = 1 for a class label
    forget_term = (2 / 2.0) * torch.log(1 + torch.exp(2.0 * log_p + 0.3)).mean()
    expected = 0.5 * forget_term + 0.7 * cross_entropy(logits(w, b, XR), YR)
    assert loss_of(trainer, PAIRED) == close(float(expected))
    # the defaults: open-unlearning's β = 4.5, margin 0, forget weight 0.125, retain weight 1
    defaults, _, _ = make_trainer(tmp_path, "simnpo")
    args = defaults.args
    assert (args.simnpo_beta, args.simnpo_gamma, args.forget_weight, args.retain_weight) == (
        4.5,
        0.0,
        0.125,
        1.0,
    )


def test_forget_retain_terms_are_logged_and_a_zero_retain_weight_skips_its_forward(tmp_path, monkeypatch):
    trainer, _, _ = make_trainer(tmp_path, "grad_diff", forget_weight=2.0, retain_weight=0.0)
    w, b = student(trainer)
    calls = []
    handle = trainer.model.register_forward_hook(
        lambda module, inputs, output: calls.append(len(output.logits))
    )
    try:
        loss = loss_of(trainer, PAIRED)
    finally:
        handle.remove()
    assert calls == [3]  # the forget half only: no retain forward at weight 0
    assert loss == close(-2.0 * float(cross_entropy(logits(w, b, XF), YF)))
    assert trainer._terms["forget_loss"] == [
        pytest.approx(-float(cross_entropy(logits(w, b, XF), YF)), rel=1e-5)
    ]
    assert "retain_loss" not in trainer._terms
    # the retain term as KL to θo: zero at θ = θo, so the loss is the forget term alone
    kl_run, _, _ = make_trainer(tmp_path, "grad_diff", retain_loss="kl", retain_weight=1.0)
    with torch.no_grad():
        kl_run.model.linear.weight.sub_(SHIFT)
    w0, b0 = student(kl_run)
    assert loss_of(kl_run, PAIRED) == close(-float(cross_entropy(logits(w0, b0, XF), YF)))
    assert kl_run._terms["retain_loss"][-1] == pytest.approx(0.0, abs=1e-6)
    logged = {}
    monkeypatch.setattr(Trainer, "log", lambda self, logs, start_time=None: logged.update(logs))
    kl_run.log({"loss": 1.0})  # what reaches Trainer's loggers
    assert set(logged) == {"loss", "forget_loss", "retain_loss"} and kl_run._terms == {}


def test_ssd_importances_and_dampening(tmp_path):
    trainer, _, _ = make_trainer(
        tmp_path, "ssd", per_device_train_batch_size=3, selection_weighting=1.5, dampening_constant=0.9
    )
    w, b = student(trainer)
    forget = linear_rows(6, FEATURES, CLASSES, seed=1)
    retain = linear_rows(10, FEATURES, CLASSES, seed=2)

    def importance(x: torch.Tensor, y: torch.Tensor, batch: int) -> torch.Tensor:
        # d mean-CE / dW = (softmax − onehot)ᵀ x / B; squared per batch, averaged over batches
        squares = []
        for start in range(0, len(y), batch):
            xb, yb = x[start : start + batch], y[start : start + batch]
            err = softmax(logits(w, b, xb)) - torch.nn.functional.one_hot(yb, CLASSES).float()
            squares.append((err.T @ xb / len(yb)) ** 2)
        return torch.stack(squares).mean(dim=0)

    xf, yf = column(forget, "pixel_values"), column(forget, "label")
    x_all = torch.cat([xf, column(retain, "pixel_values")])
    y_all = torch.cat([yf, column(retain, "label")])
    i_forget, i_all = importance(xf, yf, 3), importance(x_all, y_all, 3)
    measured = trainer.importances(RowDataset(forget))
    assert torch.allclose(measured["linear.weight"], i_forget, rtol=1e-5, atol=1e-9)

    selected = i_forget > 1.5 * i_all
    assert 0 < int(selected.sum()) < selected.numel()  # the check below is not vacuous
    expected_w = torch.where(selected, w * torch.clamp(0.9 * i_all / i_forget, max=1.0), w)
    output = trainer.train()
    assert output.global_step == 0 and "dampened_fraction" in output.metrics
    assert torch.allclose(trainer.model.linear.weight, expected_w, rtol=1e-5, atol=1e-7)
