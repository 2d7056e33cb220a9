"""WGA, SatImp and CE-U (issue 23): open-unlearning's per-token reweightings of the forget loss.

* each loss equals its formula worked out by hand on a few tokens;
* on a tiny GPT-2, the trainer's first-step loss equals open-unlearning's formula re-derived here on the
  same batch (peers: ``src/trainer/utils.py`` ``compute_wga_loss`` / ``compute_satimp_loss`` and
  ``src/trainer/unlearn/ceu.py`` ``compute_batch_ceu`` of locuslab/open-unlearning), total = γ·forget +
  α·(Hugging Face's NLL on the retain batch);
* the quick settings lower the forget log-likelihood in a short run, and a seq2seq model trains too;
* defaults are open-unlearning's configs, hyper-parameters are CLI flags, bad values are named.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from generation_testlib import tiny_tokenizer, toy_splits
from test_generation_methods import (
    TOL,
    batch_of,
    forget_log_likelihood,
    loss_of,
    make_trainer,
    shift_student,
)
from test_generation_methods import (
    _base as trained_base,
)

from mubench_hf.errors import MubenchError
from mubench_hf.trainers import UnlearnConfig, get_spec, list_methods
from mubench_hf.trainers.ceu import ceu_loss
from mubench_hf.trainers.satimp import satimp_loss
from mubench_hf.trainers.wga import wga_loss

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# the tiny models of test_generation_methods, trained once per module (its fixtures are not shared)
@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def gpt2_base(tok, tmp_path_factory):
    return trained_base(tok, False, tmp_path_factory)


@pytest.fixture(scope="module")
def t5_base(tok, tmp_path_factory):
    return trained_base(tok, True, tmp_path_factory)


METHODS = ["wga", "satimp", "ceu"]
LN2 = math.log(2.0)


# ----------------------------------------------------------------------------- by hand
def test_wga_and_satimp_weigh_each_tokens_log_probability_by_hand():
    # two scored tokens with p = 1/2 and 1/4, and one padded position that must not count
    log_probs = torch.log(torch.tensor([[0.5, 0.25, 0.9]]))
    mask = torch.tensor([[True, True, False]])
    # WGA, β = 1: (½·ln ½ + ¼·ln ¼) / 2 = (−½ln2 − ½ln2) / 2
    assert float(wga_loss(log_probs, mask, 1.0)) == pytest.approx(-LN2 / 2, rel=1e-6)
    # β = 0 is plain gradient ascent: the mean log-probability
    assert float(wga_loss(log_probs, mask, 0.0)) == pytest.approx(-1.5 * LN2, rel=1e-6)
    # SatImp, β1 = β2 = 1: weights ½·½ and ¼·¾ → (¼·ln½ + (3/16)·ln¼) / 2 = (−¼ln2 − ⅜ln2) / 2
    assert float(satimp_loss(log_probs, mask, 1.0, 1.0)) == pytest.approx(-0.3125 * LN2, rel=1e-6)


def test_the_weights_carry_no_gradient():
    log_probs = torch.log(torch.tensor([[0.5, 0.25]])).requires_grad_()
    mask = torch.ones(1, 2, dtype=torch.bool)
    wga_loss(log_probs, mask, 1.0).backward()
    assert torch.allclose(log_probs.grad, torch.tensor([[0.25, 0.125]]))  # p / 2 tokens


def test_ceu_is_the_cross_entropy_to_the_distribution_without_the_true_token():
    # logits (0, 0, ln2): softmax (¼, ¼, ½); removing token 2 gives q = (½, ½, 0);
    # −Σ q·log p = −(½·ln¼ + ½·ln¼) = 2·ln2
    logits = torch.tensor([[0.0, 0.0, LN2]], requires_grad=True)
    loss = ceu_loss(logits, torch.tensor([2]))
    assert float(loss.detach()) == pytest.approx(2 * LN2, rel=1e-6)
    loss.backward()  # ∂/∂z = softmax(z) − q: the true token is pushed down, the others up
    assert torch.allclose(logits.grad, torch.tensor([[-0.25, -0.25, 0.5]]))
    assert float(ceu_loss(logits[:0], torch.tensor([], dtype=torch.long)).detach()) == 0.0


# ----------------------------------------------------------------------------- open-unlearning's formulas
def peer_token_nll(model, batch) -> tuple[torch.Tensor, torch.Tensor]:
    """open-unlearning's per-token NLL: logits shifted, CrossEntropyLoss(reduction='none'), and the mask."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    labels = batch["labels"][..., 1:].reshape(-1)
    nll = F.cross_entropy(logits[..., :-1, :].reshape(-1, logits.shape[-1]), labels, reduction="none")
    return nll, labels != -100


def peer_retain_nll(model, batch) -> torch.Tensor:
    return model(**batch).loss  # its compute_retain_loss with retain_loss_type NLL


