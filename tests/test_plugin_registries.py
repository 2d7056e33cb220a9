"""The metric declarations and the plugin registries in one process: every report key is declared (or
derived from a declared metric), the built-in outputs keep their columns, a declared metric is computed
by the report and shown by the card and the leaderboards, and entry points of each group are loaded once,
a broken one named in a warning."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from mubench_hf import plugins
from mubench_hf.errors import MubenchError
from mubench_hf.metrics import compute_unlearning_metrics, declarations, register_metric
from mubench_hf.metrics.declarations import metric_label, metric_spec, metric_split


@pytest.fixture
def isolated(monkeypatch):
    """Registries as they are now, restored after the test; every plugin group loads again."""
    from mubench_hf.modalities import base as modalities
    from mubench_hf.tasks import registry as tasks
    from mubench_hf.trainers import registry as methods

    declarations.ensure_loaded()
    monkeypatch.setattr(declarations, "_SPECS", {k: dict(v) for k, v in declarations._SPECS.items()})
    monkeypatch.setattr(tasks, "TASKS", dict(tasks.TASKS))
    monkeypatch.setattr(tasks, "PLUGIN_SOURCES", {})
    monkeypatch.setattr(modalities, "_MODALITIES", dict(modalities._MODALITIES))
    monkeypatch.setattr(methods, "SPECS", dict(methods.SPECS))
    monkeypatch.setattr(methods, "METHODS", dict(methods.METHODS))
    monkeypatch.setattr(plugins, "_LOADED", set())
    monkeypatch.setattr(plugins, "PLUGIN_ERRORS", {})
    return tasks


def report_inputs(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    sizes = {"forget": 20, "retain": 60, "test": 40, "validation": 30}
    logits = {s: rng.normal(size=(n, 4)) for s, n in sizes.items()}
    labels = {s: rng.integers(0, 4, size=n) for s, n in sizes.items()}
    retrain = {s: rng.normal(size=(n, 4)) for s, n in sizes.items()}
    return dict(logits=logits, labels=labels, retrain_logits=retrain,
                random_teacher_logits=rng.normal(size=(20, 4)), original_test_accuracy=0.9)  # fmt: skip


def install(root: Path, dist: str, module: str, source: str, entry_points: str) -> None:
    root.mkdir(exist_ok=True)
    (root / f"{module}.py").write_text(source)
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)


# --------------------------------------------------------------------------- the declarations
def test_every_key_of_the_classification_report_has_a_declared_label():
    metrics = compute_unlearning_metrics(**report_inputs(), method="salun")
    undeclared = [key for key in metrics if metric_label(key) == key]
    assert not undeclared, f"declare these in mubench_hf/metrics/catalog_classification.py: {undeclared}"
    assert metric_split("retrain_forget_accuracy_ci_low") == "forget"
    assert metric_label("retrain_forget_accuracy_ci_low") == (
        "Forget accuracy of the retrained model (95 % interval, lower bound)"
    )
    assert metric_label("gap_mia_efficacy") == "Gap to retrain in mia efficacy"
    assert metric_split("gap_mia_efficacy") is None and metric_split("gap_to_retrain") is None
    # one name, two kinds, two definitions
    assert metric_split("mia_loss_auc") == "retain" and metric_split("mia_loss_auc", "generation") == "forget"
    assert "TOFU" in metric_spec("forget_quality", "generation").reference
    assert metric_spec("forget_quality", "generation").module == "tofu_forget_quality"


def test_the_leaderboards_keep_their_columns_for_the_built_in_metrics():
    from mubench_hf.hub.leaderboard import metric_columns
    from mubench_hf.sweeps.outputs import table_columns

    assert metric_columns() == [
        "mubench_score", "gap_to_retrain", "forget_accuracy", "retain_accuracy", "test_accuracy",
        "mia_efficacy", "knowledge_gap", "zrf", "forget_quality", "model_utility", "forget_rouge_l",
        "retain_rouge_l", "truth_ratio", "privleak",
        # the text-to-image report (catalogued before MUSE's and the attacks)
        "unlearning_accuracy", "in_domain_retain_accuracy", "fid_classifier_features",
        # MUSE's report
        "verbmem_forget", "knowmem_forget", "knowmem_retain",
        # the attacks on the forgetting (opt-in): the headline forget metric of each kind after each attack
        "forget_accuracy_after_quant8", "forget_accuracy_after_quant4", "forget_accuracy_after_relearn",
        # (a generation task's: forget ROUGE-L, or VerbMem on a MUSE-shaped task)
        "forget_rouge_l_after_quant8", "verbmem_forget_after_quant8", "forget_rouge_l_after_quant4",
        "verbmem_forget_after_quant4", "forget_rouge_l_after_relearn", "verbmem_forget_after_relearn",
        "forget_rouge_l_after_paraphrase", "verbmem_forget_after_paraphrase",  # Df asked in other words
    ]  # fmt: skip
    assert table_columns("classification") == (
        ("forget acc before", "original_forget_accuracy"), ("forget acc", "forget_accuracy"),
        ("retain acc", "retain_accuracy"), ("test acc", "test_accuracy"),
        ("gap to retrain ↓", "gap_to_retrain"), ("MU-Bench score ↑", "mubench_score"),
        ("MIA efficacy", "mia_efficacy"), ("time (s)", "unlearn_time_s"),
    )  # fmt: skip
    assert [title for title, _ in table_columns("generation")] == [
        "forget ROUGE-L before", "forget ROUGE-L", "retain ROUGE-L", "forget quality ↑", "model utility ↑",
        "truth ratio", "PrivLeak", "time (s)",
    ]  # fmt: skip
    assert [title for title, _ in table_columns("image_generation")] == [
        "UA before", "UA", "IRA ↑", "FID (clf) ↓", "gap to retrain ↓", "unlearn_time_fraction_of_retrain", "time (s)",
    ]  # fmt: skip
    assert [title for title, _ in table_columns("generation", muse=True)] == [
        "VerbMem before", "VerbMem", "KnowMem forget", "KnowMem retain ↑", "PrivLeak", "time (s)",
    ]  # fmt: skip


def test_a_declared_metric_is_computed_for_both_models_and_shown_everywhere(isolated):
    from mubench_hf.hub.cards import render_model_card
    from mubench_hf.hub.leaderboard import leaderboard_markdown
    from mubench_hf.hub.leaderboard_page import render_page
    from mubench_hf.sweeps.outputs import table_columns

    @register_metric("forget_entropy", split="forget", label="Forget entropy", higher_is_better=None,
                     reference="a test, 2025", column="forget H")  # fmt: skip
    def forget_entropy(inputs):
        return float(inputs.outputs["forget"].normalised_entropy.mean())

    @register_metric("entropy_gap", split="forget", label="Entropy gap", higher_is_better=False,
                     reference="a test, 2025")  # fmt: skip
    def entropy_gap(inputs):
        if inputs.retrain is None:
            return None  # needs the reference: left out for the retrained model itself
        return abs(forget_entropy(inputs) - float(inputs.retrain["forget"].normalised_entropy.mean()))

    given = report_inputs()
    metrics = compute_unlearning_metrics(**given)
    probs = np.exp(given["logits"]["forget"]) / np.exp(given["logits"]["forget"]).sum(1, keepdims=True)
    expected = float((-(probs * np.log(probs)).sum(1) / np.log(4)).mean())
    assert metrics["forget_entropy"] == pytest.approx(expected)
    assert "retrain_forget_entropy" in metrics and "retrain_entropy_gap" not in metrics
    assert metrics["entropy_gap"] == pytest.approx(abs(expected - metrics["retrain_forget_entropy"]))
    assert metric_spec("forget_entropy").source.startswith("module ")  # defined outside mubench-hf

    card = render_model_card(
        "unlearned", task="digits", config="digits_del5", dataset_repo="org/mubench", dataset_hash=None,
        backbone="tiny:resnet", recipe={}, seed=0, results=metrics, base_model="org/base",
        method="salun", model_name="org/unlearned",
    )  # fmt: skip
    [entry] = [r for r in card.data.eval_results if r.metric_type == "forget_entropy"]
    assert (entry.metric_name, entry.dataset_split) == ("Forget entropy", "forget")
    [retrain_entry] = [r for r in card.data.eval_results if r.metric_type == "retrain_forget_entropy"]
    assert retrain_entry.metric_name == "Forget entropy of the retrained model"

    row = {"task": "digits", "config": "digits_del5", "model": "m", "rank": 1, **metrics}
    header = next(line for line in leaderboard_markdown([row]).splitlines() if line.startswith("| rank"))
    assert header.endswith("| zrf | forget_quality | forget_entropy |")  # after the built-in headline columns
    assert "| entropy_gap |" not in header  # no column declared: in the CSV and on the page only
    assert 'data-column="entropy_gap"' in render_page([row], endpoint="http://hub")
    assert table_columns("classification")[-2:] == (
        ("forget H", "forget_entropy"),
        ("time (s)", "unlearn_time_s"),
    )


def test_a_broken_metric_is_left_out_with_a_warning_and_the_others_stay(isolated):
    @register_metric("raises", split="forget", label="Raises", higher_is_better=None, reference="a test")
    def raises(inputs):
        raise RuntimeError("boom")

    @register_metric("not_a_number", split="forget", label="NaN", higher_is_better=None, reference="a test")
    def not_a_number(inputs):
        return "high"

    with pytest.warns(UserWarning) as caught:
        metrics = compute_unlearning_metrics(**report_inputs())
    text = " ".join(str(w.message) for w in caught)
    assert "'raises'" in text and "RuntimeError: boom" in text and "'not_a_number'" in text
    assert "raises" not in metrics and "not_a_number" not in metrics and "forget_accuracy" in metrics


def test_a_declaration_is_checked_and_declared_once(isolated):
    with pytest.raises(MubenchError, match="already declared.*replace=True"):
        register_metric("forget_accuracy", split="forget", label="Mine", higher_is_better=True,
                        reference="x")(lambda inputs: 0.0)  # fmt: skip
    with pytest.raises(MubenchError, match="kind must be one of"):
        register_metric("new_one", kind="video", split=None, label="x", higher_is_better=True,
                        reference="x")(lambda inputs: 0.0)  # fmt: skip
    with pytest.raises(MubenchError, match="which paper or code"):
        register_metric("new_one", split=None, label="x", higher_is_better=True, reference=" ")(lambda i: 0.0)


# --------------------------------------------------------------------------- entry points
TASK_PLUGIN = """
from mubench_hf.tasks import Task
from mubench_hf.tasks.digits import load_digits_splits

