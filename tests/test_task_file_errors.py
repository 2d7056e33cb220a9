"""Bad task files fail with the file, the key and what it may hold, before anything is written; labels map
onto the class names by name (or are re-indexed) or are refused naming the unknown ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mubench_hf.errors import MubenchError
from tests.cli_harness import assert_clean_error, run_cli
from tests.test_task_files import forget_file_tasks, write_reviews_csv  # noqa: F401  (a fixture)


def test_string_labels_map_by_name_and_a_classlabel_in_another_order_is_reindexed(tmp_path: Path) -> None:
    import datasets

    from mubench_hf.tasks.file_task import label_ids

    strings = datasets.Dataset.from_dict({"label": ["b", "a", "b", "c"]})
    assert label_ids(strings, ("c", "b", "a"), "split 'train'", "t")["label"] == [1, 2, 1, 0]
    feature = datasets.Features({"label": datasets.ClassLabel(names=["a", "b", "c"])})
    indexed = datasets.Dataset.from_dict({"label": [0, 1, 2]}, features=feature)
    assert label_ids(indexed, ("c", "b", "a"), "split 'train'", "t")["label"] == [2, 1, 0]
    with pytest.raises(MubenchError, match=r"labels \['d'\] that are not among the class names"):
        label_ids(datasets.Dataset.from_dict({"label": ["a", "d"]}), ("a", "b"), "split 'train'", "t")


BAD_TASK_FILES = [
    ({"colour": 1}, ["unknown key(s) ['colour']", "known keys: name, modality"]),
    ({"name": None}, ["name is missing"]),
    ({"modality": "smell"}, ["modality must be one of", "'image'", "'smell'"]),
    ({"hub": "user/data"}, ["exactly one of hub, files, folder", "['hub', 'files']"]),
    ({"files": "data/missing.csv"}, ["files.train names 'data/missing.csv', which does not exist"]),
    ({"files": "data/reviews.txt"}, ["format cannot be told", "'csv'"]),
    (
        {"files": "data/reviews.txt", "format": "parquet"},
        ["the parquet files", "did not load", "format ('parquet')"],
    ),
    ({"validation_fraction": 1.5}, ["validation_fraction must be a number in (0.0, 1.0)", "1.5"]),
    ({"class_names": ["only"]}, ["class_names must be a list of at least two names"]),
    ({"splits": {"dev": "x"}}, ["splits has the key 'dev'", "['train', 'validation', 'test']"]),
    ({"kind": "regression"}, ["kind must be one of ['classification', 'generation']"]),
    ({"input_column": ["a", "b"]}, ["input_column must be a column name for text tasks"]),
    ({"revision": "main"}, ["revision only applies to a hub source"]),
    (
        {"kind": "generation"},
        ["input_column only applies to classification tasks (this one's kind is generation)"],
    ),
    ({"prompt_column": "q"}, ["prompt_column only applies to generation tasks"]),
    (
        {"kind": "generation", "modality": "image", "input_column": None, "label_column": None},
        ["modality must be text for a generation task"],
    ),
    ({"split_seed": -1}, ["split_seed must be an integer >= 0"]),
    ({"class_names": ["happy", "sad"]}, ["labels ['negative', 'positive'] that are not among"]),
    ({"label_column": "stars"}, ["no label column 'stars'", "'sentiment'"]),
    (
        {"input_column": "body", "class_names": ["negative", "positive"]},
        ["no column 'body' (text)", "'sentence'"],
    ),
]


@pytest.mark.usefixtures("forget_file_tasks")
@pytest.mark.parametrize(("change", "needles"), BAD_TASK_FILES, ids=[str(c) for c, _ in BAD_TASK_FILES])
def test_bad_task_files_name_the_key_and_what_it_may_hold(tmp_path: Path, capsys, change, needles) -> None:
    write_reviews_csv(tmp_path / "data" / "reviews.csv", rows=40)
    (tmp_path / "data" / "reviews.txt").write_text("x")
    values = {"name": "bad", "modality": "text", "files": "data/reviews.csv", "input_column": "sentence",
              "label_column": "sentiment", **change}  # fmt: skip
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({k: v for k, v in values.items() if v is not None}))
    result = run_cli(
        ["build-splits", "--task", str(path), "--output", str(tmp_path / "out"), "--quiet"], capsys
    )
    assert_clean_error(result, *needles)
    assert not (tmp_path / "out").exists()


def test_a_task_file_that_does_not_exist_or_is_not_a_mapping_is_refused(tmp_path: Path, capsys) -> None:
    result = run_cli(["build-splits", "--task", str(tmp_path / "nope.yaml"), "--quiet"], capsys)
    assert_clean_error(result, "nope.yaml does not exist")
    listed = tmp_path / "list.yaml"
    listed.write_text("- name: x\n")
    assert_clean_error(run_cli(["tasks", "--task-file", str(listed)], capsys), "must hold a mapping")
