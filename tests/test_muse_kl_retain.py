"""GA_KLR and NPO_KLR (MUSE's baselines) against ``retain_loss="kl"`` here (issue 23).

MUSE (swj0419/muse_bench, ``baselines/baselines/iterative.py``, ``compute_loss``) scores every token of
raw text (labels = input_ids) and adds, for the ``klr`` variants,
``F.kl_div(student_logits, reference_logits, reduction="batchmean", log_target=True)`` on the retain
batch: KL(θo ‖ θ) summed over positions and vocabulary, divided by the number of rows. Two things differ
from the retain term here, and the tests pin both down:

* MUSE passes the raw logits where ``kl_div`` expects log-probabilities; the KL of the two models' next-
  token *distributions* (what the paper describes, and what is computed here) is that call on
  log-softmaxed logits. On raw logits the value is not a divergence (it can be negative);
* ``batchmean`` divides by rows, here the sum is divided by the scored positions (T − 1 per row for a
  causal LM on text of length T): the same term times a constant, i.e. MUSE's α = 1 is α = T − 1 here.

With those two read as above, GA_KLR is ``grad_diff --retain_loss kl`` and NPO_KLR is
``npo --retain_loss kl``. (MUSE's NPO forget term also works on raw logits, per vocabulary entry; the one
here is the NPO paper's sequence-level log-ratio, checked in ``test_trainers_losses.py``.)
"""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from generation_testlib import tiny_tokenizer, toy_splits
from test_generation_methods import (
    TOL,
    batch_of,
    loss_of,
    make_trainer,
    shift_student,
)
from test_generation_methods import (
    _base as trained_base,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# the tiny models of test_generation_methods, trained once per module (its fixtures are not shared)
@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def gpt2_base(tok, tmp_path_factory):
    return trained_base(tok, False, tmp_path_factory)


def raw_text_batch(vocab: int, rows: int = 3, length: int = 9) -> dict[str, torch.Tensor]:
    """MUSE's retain batches: unpadded text, every token a label."""
    ids = torch.randint(3, vocab, (rows, length), generator=torch.Generator().manual_seed(1))
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids.clone()}


def muse_klr(student, reference, batch, normalise: bool) -> torch.Tensor:
    """MUSE's klr term re-derived; ``normalise`` log-softmaxes the logits first (the distributions' KL).
    The last position predicts no token of the text and is left out, as here."""
    z = student(input_ids=batch["input_ids"]).logits[:, :-1]
    z_ref = reference(input_ids=batch["input_ids"]).logits[:, :-1]
    if normalise:
        z, z_ref = F.log_softmax(z, -1), F.log_softmax(z_ref, -1)
    return F.kl_div(z, z_ref, reduction="batchmean", log_target=True)


def test_ga_klr_is_grad_diff_with_the_kl_retain_term(tmp_path, tok, gpt2_base):
    reference = copy.deepcopy(gpt2_base)
    retain = raw_text_batch(len(tok))
    per_row = retain["input_ids"].shape[1] - 1  # MUSE's batchmean ÷ rows vs ÷ scored positions here
    trainer = make_trainer(
        tmp_path, copy.deepcopy(gpt2_base), tok, "grad_diff", retain_loss="kl", retain_weight=float(per_row)
    )
    shift_student(trainer)
    forget = batch_of(toy_splits(tok, False)["forget"], tok, [0, 2, 5])
    loss = loss_of(trainer, {"forget": forget, "retain": retain})
    with torch.no_grad():
        ga = -trainer.model(**forget).loss  # MUSE: loss += -outputs_f.loss
        expected = ga + muse_klr(trainer.model, reference, retain, normalise=True)
        on_raw_logits = ga + muse_klr(trainer.model, reference, retain, normalise=False)
    assert loss == pytest.approx(float(expected), **TOL)
    assert abs(float(on_raw_logits) - loss) > 1e-2  # MUSE's literal call is a different number


def test_npo_klr_is_npo_with_the_kl_retain_term(tmp_path, tok, gpt2_base):
    reference = copy.deepcopy(gpt2_base)
    retain = raw_text_batch(len(tok))
    per_row = retain["input_ids"].shape[1] - 1
    trainer = make_trainer(
        tmp_path, copy.deepcopy(gpt2_base), tok, "npo", retain_loss="kl", retain_weight=float(per_row)
    )
    shift_student(trainer)
    forget = batch_of(toy_splits(tok, False)["forget"], tok, [1, 3])
    loss = loss_of(trainer, {"forget": forget, "retain": retain})
    beta = trainer.args.npo_beta
    with torch.no_grad():
        terms = []
        for row in range(2):  # the NPO paper's term: sequence log-likelihoods of θ and θo, unpadded
            keep = forget["attention_mask"][row].bool()
            ids, labels = forget["input_ids"][row][keep][None], forget["labels"][row][keep][None]
            ll = -trainer.model(input_ids=ids, labels=labels).loss * (labels[0, 1:] != -100).sum()
            ll_ref = -reference(input_ids=ids, labels=labels).loss * (labels[0, 1:] != -100).sum()
            terms.append(F.logsigmoid(-beta * (ll - ll_ref)))
        npo = -(2 / beta) * torch.stack(terms).mean()
        expected = npo + muse_klr(trainer.model, reference, retain, normalise=True)
    assert loss == pytest.approx(float(expected), **TOL)


def test_the_kl_retain_term_is_zero_at_the_original(tmp_path, tok, gpt2_base):
    trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "grad_diff", retain_loss="kl")
    retain = raw_text_batch(len(tok))
    outputs = trainer.objective.outputs(trainer.model, retain)
    with torch.no_grad():
        assert float(trainer.retain_term(outputs, retain)) == pytest.approx(0.0, abs=1e-6)
