"""PDU (issue 23): the logit-gap forget term and the retain constraint's multiplier.

* the forget term worked out by hand on two positions;
* on a tiny GPT-2, the first-step loss equals open-unlearning's ``PDU.compute_loss`` /
  ``final_loss_value`` (``src/trainer/unlearn/pdu.py`` of locuslab/open-unlearning) re-derived here on the
  same batch, and the multiplier then moves by η·(retain NLL − ε), clipped at 0;
* the warm-up holds the multiplier, the per-epoch update uses the mean retain term of a pass;
* the quick settings lower the forget log-likelihood; defaults, CLI flags and bad values.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from generation_testlib import tiny_tokenizer, toy_splits
from test_generation_methods import (
    TOL,
    batch_of,
    forget_log_likelihood,
    loss_of,
    make_trainer,
    shift_student,
)
from test_generation_methods import _base as trained_base

from mubench_hf.errors import MubenchError
from mubench_hf.trainers import UnlearnConfig, get_spec, list_methods
from mubench_hf.trainers.pdu import logit_gap_loss

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def gpt2_base(tok, tmp_path_factory):
    return trained_base(tok, False, tmp_path_factory)


def test_the_forget_term_is_the_squared_gap_between_the_largest_and_the_mean_logit():
    logits = torch.tensor([[[0.0, 1.0, 5.0], [3.0, 3.0, 3.0], [9.0, 0.0, 0.0]]])
    # gaps: 5 − 2 = 3, 0, 9 − 3 = 6 → squares 9, 0, 36
    assert float(logit_gap_loss(logits, torch.tensor([[True, True, False]]))) == pytest.approx(4.5)
    assert float(logit_gap_loss(logits, torch.tensor([[True, True, True]]))) == pytest.approx(15.0)
    assert float(logit_gap_loss(logits, torch.tensor([[False, False, False]]))) == 0.0


def peer_pdu_terms(model, forget, retain) -> tuple[torch.Tensor, torch.Tensor]:
    """open-unlearning's PDU terms re-derived: the gap over positions whose (unshifted) label is scored,
    and the NLL retain loss."""
    logits = model(**forget).logits.reshape(-1, model.config.vocab_size)
    gap = (logits.max(-1)[0] - logits.mean(-1)) ** 2
    mask = (forget["labels"] != -100).reshape(-1)
    return (gap * mask).sum() / mask.sum(), model(**retain).loss


def test_first_step_loss_and_dual_update_equal_open_unlearnings(tmp_path, tok, gpt2_base):
    eps, alpha, gamma, eta = 0.3, 2.0, 0.5, 0.25
    trainer = make_trainer(
        tmp_path, copy.deepcopy(gpt2_base), tok, "pdu", pdu_retain_loss_eps=eps, retain_weight=alpha,
        forget_weight=gamma, pdu_dual_step_size=eta, pdu_dual_warmup_epochs=0,
    )  # fmt: skip
    shift_student(trainer)
    splits = toy_splits(tok, False)
    forget, retain = batch_of(splits["forget"], tok, [0, 2, 4]), batch_of(splits["retain"], tok, [1, 5, 7])
    loss = loss_of(trainer, {"forget": forget, "retain": retain})
    with torch.no_grad():
        forget_term, retain_nll = peer_pdu_terms(trainer.model, forget, retain)
    assert loss == pytest.approx(float(gamma * forget_term + alpha * (retain_nll - eps)), **TOL)
    moved = alpha + eta * (float(retain_nll) - eps)
    assert trainer.retain_preference == pytest.approx(moved, **TOL)
    # the next step uses the moved multiplier; a large ε pulls it to 0, never below
    trainer.args.pdu_retain_loss_eps = 1e6
    loss = loss_of(trainer, {"forget": forget, "retain": retain})
    assert loss == pytest.approx(float(gamma * forget_term + moved * (retain_nll - 1e6)), rel=1e-5)
    assert trainer.retain_preference == 0.0


def test_the_warm_up_and_primal_dual_false_hold_the_multiplier(tmp_path, tok, gpt2_base):
    splits = toy_splits(tok, False)
    inputs = {"forget": batch_of(splits["forget"], tok, [0]), "retain": batch_of(splits["retain"], tok, [0])}
    for hyper in (dict(pdu_dual_warmup_epochs=5), dict(pdu_dual_warmup_epochs=0, pdu_primal_dual=False)):
        trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "pdu", retain_weight=1.5, **hyper)
        loss_of(trainer, inputs)
        assert trainer.retain_preference == 1.5, hyper


def test_the_epoch_update_uses_the_mean_retain_term_of_a_pass(tmp_path, tok, gpt2_base):
    trainer = make_trainer(
        tmp_path, copy.deepcopy(gpt2_base), tok, "pdu", pdu_dual_update_upon="epoch", pdu_retain_loss_eps=0.1,
        pdu_dual_step_size=0.5, pdu_dual_warmup_epochs=0,
    )  # fmt: skip
    splits = toy_splits(tok, False)
    forget = batch_of(splits["forget"], tok, [0, 1])
    retains = [batch_of(splits["retain"], tok, [0, 1]), batch_of(splits["retain"], tok, [2, 3, 4])]
    trainer.get_train_dataloader = lambda: [{"forget": forget, "retain": r} for r in retains]
    with torch.no_grad():
        mean = sum(float(trainer.model(**r).loss) for r in retains) / 2
    loss_of(trainer, {"forget": forget, "retain": retains[0]})  # a step: no update in epoch mode
    assert trainer.retain_preference == 1.0
    trainer.model.train()  # as during training: the pass runs in eval mode, then training resumes
    trainer.epoch_dual_update()
    assert trainer.retain_preference == pytest.approx(1.0 + 0.5 * (mean - 0.1), **TOL)
    assert trainer.model.training


def test_a_run_in_epoch_mode_moves_the_multiplier_at_the_epochs_end(tmp_path, tok, gpt2_base):
    trainer = make_trainer(
        tmp_path, copy.deepcopy(gpt2_base), tok, "pdu", pdu_dual_update_upon="epoch", pdu_dual_warmup_epochs=0,
        num_train_epochs=1, learning_rate=1e-3,
    )  # fmt: skip
    trainer.train()
    assert trainer.retain_preference > 1.0  # ε = 0: the multiplier grows by the (positive) retain NLL


def test_quick_settings_lower_the_forget_log_likelihood(tmp_path, tok, gpt2_base):
    before = forget_log_likelihood(gpt2_base, tok, False)
    trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "pdu", **get_spec("pdu").quick_settings)
    output = trainer.train()
    assert math.isfinite(output.training_loss)
    after = forget_log_likelihood(trainer.model, tok, False)
    assert after < before - 0.5, (before, after)


def test_defaults_flags_and_bad_values(tmp_path):
    from transformers import HfArgumentParser

    assert "pdu" in list_methods("generation") and "pdu" not in list_methods("classification")
    config = UnlearnConfig(method="pdu", output_dir=str(tmp_path), use_cpu=True)
    expected = dict(pdu_primal_dual=True, pdu_dual_step_size=1.0, pdu_dual_update_upon="step",
                    pdu_dual_warmup_epochs=5, forget_weight=1.0, retain_weight=1.0, retain_loss="ce")  # fmt: skip
    assert {k: getattr(config, k) for k in expected} == expected
    flags = ["--pdu_retain_loss_eps", "0.7", "--pdu_primal_dual", "false", "--pdu_dual_step_size", "0.5",
             "--pdu_dual_update_upon", "epoch", "--pdu_dual_warmup_epochs", "2"]  # fmt: skip
    (parsed,) = HfArgumentParser(get_spec("pdu").config).parse_args_into_dataclasses(
        ["--output_dir", "unused", "--use_cpu", "true", *flags]
    )
    assert (parsed.pdu_retain_loss_eps, parsed.pdu_primal_dual, parsed.pdu_dual_step_size) == (
        0.7,
        False,
        0.5,
    )
    assert (parsed.pdu_dual_update_upon, parsed.pdu_dual_warmup_epochs) == ("epoch", 2)
    with pytest.raises(MubenchError, match=r"pdu_dual_update_upon must be one of \['step', 'epoch'\]"):
        UnlearnConfig(method="pdu", output_dir=str(tmp_path), use_cpu=True, pdu_dual_update_upon="batch")
    with pytest.raises(MubenchError, match="pdu_dual_step_size must be > 0"):
        UnlearnConfig(method="pdu", output_dir=str(tmp_path), use_cpu=True, pdu_dual_step_size=0.0)
