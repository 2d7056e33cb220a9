"""GRU (issue 23): the forget gradient rectified against a moving average of the retain gradient.

* the rectification worked out by hand on two-dimensional gradients;
* on a tiny GPT-2, the gradients of two consecutive steps equal open-unlearning's ``GRU.training_step``
  (``src/trainer/unlearn/gru.py`` of locuslab/open-unlearning) re-derived here: g_f of −NLL(Df), g_r of
  NLL(Dr), ĝ_r ← γ·g_r + (1 − γ)·ĝ_r, and g_f − (⟨g_f, ĝ_r⟩/‖ĝ_r‖²)·ĝ_r when ⟨g_f, ĝ_r⟩ < 0;
* the quick settings lower the forget log-likelihood; defaults, flags and bad values.
"""

from __future__ import annotations

import copy

import pytest
import torch
from generation_testlib import tiny_tokenizer, toy_splits
from test_generation_methods import _base as trained_base
from test_generation_methods import batch_of, forget_log_likelihood, make_trainer, shift_student

from mubench_hf.errors import MubenchError
from mubench_hf.trainers import UnlearnConfig, get_spec, list_methods
from mubench_hf.trainers.gru import rectify

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def gpt2_base(tok, tmp_path_factory):
    return trained_base(tok, False, tmp_path_factory)


def test_rectify_removes_only_a_conflicting_component():
    forget = [torch.tensor([1.0, 0.0])]
    # ⟨(1,0), (−1,1)⟩ = −1 < 0: c = −1/2, g_f − c·ĝ_r = (½, ½), orthogonal to ĝ_r
    coef, dot = rectify(forget, [torch.tensor([-1.0, 1.0])])
    assert float(coef) == pytest.approx(-0.5) and float(dot) == pytest.approx(-1.0)
    # no conflict (⟨(1,0), (1,1)⟩ = 1): nothing is removed
    coef, dot = rectify(forget, [torch.tensor([1.0, 1.0])])
    assert float(coef) == 0.0 and float(dot) == pytest.approx(1.0)


def peer_step(model, forget, retain, previous, gamma):
    """open-unlearning's GRU step re-derived: the stored forget and retain gradients, the EMA, the
    projection when the dot product is negative."""
    params = [p for p in model.parameters() if p.requires_grad]
    g_f = torch.autograd.grad(-model(**forget).loss, params, allow_unused=True)
    g_f = [torch.zeros_like(p) if g is None else g for g, p in zip(g_f, params)]
    g_r = torch.autograd.grad(model(**retain).loss, params, allow_unused=True)
    g_r = [torch.zeros_like(p) if g is None else g for g, p in zip(g_r, params)]
    smooth = [gamma * r + (1 - gamma) * prev for r, prev in zip(g_r, previous)]
    flat_f, flat_r = torch.cat([g.flatten() for g in g_f]), torch.cat([g.flatten() for g in smooth])
    dot = torch.dot(flat_f, flat_r)
    if dot < 0:
        flat_f = flat_f - dot / torch.dot(flat_r, flat_r) * flat_r
    return flat_f, smooth, float(dot)


def test_two_steps_give_open_unlearnings_gradients(tmp_path, tok, gpt2_base):
    trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "gru")
    shift_student(trainer)
    model, splits = trainer.model, toy_splits(tok, False)
    previous = [torch.zeros_like(p) for p in model.parameters()]
    dots = []
    for forget_rows, retain_rows in [([0, 2, 4], [1, 5, 7]), ([1, 3], [0, 2, 9])]:
        forget, retain = (
            batch_of(splits["forget"], tok, forget_rows),
            batch_of(splits["retain"], tok, retain_rows),
        )
        expected, previous, dot = peer_step(model, forget, retain, previous, gamma=0.8)
        model.zero_grad()
        loss = trainer.compute_loss(model, {"forget": forget, "retain": retain})
        loss.backward()
        with torch.no_grad():
            assert float(loss) == pytest.approx(float(-model(**forget).loss), rel=1e-5)  # the value: −NLL
        got = torch.cat([p.grad.flatten() for p in model.parameters()])
        assert torch.allclose(got, expected, atol=1e-6, rtol=1e-4)
        dots.append(dot)
    assert min(dots) < 0, dots  # the projection was exercised


def test_quick_settings_lower_the_forget_log_likelihood(tmp_path, tok, gpt2_base):
    before = forget_log_likelihood(gpt2_base, tok, False)
    trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "gru", **get_spec("gru").quick_settings)
    trainer.train()
    after = forget_log_likelihood(trainer.model, tok, False)
    assert after < before - 0.5, (before, after)


def test_the_npo_forget_term_trains(tmp_path, tok, gpt2_base):
    trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "gru", gru_forget_loss="npo", max_steps=3)
    assert trainer.original_model is not None  # NPO's reference
    assert trainer.train().global_step == 3


def test_defaults_flags_and_bad_values(tmp_path):
    from transformers import HfArgumentParser

    assert "gru" in list_methods("generation") and "gru" not in list_methods("classification")
    config = UnlearnConfig(method="gru", output_dir=str(tmp_path), use_cpu=True)
    assert (config.gru_gamma, config.gru_forget_loss, config.npo_beta) == (0.8, "grad_ascent", 0.1)
    (parsed,) = HfArgumentParser(get_spec("gru").config).parse_args_into_dataclasses(
        ["--output_dir", "x", "--use_cpu", "true", "--gru_gamma", "0.9", "--gru_forget_loss", "npo"]
    )
    assert (parsed.gru_gamma, parsed.gru_forget_loss) == (0.9, "npo")
    with pytest.raises(MubenchError, match=r"gru_gamma must be in \(0, 1\]"):
        UnlearnConfig(method="gru", output_dir=str(tmp_path), use_cpu=True, gru_gamma=0.0)
    with pytest.raises(MubenchError, match=r"gru_forget_loss must be one of \['grad_ascent', 'npo'\]"):
        UnlearnConfig(method="gru", output_dir=str(tmp_path), use_cpu=True, gru_forget_loss="simnpo")
    with pytest.raises(MubenchError, match="retain_loss must be 'ce'"):
        UnlearnConfig(method="gru", output_dir=str(tmp_path), use_cpu=True, retain_loss="kl")