def peer_ceu(model, batch, ignore_first_n: int) -> torch.Tensor:
    """open-unlearning's compute_batch_ceu, re-derived: skip the first n answer labels, shift, then
    cross-entropy from the logits to softmax(logits with the label at −inf)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    labels = batch["labels"]
    valid = labels != -100
    labels = labels.masked_fill(valid & (valid.cumsum(-1) <= ignore_first_n), -100)[..., 1:]
    logits = logits[..., :-1, :]
    keep = labels != -100
    z, y = logits[keep], labels[keep]
    target = F.softmax(z.detach().scatter(-1, y[:, None], float("-inf")), dim=-1)
    return F.cross_entropy(z, target)


def _batches(tok):
    splits = toy_splits(tok, False)
    return batch_of(splits["forget"], tok, [0, 3, 4]), batch_of(splits["retain"], tok, [1, 2])


@pytest.mark.parametrize(
    "method, hyper",
    [("wga", dict(wga_beta=1.0)), ("wga", dict(wga_beta=2.5, forget_weight=0.5, retain_weight=2.0)),
     ("satimp", dict()), ("satimp", dict(satimp_beta1=2.0, satimp_beta2=3.0, forget_weight=1.0))],
)  # fmt: skip
def test_first_step_loss_equals_open_unlearnings(tmp_path, tok, gpt2_base, method, hyper):
    trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, method, **hyper)
    shift_student(trainer)
    forget, retain = _batches(tok)
    loss = loss_of(trainer, {"forget": forget, "retain": retain})
    args = trainer.args
    with torch.no_grad():
        nll, keep = peer_token_nll(trainer.model, forget)
        p = torch.exp(-nll)
        if method == "wga":
            weight = p**args.wga_beta
        else:
            weight = p**args.satimp_beta1 * (1 - p) ** args.satimp_beta2
        forget_term = -(weight * nll)[keep].mean()
        expected = args.forget_weight * forget_term + args.retain_weight * peer_retain_nll(
            trainer.model, retain
        )
    assert loss == pytest.approx(float(expected), **TOL)


@pytest.mark.parametrize("ignore_first_n, retain_weight", [(1, 0.0), (0, 0.0), (2, 0.7)])
def test_ceu_first_step_loss_equals_open_unlearnings(tmp_path, tok, gpt2_base, ignore_first_n, retain_weight):
    trainer = make_trainer(
        tmp_path, copy.deepcopy(gpt2_base), tok, "ceu", ceu_ignore_first_n=ignore_first_n,
        retain_weight=retain_weight,
    )  # fmt: skip
    shift_student(trainer)
    forget, retain = _batches(tok)
    loss = loss_of(trainer, {"forget": forget, "retain": retain})
    with torch.no_grad():
        expected = peer_ceu(trainer.model, forget, ignore_first_n)
        if retain_weight:
            expected = expected + retain_weight * peer_retain_nll(trainer.model, retain)
    assert loss == pytest.approx(float(expected), **TOL)


# ----------------------------------------------------------------------------- training
@pytest.mark.parametrize("method", METHODS)
def test_quick_settings_lower_the_forget_log_likelihood(tmp_path, tok, gpt2_base, method):
    before = forget_log_likelihood(gpt2_base, tok, False)
    trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, method, **get_spec(method).quick_settings)
    output = trainer.train()
    assert math.isfinite(output.training_loss)
    after = forget_log_likelihood(trainer.model, tok, False)
    assert after < before - 0.5, (method, before, after)


@pytest.mark.parametrize("method", METHODS)
def test_a_seq2seq_model_trains(tmp_path, tok, t5_base, method):
    settings = {**get_spec(method).quick_settings, "max_steps": 3}
    trainer = make_trainer(tmp_path, copy.deepcopy(t5_base), tok, method, encoder_decoder=True, **settings)
    output = trainer.train()
    assert output.global_step == 3 and math.isfinite(output.training_loss)
    assert forget_log_likelihood(trainer.model, tok, True) != forget_log_likelihood(t5_base, tok, True)


# ----------------------------------------------------------------------------- declarations
def test_registered_for_generation_with_open_unlearnings_defaults(tmp_path):
    assert set(METHODS) <= set(list_methods("generation"))
    assert not set(METHODS) & set(list_methods("classification"))
    expected = {
        "wga": {"wga_beta": 1.0, "forget_weight": 1.0, "retain_weight": 1.0, "retain_loss": "ce"},
        "satimp": {"satimp_beta1": 5.0, "satimp_beta2": 1.0, "forget_weight": 0.1, "retain_weight": 1.0},
        "ceu": {"ceu_ignore_first_n": 1, "forget_weight": 1.0, "retain_weight": 0.0},
    }
    for method, values in expected.items():
        config = UnlearnConfig(method=method, output_dir=str(tmp_path), use_cpu=True)
        assert {k: getattr(config, k) for k in values} == values, method


def test_hyper_parameters_are_cli_flags():
    from transformers import HfArgumentParser

    argv = {
        "wga": ["--wga_beta", "2.5", "--retain_loss", "kl"],
        "satimp": ["--satimp_beta1", "3", "--satimp_beta2", "0.5", "--forget_weight", "1"],
        "ceu": ["--ceu_ignore_first_n", "2", "--retain_weight", "0.5"],
    }
    for method, flags in argv.items():
        (config,) = HfArgumentParser(get_spec(method).config).parse_args_into_dataclasses(
            ["--output_dir", "unused", "--use_cpu", "true", *flags]
        )
        assert config.method == method
        for name, value in zip(flags[::2], flags[1::2]):
            found = getattr(config, name.lstrip("-"))
            assert found == (value if isinstance(found, str) else type(found)(value)), name


@pytest.mark.parametrize(
    "method, hyper, message",
    [("wga", {"wga_beta": -1.0}, "wga_beta must be >= 0"),
     ("satimp", {"satimp_beta2": -0.5}, "satimp_beta1 and satimp_beta2 must be >= 0"),
     ("ceu", {"ceu_ignore_first_n": -1}, "ceu_ignore_first_n must be >= 0")],
)  # fmt: skip
def test_bad_hyper_parameters_are_named(tmp_path, method, hyper, message):
    with pytest.raises(MubenchError, match=message):
        UnlearnConfig(method=method, output_dir=str(tmp_path), use_cpu=True, **hyper)
