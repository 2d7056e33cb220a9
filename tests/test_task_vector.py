"""Task vector negation (MUSE's ``tv`` baseline, issue 23).

* the weights at the end are θo − α·(θft − θo), θft the fine-tuned weights captured when training ends,
  i.e. MUSE's ``TaskVector(pretrained, finetuned)`` negated and applied with ``scaling_coef`` α
  (swj0419/muse_bench ``baselines/baselines/task_vector.py``), re-derived here;
* the fine-tuning is descent on Df (θft predicts Df better than θo), the negation lowers the forget
  log-likelihood below θo's; defaults and the CLI flag.
"""

from __future__ import annotations

import copy

import pytest
import torch
from generation_testlib import tiny_tokenizer
from test_generation_methods import _base as trained_base
from test_generation_methods import forget_log_likelihood, make_trainer
from transformers import TrainerCallback

from mubench_hf.trainers import UnlearnConfig, get_spec, list_methods

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def gpt2_base(tok, tmp_path_factory):
    return trained_base(tok, False, tmp_path_factory)


class CaptureWeights(TrainerCallback):
    """The weights as training ends (θft), before the negation."""

    def on_train_end(self, args, state, control, model=None, **kwargs):
        self.weights = {k: v.detach().clone() for k, v in model.named_parameters()}


@pytest.mark.parametrize("alpha", [1.0, 2.5])
def test_the_weights_end_at_the_negated_task_vector(tmp_path, tok, gpt2_base, alpha):
    original = {k: v.detach().clone() for k, v in gpt2_base.named_parameters()}
    settings = {**get_spec("task_vector").quick_settings, "max_steps": 6}
    trainer = make_trainer(tmp_path, copy.deepcopy(gpt2_base), tok, "task_vector", tv_alpha=alpha, **settings)
    capture = CaptureWeights()
    trainer.add_callback(capture)
    trainer.train()
    finetuned = copy.deepcopy(gpt2_base)
    finetuned.load_state_dict(capture.weights, strict=False)
    # the fine-tuning learned Df further
    assert forget_log_likelihood(finetuned, tok, False) > forget_log_likelihood(gpt2_base, tok, False)
    for name, param in trainer.model.named_parameters():
        vector = capture.weights[name] - original[name]  # MUSE: finetuned − pretrained
        expected = original[name] + alpha * (-vector)  # its −vector applied with scaling_coef α
        assert torch.allclose(param.detach(), expected, atol=1e-6), name
    assert any(not torch.equal(capture.weights[k], original[k]) for k in original)


def test_quick_settings_lower_the_forget_log_likelihood(tmp_path, tok, gpt2_base):
    before = forget_log_likelihood(gpt2_base, tok, False)
    trainer = make_trainer(
        tmp_path, copy.deepcopy(gpt2_base), tok, "task_vector", **get_spec("task_vector").quick_settings
    )
    trainer.train()
    after = forget_log_likelihood(trainer.model, tok, False)
    assert after < before - 0.5, (before, after)


def test_defaults_and_flag(tmp_path):
    from transformers import HfArgumentParser

    assert "task_vector" in list_methods("generation")
    assert UnlearnConfig(method="task_vector", output_dir=str(tmp_path), use_cpu=True).tv_alpha == 1.0
    (parsed,) = HfArgumentParser(get_spec("task_vector").config).parse_args_into_dataclasses(
        ["--output_dir", "unused", "--use_cpu", "true", "--tv_alpha", "3"]
    )
    assert parsed.tv_alpha == 3.0 and parsed.method == "task_vector"
