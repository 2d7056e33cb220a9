"""End to end on digits: every method forgets, and pays a bounded price in test accuracy.

The original model θo is a tiny ResNet trained by the product's ``train_base`` on the whole digits train
split (session fixture, best epoch on validation, ~97 % test accuracy). Each method then runs with the
quick settings of its declaration (``register_method(..., quick_settings=...)``), on ``digits_del5``
(62 random forget rows) and on ``digits_class3`` (every training 3).

The bounds come from the spread measured over CPU kernel paths (``ATEN_CPU_CAPABILITY`` avx2 and default)
and base-model seeds 0 and 1, listed beside each bound as the worst value seen; each bound leaves about
twice that. A bound that tuned to one float path fails on the next machine, so no assertion rests on a
single row: random deletion moves little (one forget row is 0.016), so there the test bounds the cost
and checks forgetting only where every measured run dropped at least two rows; class-wise deletion,
where methods must erase a whole class, carries the forgetting test.
"""

from __future__ import annotations

import pytest
import torch
from trainer_testlib import accuracy, quiet_args
from transformers import AutoModelForImageClassification

from mubench_hf.kinds.classification import prepare_splits
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer, get_spec

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# digits_del5: method -> (largest test-accuracy drop allowed, worst drop measured)
TEST_DROP = {
    "bad_teaching": (0.12, 0.061),  # 0.014 on an AVX2-only machine, 0.061 on an AVX-512 one
    "delete": (0.09, 0.047),
    "finetune": (0.07, 0.033),
    "grad_ascent": (0.05, 0.019),
    "grad_diff": (0.10, 0.053),
    "l1_sparse": (0.05, 0.017),
    "npo": (0.10, 0.050),
    "random_label": (0.05, 0.011),
    "salun": (0.05, 0.003),
    "scrub": (0.13, 0.069),
    "simnpo": (0.05, 0.006),
    # The methods taken from peer benchmarks were measured on two paths only: base model and run with
    # AVX-512 kernels (plus the run on AVX2 kernels for neggrad_plus), and both with the plain ones.
    "boundary_expand": (0.12, 0.064),
    "boundary_shrink": (0.09, 0.044),
    "cf_k": (0.05, 0.017),
    "eu_k": (0.05, 0.014),
    "fisher": (0.27, 0.144),  # noise on every weight: it costs test accuracy as much as forget accuracy
    "influence": (0.05, 0.000),
    "neggrad_plus": (0.09, 0.042),
    "successive_random_labels": (0.05, 0.011),
    "transposed_kernels": (0.05, 0.019),
    "unsir": (0.09, 0.044),
    "conv_noise_finetune": (0.09, 0.047),
    # the other challenge entries and SFR-on: measured on AVX-512 and plain kernels, base model seed 0
    "uniform_contrastive": (0.23, 0.114),  # its uniform pass over-forgets random rows (forget drop 0.55)
    "snip_reinit": (0.05, 0.017),
    "prune_reinit_entropy": (0.05, 0.025),
    "reset_distill": (0.05, 0.006),
    "layer_noise_finetune": (0.05, 0.014),
    "sfr_on": (0.06, 0.028),
}
# digits_del5: methods whose forget accuracy fell by at least two rows (0.032) in every measured run
FORGET_DROP_ON_RANDOM = {"bad_teaching", "delete", "grad_ascent", "grad_diff", "l1_sparse", "npo",
                         "random_label", "salun", "scrub", "boundary_expand", "boundary_shrink", "fisher",
                         "neggrad_plus", "uniform_contrastive", "prune_reinit_entropy", "sfr_on"}  # fmt: skip
# digits_class3: method -> (smallest drop of the class's accuracy required, smallest measured)
CLASS_DROP = {
    "bad_teaching": (0.06, 0.125),
    "delete": (0.30, 0.648),
    "finetune": (0.50, 0.992),
    "grad_ascent": (0.17, 0.352),
    "grad_diff": (0.45, 0.906),
    "l1_sparse": (0.50, 0.992),
    "npo": (0.45, 0.930),
    "random_label": (0.50, 0.992),
    "retrain": (0.50, 0.992),
    "salun": (0.50, 0.992),
    "scrub": (0.50, 0.992),
    "simnpo": (0.19, 0.391),
    "boundary_expand": (0.23, 0.469),
    "boundary_shrink": (0.19, 0.383),
    "cf_k": (0.50, 1.000),
    "eu_k": (0.50, 1.000),
    "fisher": (0.07, 0.156),
    "influence": (0.20, 0.414),
    "neggrad_plus": (0.50, 1.000),
    "successive_random_labels": (0.28, 0.562),
    "transposed_kernels": (0.50, 1.000),
    "unsir": (0.50, 1.000),
    "conv_noise_finetune": (0.50, 1.000),
    "uniform_contrastive": (0.50, 1.000),
    "snip_reinit": (0.50, 1.000),
    "prune_reinit_entropy": (0.50, 1.000),
    "reset_distill": (0.50, 1.000),
    "layer_noise_finetune": (0.50, 1.000),
    "sfr_on": (0.50, 1.000),
}
OTHER_CLASSES_DROP = 0.13  # worst measured: 0.062 (grad_ascent)
# the retrain-free weight edits move every class: method -> (largest drop allowed, worst measured)
OTHER_CLASSES_DROP_OF = {"fisher": (0.27, 0.136), "influence": (0.19, 0.093)}
RETRAIN_RECIPE = dict(num_train_epochs=8, learning_rate=3e-3, seed=0)


