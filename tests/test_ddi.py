"""The ddi task (DDI-2013) from documents shaped like bigbio/ddi_corpus's parquet conversion (never the Hub):
sentences, entity pairs, @DRUG$ masking, labels in MU-Bench's order, the carved validation split."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest

from mubench_hf import MubenchError, build_splits, get_task
from mubench_hf.kinds import kind_of
from mubench_hf.tasks.ddi import (
    DDI_CLASS_NAMES,
    DDI_MASK,
    document_pairs,
    mark_pair,
    relation_label,
    sentence_spans,
)
from tests.fixtures.ddi import ddi_corpus_like, ddi_document, ddi_parquet_folder


def test_the_task_is_registered_with_mubench_label_order() -> None:
    task = get_task("ddi")
    assert task.modality == "text" and task.hub.repo_id == "bigbio/ddi_corpus"
    assert task.hub.revision == "refs/convert/parquet" and task.hub.config_name == "ddi_corpus_source"
    # MU-Bench's load_ddi2013: DDI-false 0, mechanism 1, advise 2, effect 3, int 4
    assert task.class_names == ("DDI-false", "DDI-mechanism", "DDI-advise", "DDI-effect", "DDI-int")
    assert task.validation_split == "validation" and task.loader is None


def test_sentences_are_cut_at_lines_and_sentence_ends_but_never_inside_an_entity() -> None:
    text = "Aspirin binds. Warfarin too.\nNo. X. Y is fine"
    assert [text[a:b] for a, b in sentence_spans(text, [])] == [
        "Aspirin binds.", "Warfarin too.", "No.", "X.", "Y is fine",
    ]  # fmt: skip
    # an entity spanning "No. X" keeps those two together
    start = text.index("No.")
    spans = sentence_spans(text, [(start, start + 5)])
    assert [text[a:b] for a, b in spans] == ["Aspirin binds.", "Warfarin too.", "No. X.", "Y is fine"]


def test_pairs_are_masked_or_marked_and_must_be_disjoint() -> None:
    sentence = "Use of aspirin with warfarin is risky."
    first, second = (7, 14), (20, 28)
    assert mark_pair(sentence, first, second) == f"Use of {DDI_MASK} with {DDI_MASK} is risky."
    assert mark_pair(sentence, first, second, mode="markers") == (
        "Use of [E1] aspirin [/E1] with [E2] warfarin [/E2] is risky."
    )
    with pytest.raises(MubenchError, match="two disjoint spans in order"):
        mark_pair(sentence, (7, 22), (20, 28))
    with pytest.raises(MubenchError, match="mode must be 'mask' or 'markers'"):
        mark_pair(sentence, first, second, mode="bold")


def test_relation_types_in_any_case_and_unknown_ones_named() -> None:
    assert [relation_label(k, "x") for k in ("MECHANISM", "advise", "DDI-effect", "Int")] == [1, 2, 3, 4]
    with pytest.raises(MubenchError, match="type 'synergy'; DDI-2013's are"):
        relation_label("synergy", "document 'd1'")


def test_every_entity_pair_of_a_sentence_is_a_row_labelled_either_direction() -> None:
    rows, skipped = document_pairs(ddi_document(0))
    assert skipped == 0 and len(rows) == 9  # 3 sentences x 3 pairs
    assert [r["label"] for r in rows] == [3, 0, 0, 1, 0, 0, 2, 0, 0]  # effect / mechanism / advise
    assert (
        rows[0]["text"]
        == f"Concomitant use of {DDI_MASK} and {DDI_MASK} increases the risk of bleeding with digoxin."
    )
    assert (rows[0]["e1_id"], rows[0]["e2_id"]) == ("T1", "T2") and rows[3]["e1_id"] == "T4"
    # document 1's relations run tail → head; they label the same unordered pairs
    rows1, _ = document_pairs(ddi_document(1))
    assert [r["label"] for r in rows1[:3]] == [1, 0, 0]
    assert all(r["text"].count(DDI_MASK) == 2 for r in rows + rows1)


def test_overlapping_mentions_are_skipped_and_bad_annotations_refused() -> None:
    doc = {
        "document_id": "d",
        "text": "Calcium carbonate and iron interact.",
        "entities": [
            {"offsets": [0, 17], "text": "Calcium carbonate", "type": "DRUG", "id": "T1"},
            {"offsets": [0, 7], "text": "Calcium", "type": "DRUG", "id": "T2"},
            {"offsets": [22, 26], "text": "iron", "type": "DRUG", "id": "T3"},
        ],
        "relations": [{"id": "R1", "head": {"ref_id": "T1", "role": "Arg1"},
                       "tail": {"ref_id": "T3", "role": "Arg2"}, "type": "INT"}],
    }  # fmt: skip
    rows, skipped = document_pairs(doc)
    assert skipped == 1 and [(r["e1_id"], r["e2_id"], r["label"]) for r in rows] == [
        ("T2", "T3", 0), ("T1", "T3", 4),
    ]  # fmt: skip
    bad = {**doc, "relations": [{**doc["relations"][0], "tail": {"ref_id": "T9", "role": "Arg2"}}]}
    with pytest.raises(MubenchError, match="names unknown entities"):
        document_pairs(bad)
    with pytest.raises(MubenchError, match="has offsets"):
        document_pairs({**doc, "entities": [{**doc["entities"][0], "offsets": [5, 99]}]})


def test_build_splits_from_the_parquet_layout(tmp_path: Path, fresh_cache: str) -> None:
    source = ddi_parquet_folder(tmp_path / "ddi_corpus_source", {"train": 20, "test": 5})
    result = build_splits("ddi", tmp_path / "repo", ratios=(10,), source=source, show_progress=False)
    # 20 train documents: 2 (10 %, seeded) become validation; 9 pairs per document
    assert result.split_sizes["ddi_del10"] == {
        "train": 162, "forget": 16, "retain": 146, "validation": 18, "test": 45,
    }  # fmt: skip
    splits = datasets.load_dataset(str(tmp_path / "repo"), "ddi_del10", cache_dir=fresh_cache)
    assert splits["train"].features["label"].names == list(DDI_CLASS_NAMES)
    assert set(splits["train"].column_names) == {"text", "label", "sample_id"}
    assert all(t.count(DDI_MASK) == 2 for t in splits["test"]["text"])
    labels = set(splits["train"]["label"]) | set(splits["validation"]["label"])
    assert labels == {0, 1, 2, 3, 4}
    # validation documents are held out whole: no document gives rows to both
    raw = get_task("ddi")._load_raw(source)
    held = set(raw["validation"]["document_id"])
    assert len(held) == 2 and not held & set(raw["train"]["document_id"])
    assert len(raw["train"]) == 162 and set(raw["train"]["document_id"]) | held == {
        f"DDI-DrugBank.d{i}" for i in range(20)
    }


def test_a_source_with_pairs_already_is_taken_with_named_labels() -> None:
    pairs = datasets.DatasetDict(
        {
            split: datasets.Dataset.from_dict(
                {
                    "text": [f"{DDI_MASK} with {DDI_MASK}"] * 5,
                    "label": ["DDI-false", "DDI-mechanism", "advise", "DDI-effect", "int"],
                }
            )  # fmt: skip
            for split in ("train", "validation", "test")
        }
    )
    data = get_task("ddi").load(source=pairs)
    assert data["train"]["label"] == [0, 1, 2, 3, 4]
    assert data["train"].features["label"].names == list(DDI_CLASS_NAMES)


def test_documents_without_the_schema_are_refused() -> None:
    wrong = ddi_corpus_like({"train": 3, "test": 2})
    wrong = datasets.DatasetDict({k: v.remove_columns("relations") for k, v in wrong.items()})
    with pytest.raises(MubenchError, match=r"not shaped like bigbio/ddi_corpus .*lacks \['relations'\]"):
        get_task("ddi").load(source=wrong)


def test_tiny_models_get_a_tokenizer_that_keeps_the_words() -> None:
    task = get_task("ddi")
    tokenizer = kind_of(task).load_processor(task, "tiny:bert", None)
    tokens = tokenizer.tokenize(f"Concomitant use of {DDI_MASK} and {DDI_MASK} increases the risk.")
    assert tokens[:4] == ["concomitant", "use", "of", "@"] and "[UNK]" not in tokens
    assert len(tokenizer) <= 1000  # the tiny BERT's vocabulary


def test_a_tiny_model_trains_on_the_pairs(tmp_path: Path, one_torch_thread: None) -> None:
    from mubench_hf.reference_models import RecipeArguments, train_base
    from mubench_hf.tasks.ddi import DDI_TINY_WORDS
    from mubench_hf.tasks.go_relations import tiny_tokenizer

    source = ddi_parquet_folder(tmp_path / "ddi_corpus_source", {"train": 10, "test": 3})
    repo = tmp_path / "repo"
    build_splits("ddi", repo, ratios=(10,), source=source, show_progress=False)
    recipe = RecipeArguments(output_dir=str(tmp_path / "base"), num_train_epochs=1, disable_tqdm=True)
    result = train_base(str(repo), "ddi", "tiny:bert", tmp_path / "base", args=recipe,
                        cache_dir=str(tmp_path / "c"), quiet=True)  # fmt: skip
    assert 0.0 <= result["test_accuracy"] <= 1.0 and 0.0 <= result["validation_accuracy"] <= 1.0
    from transformers import AutoTokenizer

    saved = AutoTokenizer.from_pretrained(str(tmp_path / "base"))
    assert saved.get_vocab() == tiny_tokenizer(DDI_TINY_WORDS).get_vocab()
