"""What ``Trainer`` gives must keep working for every method: gradient accumulation, checkpoints and
resuming, determinism; plus SalUn's mask and the guard against non-finite losses.

All on the linear test model (no batch norm, no dropout), so runs take milliseconds and results can
be compared weight by weight.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from trainer_testlib import linear_rows, max_difference, quiet_args, state, tiny_linear
from transformers import TrainerCallback

from mubench_hf.trainers import NonFiniteLossError, UnlearnConfig, UnlearnTrainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FORGET = linear_rows(16, seed=1)
RETAIN = linear_rows(32, seed=2)


def run(method: str, tmp_path: Path, *, model=None, callbacks=None, resume=None, **overrides):
    args = UnlearnConfig(method=method, **quiet_args(tmp_path, **overrides))
    trainer = UnlearnTrainer(
        model=model if model is not None else tiny_linear(),
        args=args,
        forget_dataset=FORGET,
        retain_dataset=RETAIN,
        callbacks=callbacks,
    )
    trainer.train(resume_from_checkpoint=resume)
    return trainer


# ----------------------------------------------------------------------------- gradient accumulation
@pytest.mark.parametrize("method", ["grad_ascent", "grad_diff", "salun", "scrub", "bad_teaching", "npo"])
def test_gradient_accumulation_matches_one_big_batch(method, tmp_path):
    common = dict(max_steps=4, learning_rate=0.1, optim="sgd", lr_scheduler_type="constant")
    big = run(method, tmp_path / "big", per_device_train_batch_size=8, **common)
    accumulated = run(
        method, tmp_path / "acc", per_device_train_batch_size=4, gradient_accumulation_steps=2, **common
    )
    assert max_difference(state(big.model), state(accumulated.model)) < 1e-6
    assert max_difference(state(big.model), state(tiny_linear())) > 1e-3  # it did train


# ----------------------------------------------------------------------------- SalUn's mask
def test_salun_changes_only_masked_weights_also_with_accumulation(tmp_path):
    before = state(tiny_linear())
    trainer = run(
        "salun",
        tmp_path,
        max_steps=5,
        learning_rate=0.5,
        optim="sgd",
        per_device_train_batch_size=4,
        gradient_accumulation_steps=2,
        mask_ratio=0.4,
    )
    after = state(trainer.model)
    mask = {name: m.cpu().bool() for name, m in trainer.saliency_mask.items()}
    assert sum(int(m.sum()) for m in mask.values()) == round(0.4 * 15)  # 12 weights + 3 biases
    changed_inside = 0
    for name, keep in mask.items():
        changed = after[name] != before[name]
        assert not changed[~keep].any(), f"{name}: a weight outside the mask changed"
        changed_inside += int(changed[keep].sum())
    assert changed_inside == round(0.4 * 15)  # and every masked weight moved
    assert not trainer._mask_hooks  # hooks are removed when train() ends


def test_salun_mask_is_the_top_fraction_of_forget_gradients(tmp_path):
    args = UnlearnConfig(method="salun", **quiet_args(tmp_path, mask_ratio=0.5))
    trainer = UnlearnTrainer(model=tiny_linear(), args=args, forget_dataset=FORGET, retain_dataset=RETAIN)
    grads = trainer.forget_gradients()
    trainer.before_unlearning()
    scores = torch.cat([g.abs().flatten() for g in grads.values()])
    chosen = torch.cat([m.flatten() for m in trainer.saliency_mask.values()]).bool()
    assert int(chosen.sum()) == round(0.5 * scores.numel())
    assert scores[chosen].min() >= scores[~chosen].max()
    # the gradient is that of −CE averaged over the whole forget set
    model = tiny_linear()
    x = torch.tensor(list(FORGET.with_format(None)["pixel_values"]))
    y = torch.tensor(list(FORGET.with_format(None)["label"]))
    (-torch.nn.functional.cross_entropy(model(pixel_values=x).logits, y)).backward()
    assert torch.allclose(grads["linear.weight"], model.linear.weight.grad, atol=1e-6)


# ----------------------------------------------------------------------------- checkpoints
class StopAt(TrainerCallback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_training_stop = True


@pytest.mark.parametrize("method", ["random_label", "scrub"])
def test_resume_mid_run_reaches_the_uninterrupted_weights(method, tmp_path):
    # Adam and a linear decay: the optimizer and scheduler state must come back too. An epoch is 12
    # batches of 4 for random_label (48 union rows) and 8 for scrub (32 pairs): the resume at step 3
    # skips batches in the middle of an epoch, and scrub's step 9 is in its second epoch.
    common = dict(
        max_steps=9,
        learning_rate=0.05,
        per_device_train_batch_size=4,
        save_strategy="steps",
        save_steps=3,
    )
    if method == "scrub":  # the run passes through max-steps, min-steps and the min-only phase
        common.update(forget_steps_per_cycle=2, retain_steps_per_cycle=2, max_phase_cycles=2)
    whole = run(method, tmp_path / "whole", **common)
    stopped = run(method, tmp_path / "part", callbacks=[StopAt(3)], **common)
    assert stopped.state.global_step == 3
    checkpoint = tmp_path / "part" / "checkpoint-3"
    assert checkpoint.is_dir()
    resumed = run(method, tmp_path / "part", resume=str(checkpoint), **common)
    assert resumed.state.global_step == 9
    assert max_difference(state(whole.model), state(resumed.model)) < 1e-6
    assert max_difference(state(whole.model), state(stopped.model)) > 1e-4  # the stop was real


# ----------------------------------------------------------------------------- determinism
@pytest.mark.parametrize("method", ["bad_teaching", "salun", "random_label", "npo"])
def test_same_seed_same_weights(method, tmp_path):
    common = dict(max_steps=6, learning_rate=0.05, per_device_train_batch_size=4, seed=3)
    first = run(method, tmp_path / "a", **common)
    second = run(method, tmp_path / "b", **common)
    assert max_difference(state(first.model), state(second.model)) == 0.0
    other = run(method, tmp_path / "c", **{**common, "seed": 4})
    assert max_difference(state(first.model), state(other.model)) > 0.0


# ----------------------------------------------------------------------------- non-finite losses
def test_diverging_gradient_ascent_stops_and_keeps_finite_weights(tmp_path):
    args = UnlearnConfig(method="grad_ascent", **quiet_args(tmp_path, max_steps=200, learning_rate=1e36))
    trainer = UnlearnTrainer(model=tiny_linear(), args=args, forget_dataset=FORGET)
    with pytest.raises(NonFiniteLossError, match=r"optimizer step \d+") as caught:
        trainer.train()
    assert 1 < caught.value.step < 200
    assert f"step {caught.value.step}" in str(caught.value)
    assert trainer.state.global_step == caught.value.step - 1  # the bad step never happened
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    trainer.save_model(str(tmp_path / "saved"))
    from safetensors.torch import load_file

    saved = load_file(str(tmp_path / "saved" / "model.safetensors"))
    assert all(torch.isfinite(t).all() for t in saved.values())


def test_save_model_refuses_non_finite_weights(tmp_path):
    args = UnlearnConfig(method="grad_ascent", **quiet_args(tmp_path))
    trainer = UnlearnTrainer(model=tiny_linear(), args=args, forget_dataset=FORGET)
    with torch.no_grad():
        trainer.model.linear.weight[0, 0] = float("nan")
    with pytest.raises(NonFiniteLossError, match="linear.weight"):
        trainer.save_model(str(tmp_path / "out"))
    assert not (tmp_path / "out" / "model.safetensors").exists()
