"""The generation report's reuse and bounds, on tiny GPT-2s built from configs: the original and retrain
models' generations and answer statistics are computed once per process (and read back exactly from a
cache folder), prompts are tokenised once per report whatever the number of models, and ``max_eval_rows``
scores every model on the same seeded rows, recorded in ``unlearning_results.json``."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from transformers import Trainer, TrainingArguments

from mubench_hf.evaluation import evaluate_unlearning
from mubench_hf.evaluation.eval_sample import sample_positions
from mubench_hf.kinds.generation import reference_scores as reference_module
from mubench_hf.kinds.generation import report as report_module
from mubench_hf.kinds.generation.report import generation_report
from mubench_hf.kinds.reference_cache import REFERENCE_CACHE, directory
from tests.test_generation_report import NAMES, make_tokenizer, qa_rows, tiny_gpt2

pytestmark = pytest.mark.usefixtures("one_torch_thread", "fresh_reference_cache")


@pytest.fixture(scope="module")
def splits():
    return {
        "forget": qa_rows(NAMES[:2], 0),
        "retain": qa_rows(NAMES[2:6], 100),
        "holdout": qa_rows(NAMES[8:], 200),
    }


@pytest.fixture(scope="module")
def tokenizer(splits):
    return make_tokenizer(splits)


@pytest.fixture
def scored(monkeypatch) -> list[tuple[str, tuple[int, ...]]]:
    """Every ``score_split`` pass, the unlearned model's and the references': (model tag, sample ids)."""
    calls: list[tuple[str, tuple[int, ...]]] = []
    real = report_module.score_split

    def counted(model, tokenizer, encoder, split, **kw):
        # a model made here carries its tag; one the report loaded from a folder is named by its folder
        tag = model.__dict__.get("tag") or Path(model.config._name_or_path).name
        calls.append((tag, tuple(split["sample_id"])))
        return real(model, tokenizer, encoder, split, **kw)

    monkeypatch.setattr(report_module, "score_split", counted)
    monkeypatch.setattr(reference_module, "score_split", counted)
    return calls


def models(tokenizer, *tags: str) -> list:
    out = []
    for seed, tag in enumerate(tags):
        model = tiny_gpt2(len(tokenizer), seed=seed)
        model.tag = tag
        out.append(model)
    return out


def report(model, tokenizer, splits, original, retrain, **kw):
    return generation_report(model, tokenizer, splits, original_model=original, retrain_model=retrain,
                             holdout_split="holdout", batch_size=4, max_new_tokens=6, progress=False, **kw)  # fmt: skip


def test_reference_values_are_computed_once_per_process(tokenizer, splits, scored, fresh_reference_cache):
    cell1, cell2, original, retrain = models(tokenizer, "cell1", "cell2", "original", "retrain")
    first = report(cell1, tokenizer, splits, original, retrain)
    # the original model on every split, the retrain model on forget and holdout
    assert (
        sorted(tag for tag, _ in scored if tag in ("original", "retrain"))
        == ["original"] * 3 + ["retrain"] * 2
    )
    second = report(cell2, tokenizer, splits, original, retrain)  # another cell: the same references
    assert [tag for tag, _ in scored[8:]] == ["cell2"] * 3
    assert fresh_reference_cache.hits["generation_scores"] == 5
    assert {k: v for k, v in second.items() if k.startswith("original_")} == {
        k: v for k, v in first.items() if k.startswith("original_")
    }
    # served values are the values: a report computed from scratch gives the same numbers
    fresh_reference_cache.clear()
    assert report(cell2, tokenizer, splits, original, retrain) == second


def test_reference_values_read_back_exactly_from_a_cache_folder(tokenizer, splits, scored, tmp_path):
    cell, original, retrain = models(tokenizer, "cell", "original", "retrain")
    with directory(tmp_path):
        first = report(cell, tokenizer, splits, original, retrain)
        REFERENCE_CACHE.clear()  # as a new process would start
        second = report(cell, tokenizer, splits, original, retrain)
    assert (
        REFERENCE_CACHE.computed["generation_scores"] == 0 and REFERENCE_CACHE.hits["generation_scores"] == 5
    )
    assert len(list(tmp_path.glob("generation_scores-*.npz"))) == 5
    assert second == first


def test_prompts_are_tokenised_once_per_report(tokenizer, splits, monkeypatch):
    encoded: list[str] = []  # every text the tokenizer encodes, whether it is asked one or a list at a time
    real = type(tokenizer).__call__

    def counted(self, text, *args, **kwargs):
        encoded.extend([text] if isinstance(text, str) else list(text))
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(type(tokenizer), "__call__", counted)
    cell, original, retrain = models(tokenizer, "cell", "original", "retrain")
    report(cell, tokenizer, splits, original, retrain)
    # three models read the splits, but each prompt and each scored answer (true, paraphrased, three
    # perturbed; the holdout's true answer only) is tokenised once
    prompts = sum(len(s) for s in splits.values())
    answers = sum(len(s) * (1 if name == "holdout" else 5) for name, s in splits.items())
    assert len(encoded) == prompts + answers


def test_max_eval_rows_scores_every_model_on_the_same_rows(tokenizer, tmp_path, scored):
    splits = {
        "forget": qa_rows(NAMES[:3], 0),
        "retain": qa_rows(NAMES[3:8], 100),
        "test": qa_rows(NAMES[8:], 200),
    }
    cell, original, retrain = models(tokenizer, "cell", "original", "retrain")
    original.save_pretrained(tmp_path / "original")
    retrain.save_pretrained(tmp_path / "retrain")
    args = TrainingArguments(output_dir=str(tmp_path / "out"), use_cpu=True, report_to="none", seed=0,
                             per_device_eval_batch_size=4, disable_tqdm=True)  # fmt: skip
    trainer = Trainer(model=cell, args=args, processing_class=tokenizer)
    trainer.objective = SimpleNamespace(kind="generation")
    metrics = evaluate_unlearning(
        trainer, splits, retrain=tmp_path / "retrain", base_model=tmp_path / "original",
        output_dir=tmp_path / "out", generation={"max_new_tokens": 4}, max_eval_rows=3, eval_sample_seed=7,
    )  # fmt: skip
    expected = {
        name: tuple(split["sample_id"][int(p)] for p in sample_positions(len(split), 3, 7, name))
        for name, split in splits.items()
    }
    by_split = {ids: name for name, ids in expected.items()}
    seen = {(tag, by_split.get(ids, "other rows")) for tag, ids in scored}
    assert seen == {
        ("cell", "forget"), ("cell", "retain"), ("cell", "test"),
        ("original", "forget"), ("original", "retain"), ("original", "test"),
        ("retrain", "forget"), ("retrain", "test"),
    }  # fmt: skip
    saved = json.loads((tmp_path / "out" / "unlearning_results.json").read_text())
    assert saved["eval_sample"]["seed"] == 7 and saved["eval_sample"]["max_eval_rows"] == 3
    assert {name: r["rows"] for name, r in saved["eval_sample"]["splits"].items()} == {
        "forget": 3, "retain": 3, "test": 3,
    }  # fmt: skip
    generated = [
        json.loads(line) for line in (tmp_path / "out" / "generations.jsonl").read_text().splitlines()
    ]
    assert sorted(g["sample_id"] for g in generated if g["split"] == "forget") == sorted(expected["forget"])
    assert metrics["eval_sample"] == saved["eval_sample"]
