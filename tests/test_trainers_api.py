"""The public surface: dispatch to method classes, the registry, configs, data declarations, and
clear errors on bad input."""

from __future__ import annotations

import sys

import datasets
import numpy as np
import pytest
from trainer_testlib import linear_rows, quiet_args, tiny_linear
from transformers import TrainingArguments

from mubench_hf.errors import MubenchError
from mubench_hf.trainers import (
    METHODS,
    DataUse,
    SalUnConfig,
    SalUnTrainer,
    ScrubConfig,
    UnknownMethodError,
    UnlearnConfig,
    UnlearnTrainer,
    get_method,
    get_spec,
    list_methods,
    method_specs,
)
from mubench_hf.trainers.data import PairedDataset, random_other_labels

# The methods the package ships; everything else below iterates the registry itself.
BUILT_IN = {
    "bad_teaching", "delete", "finetune", "grad_ascent", "grad_diff", "l1_sparse",
    "npo", "random_label", "retrain", "salun", "scrub", "simnpo", "ssd",
}  # fmt: skip
ALL_METHODS = list_methods("classification")  # built on a classifier below
FORGET, RETAIN = linear_rows(6, seed=1), linear_rows(10, seed=2)


def test_every_method_is_declared_once_with_a_documented_class():
    assert BUILT_IN <= set(list_methods())
    for spec in method_specs():
        cls = spec.trainer
        # the trainer's attributes come from its one declaration
        assert (cls.method, cls.data_use, cls.config_class) == (spec.name, spec.data_use, spec.config)
        assert METHODS[spec.name] is cls and get_spec(spec.name) is spec
        assert isinstance(spec.data_use, DataUse)
        assert cls.__doc__
        assert any(str(year) in spec.citation for year in range(2020, 2027)), f"{spec.name}: no paper cited"
        module_doc = sys.modules[cls.__module__].__doc__ or ""
        assert any(str(year) in module_doc for year in range(2020, 2027)), f"{spec.name}: no paper cited"
        if spec.config is not UnlearnConfig:  # a method's own config names its method by default
            assert spec.config(output_dir="unused", use_cpu=True).method == spec.name


@pytest.mark.parametrize("method", ALL_METHODS)
def test_unlearn_trainer_returns_the_method_subclass(method, tmp_path):
    trainer = UnlearnTrainer(
        model=tiny_linear(),
        args=UnlearnConfig(method=method, **quiet_args(tmp_path)),
        forget_dataset=FORGET,
        retain_dataset=RETAIN,
    )
    assert isinstance(trainer, get_method(method))
    assert isinstance(trainer, UnlearnTrainer)
    assert isinstance(trainer.args, get_method(method).config_class)
    assert trainer.args.method == method


def test_salun_example_from_the_design(tmp_path):
    trainer = UnlearnTrainer(
        model=tiny_linear(),
        args=UnlearnConfig(output_dir=str(tmp_path), method="salun", use_cpu=True),
        splits=datasets.DatasetDict({"forget": FORGET, "retain": RETAIN, "validation": FORGET}),
    )
    assert isinstance(trainer, SalUnTrainer)
    assert trainer.args.mask_ratio == 0.5  # the method's default arrives with the upgrade


def test_method_configs_build_either_way(tmp_path):
    direct = ScrubConfig(output_dir=str(tmp_path), kd_temperature=2.0)
    via_base = UnlearnConfig(output_dir=str(tmp_path), method="scrub", kd_temperature=2.0)
    assert type(via_base) is ScrubConfig and direct.method == "scrub"
    assert via_base.kd_temperature == direct.kd_temperature == 2.0
    # a subclass trainer built with plain TrainingArguments gets its own config, values kept
    trainer = SalUnTrainer(
        model=tiny_linear(),
        args=TrainingArguments(output_dir=str(tmp_path), use_cpu=True, learning_rate=0.123),
        forget_dataset=FORGET,
        retain_dataset=RETAIN,
    )
    assert isinstance(trainer.args, SalUnConfig) and trainer.args.learning_rate == 0.123