TINY_DIGITS = Task(name="tiny_digits", modality="small_pixels", class_names=tuple("0123456789"),
                   loader=load_digits_splits, validation_split="validation")
CLASHING = Task(name="digits", modality="image", class_names=("a", "b"), loader=load_digits_splits)
"""
MODALITY_PLUGIN = """
from mubench_hf.modalities.image import ImageModality


class SmallPixels(ImageModality):
    name = "small_pixels"
"""


def test_tasks_and_modalities_come_from_their_entry_points_once(isolated, tmp_path, monkeypatch):
    from mubench_hf.modalities import get_modality
    from mubench_hf.tasks import get_task, list_tasks, task_source

    site = tmp_path / "site"
    install(site, "pixels-plugin", "pixels_plugin_modality", MODALITY_PLUGIN,
            "[mubench_hf.modalities]\nsmall_pixels = pixels_plugin_modality:SmallPixels\n")  # fmt: skip
    install(site, "tiny-digits-plugin", "tiny_digits_plugin_task", TASK_PLUGIN,
            "[mubench_hf.tasks]\ntiny_digits = tiny_digits_plugin_task:TINY_DIGITS\n"
            "clash = tiny_digits_plugin_task:CLASHING\nbroken = tiny_digits_plugin_task:MISSING\n")  # fmt: skip
    monkeypatch.syspath_prepend(str(site))
    with pytest.warns(UserWarning) as caught:
        names = list_tasks()
    assert "tiny_digits" in names and "digits" in names
    text = " ".join(str(w.message) for w in caught)
    assert "'clash'" in text and "already registered" in text  # a plugin cannot take a built-in's name
    assert "'broken'" in text and "tiny-digits-plugin" in text
    assert get_task("digits").class_names == tuple(str(i) for i in range(10))  # the built-in stays
    assert task_source("tiny_digits") == "entry point tiny-digits-plugin:tiny_digits"
    assert task_source("digits") == "built in (mubench_hf.tasks.digits)"
    assert get_task("tiny_digits").modality_spec is get_modality("small_pixels")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # loaded once: no second round of warnings
        list_tasks()
        with pytest.raises(KeyError, match="plugin 'broken' failed to load"):
            get_task("no_such_task")


def test_a_broken_modality_plugin_is_named_when_the_name_is_asked_for(isolated, tmp_path, monkeypatch):
    from mubench_hf.modalities import UnknownModalityError, get_modality

    site = tmp_path / "site"
    install(site, "bad-modality", "bad_modality_plugin", "VALUE = 3\n",
            "[mubench_hf.modalities]\nthree = bad_modality_plugin:VALUE\n")  # fmt: skip
    monkeypatch.syspath_prepend(str(site))
    with pytest.warns(UserWarning, match="'three'.*names a Modality"):
        with pytest.raises(UnknownModalityError, match="plugin 'three' failed to load"):
            get_modality("point_cloud")
    assert get_modality("image").name == "image"


def test_a_declared_generation_metric_is_computed_by_the_generation_report(isolated, tmp_path):
    import datasets
    from generation_testlib import qa_rows, tiny_gpt2, tiny_tokenizer

    from mubench_hf.kinds.generation.report import generation_report

    @register_metric("forget_words", kind="generation", split="forget", label="Words generated on Df",
                     higher_is_better=None, reference="a test, 2025")  # fmt: skip
    def forget_words(inputs):
        return float(np.mean([len(text.split()) for text in inputs["outputs"]["forget"].predictions]))

    def split(people: list[int], first_id: int) -> datasets.Dataset:
        rows = qa_rows(people)
        return datasets.Dataset.from_dict(
            {"prompt": [p for p, _ in rows], "completion": [c for _, c in rows],
             "sample_id": list(range(first_id, first_id + len(rows)))}
        )  # fmt: skip

    tokenizer = tiny_tokenizer()
    splits = {"forget": split([0], 0), "retain": split([1, 2], 10)}
    report = generation_report(
        tiny_gpt2(len(tokenizer)), tokenizer, splits, max_new_tokens=4, output_dir=tmp_path, progress=False
    )
    generations = [json.loads(line) for line in (tmp_path / "generations.jsonl").read_text().splitlines()]
    expected = np.mean([len(g["prediction"].split()) for g in generations if g["split"] == "forget"])
    assert report["forget_words"] == pytest.approx(expected)
    assert metric_split("forget_words", "generation") == "forget"