def settings(method: str) -> dict:
    return RETRAIN_RECIPE if method == "retrain" else dict(get_spec(method).quick_settings)


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


@pytest.fixture(scope="module")
def class3(digits_base_model_dir, digits_class3):
    model = load_original(digits_base_model_dir)
    splits = prepare_splits(digits_class3, "digits", model)
    labels = torch.tensor(list(digits_class3["test"].with_format(None)["label"]))
    others = splits["test"].select(torch.nonzero(labels != 3).flatten().tolist())
    return {"splits": splits, "others": others, "forget": accuracy(model, splits["forget"]),
            "others_accuracy": accuracy(model, others)}  # fmt: skip


def unlearned(method, digits_base_model_dir, splits, tmp_path):
    args = UnlearnConfig(
        method=method, **quiet_args(tmp_path, per_device_train_batch_size=32, **settings(method))
    )
    trainer = UnlearnTrainer(model=load_original(digits_base_model_dir), args=args, splits=splits)
    trainer.train()
    return trainer.model


@pytest.mark.parametrize("method", sorted(TEST_DROP))
def test_method_on_random_deletion_pays_a_bounded_price(method, original, digits_base_model_dir, tmp_path):
    max_test_drop, _ = TEST_DROP[method]
    splits = original["splits"]
    model = unlearned(method, digits_base_model_dir, splits, tmp_path)
    forget_acc = accuracy(model, splits["forget"])
    test_acc = accuracy(model, splits["test"])
    assert test_acc >= original["test"] - max_test_drop, f"{method}: test accuracy {test_acc:.3f}"
    assert forget_acc <= original["forget"], f"{method}: forget accuracy rose to {forget_acc:.3f}"
    if method in FORGET_DROP_ON_RANDOM:
        assert forget_acc < original["forget"], f"{method}: forget accuracy {forget_acc:.3f} did not fall"


@pytest.mark.parametrize("method", sorted(CLASS_DROP))
def test_method_forgets_a_class(method, class3, digits_base_model_dir, tmp_path):
    required, _ = CLASS_DROP[method]
    model = unlearned(method, digits_base_model_dir, class3["splits"], tmp_path)
    forget_acc = accuracy(model, class3["splits"]["forget"])
    others_acc = accuracy(model, class3["others"])
    assert forget_acc <= class3["forget"] - required, f"{method}: class 3 accuracy {forget_acc:.3f}"
    others_bound = OTHER_CLASSES_DROP_OF.get(method, (OTHER_CLASSES_DROP,))[0]
    assert others_acc >= class3["others_accuracy"] - others_bound, f"{method}: other classes {others_acc:.3f}"


def test_retrain_forget_accuracy_is_close_to_its_test_accuracy(original, digits_base_model_dir, tmp_path):
    splits = original["splits"]
    args = UnlearnConfig(
        method="retrain", **quiet_args(tmp_path, per_device_train_batch_size=32, **RETRAIN_RECIPE)
    )
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
    # SSD on an 8x8-digit ResNet is a knife edge: whether the Fisher ratio clears α depends on the float
    # path the base model was trained on. Measured at α = 1 (base trained on each path): AVX2 and AVX-512
    # dampen 1.1 % of weights, class 3 falls 1.000 -> 0.938 and the other classes do not move; the plain
    # (non-vector) path dampens 15 %, class 3 falls to 0.0 and the others 0.972 -> 0.381. What holds on
    # every path is the method's point: the class loses more than the other classes do.
    args = UnlearnConfig(
        method="ssd", **quiet_args(tmp_path, per_device_train_batch_size=32, selection_weighting=1.0)
    )
    trainer = UnlearnTrainer(model=model, args=args, splits=splits)
    output = trainer.train()
    assert 0 < output.metrics["dampened_fraction"] < 0.3
    forget_drop = before_forget - accuracy(trainer.model, splits["forget"])
    others_drop = before_others - accuracy(trainer.model, other_classes)
    assert forget_drop >= 0.03  # smallest measured: 0.062 (four of 64 rows)
    assert forget_drop > others_drop + 0.03  # smallest measured margin: 0.062


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


def test_every_registered_method_is_tested_here():
    from mubench_hf.trainers import list_methods

    # retrain is tested above against its own test accuracy, ssd on class-wise forgetting
    assert set(TEST_DROP) | {"retrain", "ssd"} == set(list_methods("classification"))
    assert set(CLASS_DROP) | {"ssd"} == set(list_methods("classification"))