def test_config_fields_are_documented():
    import dataclasses

    for cls in {m.config_class for m in METHODS.values()}:
        own = [f for f in dataclasses.fields(cls) if f.name not in TrainingArguments.__dataclass_fields__]
        assert own and all(f.metadata.get("help") for f in own), cls.__name__


def test_data_use_declarations():
    uses = {name: cls.data_use for name, cls in METHODS.items()}
    assert uses["grad_ascent"] is DataUse.FORGET and uses["delete"] is DataUse.FORGET
    assert uses["finetune"] is uses["retrain"] is uses["l1_sparse"] is DataUse.RETAIN
    assert {uses[m] for m in ("grad_diff", "bad_teaching", "scrub", "npo", "simnpo")} == {DataUse.PAIRED}
    assert uses["random_label"] is uses["salun"] is DataUse.UNION_RELABELLED
    assert uses["ssd"] is DataUse.SEPARATE


# ----------------------------------------------------------------------------- data
def test_random_labels_are_never_the_true_label_and_are_seeded():
    labels = np.random.default_rng(0).integers(0, 10, size=5000)
    new = random_other_labels(labels, 10, seed=7)
    assert (new != labels).all()
    assert ((0 <= new) & (new < 10)).all()
    assert np.array_equal(new, random_other_labels(labels, 10, seed=7))
    assert not np.array_equal(new, random_other_labels(labels, 10, seed=8))
    # uniform over the 9 other classes
    offsets = np.bincount((new - labels) % 10, minlength=10)
    assert offsets[0] == 0 and offsets[1:].min() > 5000 / 9 * 0.8
    with pytest.raises(MubenchError, match="2 classes"):
        random_other_labels(labels[:3] * 0, 1, seed=0)


@pytest.mark.parametrize(
    ("anchor", "length", "all_forget", "all_retain"),
    [("longest", 10, True, True), ("forget", 6, True, False), ("retain", 10, True, True)],
)
def test_paired_dataset_anchors(anchor, length, all_forget, all_retain):
    paired = PairedDataset(FORGET, RETAIN, anchor=anchor, seed=0)
    assert len(paired) == length
    rows = [paired[i] for i in range(len(paired))]
    forget_ids = {int(r.forget["sample_id"]) for r in rows}
    retain_ids = {int(r.retain["sample_id"]) for r in rows}
    assert (forget_ids == set(range(6))) is all_forget
    assert (retain_ids == set(range(10))) is all_retain
    assert len(retain_ids) == min(length, 10)


# ----------------------------------------------------------------------------- errors
def make(method: str, tmp_path, **kwargs):
    values = dict(model=tiny_linear(), forget_dataset=FORGET, retain_dataset=RETAIN)
    values.update(kwargs)
    return UnlearnTrainer(args=UnlearnConfig(method=method, **quiet_args(tmp_path)), **values)


def test_unknown_method_lists_the_known_ones(tmp_path):
    with pytest.raises(UnknownMethodError, match="known methods: altpo, bad_teaching, .*delete, .*ssd"):
        UnlearnConfig(output_dir=str(tmp_path), method="gradient_ascent")
    with pytest.raises(UnknownMethodError, match="'nope'.*grad_ascent"):
        get_method("nope")
    with pytest.raises(MubenchError, match="known methods"):
        UnlearnTrainer(
            model=tiny_linear(), args=UnlearnConfig(output_dir=str(tmp_path)), forget_dataset=FORGET
        )


@pytest.mark.parametrize(
    ("method", "missing", "message"),
    [
        ("grad_ascent", "forget_dataset", "method 'grad_ascent' needs the forget set"),
        ("finetune", "retain_dataset", "method 'finetune' needs the retain set"),
        ("scrub", "forget_dataset", "method 'scrub' needs the forget set"),
        ("ssd", "retain_dataset", "method 'ssd' needs the retain set"),
    ],
)
def test_a_missing_dataset_is_named(method, missing, message, tmp_path):
    with pytest.raises(MubenchError, match=message):
        make(method, tmp_path, **{missing: None})


