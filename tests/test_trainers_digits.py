"""End to end on digits: every method forgets, and pays a bounded price in test accuracy.

The original model θo is a tiny ResNet trained on the whole digits train split (session fixture,
~97 % test accuracy). Each method then runs a few seconds on ``digits_del5`` (62 random forget rows)
with the settings below; for each we assert that forget accuracy falls below θo's and that test
accuracy drops by at most the stated bound. The bounds are about twice the drop measured when the
test was written, so they catch a broken method without pinning today's exact numbers.
SSD is a class-forgetting method and runs on ``digits_class3``.
"""

from __future__ import annotations

import pytest
import torch
from trainer_testlib import accuracy, quiet_args
from transformers import AutoModelForImageClassification

from mubench_hf.processing import prepare_splits
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# method -> (hyper-parameters, the largest test-accuracy drop allowed)
FORGETTING_RUNS = {
    "finetune": (dict(learning_rate=2e-2, num_train_epochs=2), 0.05),
    "grad_ascent": (dict(learning_rate=1e-3, num_train_epochs=2), 0.05),
    "grad_diff": (dict(learning_rate=1e-3, max_steps=15), 0.08),
    "random_label": (dict(learning_rate=2e-3, num_train_epochs=3), 0.05),
    "salun": (dict(learning_rate=3e-3, num_train_epochs=3), 0.05),
    "bad_teaching": (dict(learning_rate=1e-3, max_steps=10), 0.08),
    "scrub": (dict(learning_rate=5e-3, forget_steps_per_cycle=6, max_steps=50), 0.12),
    "l1_sparse": (dict(learning_rate=1e-2, num_train_epochs=2, l1_weight=5e-3), 0.06),
    "delete": (dict(learning_rate=1e-3, num_train_epochs=4), 0.06),
    "npo": (dict(learning_rate=1e-3, max_steps=15), 0.08),
}


@pytest.fixture(scope="module")
def original(digits_base_model_dir, digits_del5):
    model = AutoModelForImageClassification.from_pretrained(digits_base_model_dir)
    splits = prepare_splits(digits_del5, "digits", model)
    return {
        "splits": splits,
        "forget": accuracy(model, splits["forget"]),
        "test": accuracy(model, splits["test"]),
    }


def load_original(digits_base_model_dir):
    return AutoModelForImageClassification.from_pretrained(digits_base_model_dir)


def test_original_model_is_good(original):
    assert original["test"] >= 0.90
    assert original["forget"] >= 0.95  # it was trained on the forget rows


@pytest.mark.parametrize("method", sorted(FORGETTING_RUNS))
def test_method_forgets_with_bounded_test_loss(method, original, digits_base_model_dir, tmp_path):
    hyper, max_test_drop = FORGETTING_RUNS[method]
    splits = original["splits"]
    args = UnlearnConfig(method=method, **quiet_args(tmp_path, per_device_train_batch_size=32, **hyper))
    trainer = UnlearnTrainer(model=load_original(digits_base_model_dir), args=args, splits=splits)
    trainer.train()
    forget_acc = accuracy(trainer.model, splits["forget"])
    test_acc = accuracy(trainer.model, splits["test"])
    assert forget_acc < original["forget"], f"{method}: forget accuracy {forget_acc:.3f} did not fall"
    assert test_acc >= original["test"] - max_test_drop, f"{method}: test accuracy {test_acc:.3f}"


def test_retrain_forget_accuracy_is_close_to_its_test_accuracy(original, digits_base_model_dir, tmp_path):
    from mubench_hf.training import TINY_DIGITS_RECIPE

    splits = original["splits"]
    args = UnlearnConfig(method="retrain", **quiet_args(tmp_path, **TINY_DIGITS_RECIPE))
    trainer = UnlearnTrainer(model=load_original(digits_base_model_dir), args=args, splits=splits)
    trainer.train()
    forget_acc = accuracy(trainer.model, splits["forget"])
    test_acc = accuracy(trainer.model, splits["test"])
    # Random deletion: to a model that never saw them, forget rows are like unseen test rows.
    assert test_acc >= 0.90
    assert abs(forget_acc - test_acc) <= 0.05


def test_ssd_forgets_a_class(digits_base_model_dir, digits_class3, tmp_path):
    model = load_original(digits_base_model_dir)
    splits = prepare_splits(digits_class3, "digits", model)
    test_labels = torch.tensor(list(digits_class3["test"].with_format(None)["label"]))
    keep = torch.nonzero(test_labels != 3).flatten().tolist()
    other_classes = splits["test"].select(keep)
    before_forget = accuracy(model, splits["forget"])
    before_others = accuracy(model, other_classes)
    args = UnlearnConfig(
        method="ssd", **quiet_args(tmp_path, per_device_train_batch_size=32, selection_weighting=8.0)
    )
    trainer = UnlearnTrainer(model=model, args=args, splits=splits)
    output = trainer.train()
    assert 0 < output.metrics["dampened_fraction"] < 0.2
    assert accuracy(trainer.model, splits["forget"]) <= before_forget - 0.5  # class 3 is mostly forgotten
    assert accuracy(trainer.model, other_classes) >= before_others - 0.15


class _ExplodingSplit:
    """Stands in for the test split: any use of it fails the test."""

    def __len__(self):
        raise AssertionError("the test split was read during unlearning")

    def __getitem__(self, index):
        raise AssertionError("the test split was read during unlearning")


def test_model_selection_reads_validation_never_test(original, digits_base_model_dir, tmp_path):
    splits = dict(original["splits"])
    splits["test"] = _ExplodingSplit()
    args = UnlearnConfig(
        method="grad_ascent",
        **quiet_args(
            tmp_path,
            max_steps=4,
            eval_strategy="steps",
            eval_steps=2,
            save_strategy="steps",
            save_steps=2,
            load_best_model_at_end=True,
            metric_for_best_model="eval_loss",
        ),
    )
    trainer = UnlearnTrainer(model=load_original(digits_base_model_dir), args=args, splits=splits)
    assert len(trainer.eval_dataset) == len(original["splits"]["validation"])
    trainer.train()
    assert trainer.state.best_model_checkpoint is not None