def test_an_empty_dataset_is_named(tmp_path):
    with pytest.raises(MubenchError, match="'npo' needs a non-empty forget set.*0 rows"):
        make("npo", tmp_path, forget_dataset=FORGET.select([]))


def test_missing_labels_are_reported_with_the_columns(tmp_path):
    unlabelled = FORGET.remove_columns("label")
    with pytest.raises(
        MubenchError, match=r"forget set has no label column.*\['pixel_values', 'sample_id'\]"
    ):
        make("delete", tmp_path, forget_dataset=unlabelled)


def test_model_and_data_class_counts_must_agree(tmp_path):
    with pytest.raises(MubenchError, match="num_labels=5 but the forget set's ClassLabel has 3 classes"):
        make("grad_diff", tmp_path, model=tiny_linear(num_labels=5))


def test_train_dataset_is_refused(tmp_path):
    with pytest.raises(MubenchError, match="do not pass train_dataset"):
        make("finetune", tmp_path, train_dataset=RETAIN)


def test_conflicting_method_is_an_error(tmp_path):
    with pytest.raises(MubenchError, match="args.method is 'finetune' but the trainer runs 'salun'"):
        SalUnTrainer(
            model=tiny_linear(),
            args=UnlearnConfig(method="finetune", **quiet_args(tmp_path)),
            forget_dataset=FORGET,
            retain_dataset=RETAIN,
        )


def test_bad_hyper_parameters_are_rejected(tmp_path):
    with pytest.raises(MubenchError, match=r"mask_ratio must be in \(0, 1\]"):
        SalUnConfig(output_dir=str(tmp_path), mask_ratio=1.5)
    with pytest.raises(MubenchError, match="pair_anchor"):
        UnlearnConfig(output_dir=str(tmp_path), method="grad_diff", pair_anchor="both")


def test_retrain_refuses_a_peft_model(tmp_path):
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(tiny_linear(), LoraConfig(r=2, target_modules=["linear"]))
    with pytest.raises(MubenchError, match="retrain.*PeftModel"):
        make("retrain", tmp_path, model=model)


def test_a_method_without_its_own_config_inherits_its_parent_methods(tmp_path, monkeypatch):
    from mubench_hf.trainers import ScrubTrainer, registry

    monkeypatch.setattr(registry, "SPECS", dict(registry.SPECS))
    monkeypatch.setattr(registry, "METHODS", dict(registry.METHODS))

    class GentleScrubTrainer(ScrubTrainer):
        """SCRUB under another name (a test method): its loss reads ScrubConfig's fields."""

    spec = registry.register_method(
        "gentle_scrub", trainer=GentleScrubTrainer, data_use=ScrubTrainer.data_use, citation="A test, 2024"
    )
    assert spec.config is ScrubConfig and GentleScrubTrainer.config_class is ScrubConfig
    trainer = make("gentle_scrub", tmp_path)
    assert isinstance(trainer, GentleScrubTrainer) and isinstance(trainer.args, ScrubConfig)
    assert trainer.args.kd_temperature == ScrubConfig(output_dir=str(tmp_path)).kd_temperature
    # a direct UnlearnTrainer subclass still gets UnlearnConfig
    assert get_spec("grad_ascent").config is UnlearnConfig

    class NotATrainer:
        pass

    with pytest.raises(MubenchError, match="NotATrainer is not an UnlearnTrainer subclass.*config="):
        registry.register_method("odd", trainer=NotATrainer, data_use=DataUse.FORGET, citation="A test, 2024")


def test_the_report_gets_every_split_given_but_train(tmp_path):
    utility = linear_rows(4, seed=3)  # e.g. a generation task's world_facts
    splits = datasets.DatasetDict(
        {"train": RETAIN, "forget": FORGET, "retain": RETAIN, "test": RETAIN, "world_facts": utility}
    )
    trainer = make("grad_ascent", tmp_path, forget_dataset=None, retain_dataset=None, splits=splits)
    assert sorted(trainer.report_splits()) == ["forget", "retain", "test", "world_facts"]
    assert trainer.report_splits()["world_facts"] is utility
