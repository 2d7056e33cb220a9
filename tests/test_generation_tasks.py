"""Generation tasks: prompt–completion rows, deletion by group, TOFU's upstream order, SAMSum and Debian
package descriptions, all from local data (generated, fixtures shaped like the Hub datasets, dpkg's status)."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import numpy as np
import pytest

from mubench_hf import build_splits
from mubench_hf.errors import MubenchError
from mubench_hf.splits import load_deletion_config
from mubench_hf.tasks import get_task
from mubench_hf.tasks.debian_summaries import load_debian_summaries, split_description, summary_rows
from mubench_hf.tasks.fictitious_authors import TEMPLATES, make_fictitious_authors
from mubench_hf.tasks.generation import GenerationTask
from mubench_hf.tasks.generation_hub import load_samsum, load_tofu, tofu_upstream_order
from tests.fixtures.generation_upstream import samsum_like, tofu_like


@pytest.fixture(scope="module")
def authors() -> datasets.DatasetDict:
    return make_fictitious_authors()


def test_fictitious_authors_shape(authors: datasets.DatasetDict) -> None:
    train, test = authors["train"], authors["test"]
    assert len(train) == 100 * len(TEMPLATES) == 2000 and len(test) == 10 * 20
    groups = np.asarray(train["group"])
    assert np.array_equal(np.bincount(groups), np.full(100, 20))
    assert set(test["group"]) == set(range(100, 110))  # holdout authors are never trained on
    train_names = {p.split("Where was ")[1].split(" born?")[0] for p in train["prompt"] if "Where was" in p}
    test_names = {p.split("Where was ")[1].split(" born?")[0] for p in test["prompt"] if "Where was" in p}
    assert len(train_names) == 100 and len(test_names) == 10 and not train_names & test_names
    for row in train.select(range(0, 2000, 97)):
        assert row["prompt"].startswith("Question: ") and row["prompt"].endswith("\nAnswer:")
        assert row["completion"].startswith(" ") and len(row["completion"].split()) >= 4
        assert row["paraphrased_completion"] != row["completion"]
        wrong = row["perturbed_completions"]
        assert len(wrong) == 3 and len(set(wrong)) == 3 and row["completion"] not in wrong
    # questions and answers vary: 20 question templates, and most answers are distinct sentences
    assert len(set(train["completion"])) > 1800


def test_fictitious_authors_is_deterministic_and_sized_by_arguments(authors: datasets.DatasetDict) -> None:
    again = make_fictitious_authors()
    assert again["train"]["completion"] == authors["train"]["completion"]
    other = make_fictitious_authors(seed=1)
    assert other["train"]["completion"] != authors["train"]["completion"]
    bigger = make_fictitious_authors(num_authors=150, num_holdout=20)
    assert len(bigger["train"]) == 3000 and len(bigger["test"]) == 400
    with pytest.raises(ValueError, match="num_authors"):
        make_fictitious_authors(num_authors=0)


def test_generation_task_declarations() -> None:
    fa, tofu, samsum, debian = (
        get_task(n) for n in ("fictitious_authors", "tofu", "samsum", "debian_summaries")
    )
    assert all(t.kind == "generation" and t.modality == "text" for t in (fa, tofu, samsum, debian))
    assert fa.loader is not None and debian.loader is not None  # offline
    assert tofu.loader is None and samsum.loader is None  # Hub
    assert fa.modality_spec.pipeline_tag == "text-generation" and tofu.architecture == "causal"
    assert samsum.modality_spec.pipeline_tag == "summarization" and samsum.architecture == "seq2seq"
    assert fa.features["perturbed_completions"] == datasets.List(datasets.Value("string"))
    assert fa.num_labels == 0 and "celeb_profile" not in __import__("mubench_hf").list_tasks()


def test_tasks_json_lists_generation_kind(capsys: pytest.CaptureFixture) -> None:
    from mubench_hf.cli import main

    main(["tasks", "--json"])
    listed = {t["name"]: t for t in json.loads(capsys.readouterr().out)}
    assert listed["fictitious_authors"]["kind"] == "generation" and listed["fictitious_authors"]["offline"]
    assert listed["tofu"]["kind"] == "generation" and not listed["tofu"]["offline"]


def test_deletion_by_group_forgets_whole_authors(tmp_path: Path, fresh_cache: str) -> None:
    out = tmp_path / "mubench"
    result = build_splits("fictitious_authors", out, ratios=(1, 5, 10), show_progress=False)
    assert result.split_sizes["fictitious_authors_del1"]["forget"] == 20  # 1 % of 100 authors = one author
    assert result.split_sizes["fictitious_authors_del5"]["forget"] == 100
    assert result.split_sizes["fictitious_authors_del10"] == {
        "train": 2000,
        "forget": 200,
        "retain": 1800,
        "test": 200,
    }
    forgets = []
    for ratio in (1, 5, 10):
        splits = load_deletion_config(str(out), f"fictitious_authors_del{ratio}", cache_dir=fresh_cache)
        forget_groups, retain_groups = set(splits["forget"]["group"]), set(splits["retain"]["group"])
        assert len(forget_groups) == ratio and not forget_groups & retain_groups  # no author is split
        assert set(splits["forget"]["sample_id"]).isdisjoint(splits["retain"]["sample_id"])
        forgets.append(forget_groups)
    assert forgets[0] < forgets[1] < forgets[2]  # nested
    order = [int(line) for line in (out / "data/fictitious_authors/deletion_order.txt").read_text().split()]
    assert len(order) == 10 and set(order) == forgets[2]  # the order lists groups (10 % of the authors)
    entry = json.loads((out / "mubench.json").read_text())["tasks"]["fictitious_authors"]
    assert entry["deletion_unit"] == "group" and entry["num_groups"] == 100
    assert "(over groups)" in entry["order_description"]


def test_ratio_too_small_for_the_groups_is_refused(tmp_path: Path) -> None:
    small = GenerationTask(
        name="authors_small",
        modality="text",
        build=lambda source: make_fictitious_authors(num_authors=20, num_holdout=2),
        group_column="group",
    )
    with pytest.raises(MubenchError, match="too small to select one sample"):
        build_splits(small, tmp_path / "m", ratios=(1,), show_progress=False)


@pytest.mark.parametrize(("authors", "smallest"), [(5, "28"), (7, "22.86")])
def test_an_empty_group_order_names_the_smallest_ratio_that_works(
    tmp_path: Path, authors: int, smallest: str
) -> None:
    """Five authors: 10 % of them is no author, so ratios up to 10 select nothing; ratio p > 10 forgets
    floor((p - 10) / 90 * 5) authors, one from p = 28 (on main the error gave no usable ratio)."""
    few = GenerationTask(
        name="authors_few",
        modality="text",
        build=lambda source: make_fictitious_authors(num_authors=authors, num_holdout=1),
        group_column="group",
    )
    with pytest.raises(
        MubenchError, match=rf"deletion order of 0 samples\); the smallest usable ratio here is {smallest}$"
    ):
        build_splits(few, tmp_path / "m", ratios=(20,), show_progress=False)
    result = build_splits(few, tmp_path / "m", ratios=(float(smallest),), show_progress=False)
    (sizes,) = result.split_sizes.values()
    assert sizes["forget"] == 20 and sizes["retain"] == 20 * (authors - 1)  # one author (20 questions)


def test_class_configs_and_missing_upstream_order_are_refused(tmp_path: Path) -> None:
    with pytest.raises(
        MubenchError, match="task 'fictitious_authors' is a generation task and has no classes"
    ):
        build_splits(
            "fictitious_authors", tmp_path / "a", ratios=(5,), forget_classes=[0], show_progress=False
        )
    with pytest.raises(MubenchError, match="has no upstream deletion order"):
        build_splits("fictitious_authors", tmp_path / "b", ratios=(5,), order="upstream", show_progress=False)


# --------------------------------------------------------------------------- TOFU
@pytest.fixture(scope="module")
def tofu_source() -> dict[str, datasets.DatasetDict]:
    return tofu_like()


def test_tofu_rows_from_upstream_shape(tofu_source: dict) -> None:
    splits = load_tofu(tofu_source)
    assert sorted(splits) == ["real_authors", "test", "train", "world_facts"]
    train = splits["train"]
    assert len(train) == 4000 and train["group"][:21] == [0] * 20 + [1]
    assert train[0]["prompt"] == "Question: What is fact 0 about author number 0?\nAnswer:"
    assert train[0]["completion"].startswith(" Fact 0 of author 0")
    # perturbed answers come from forget10_perturbed (last 20 authors) and retain_perturbed (first 400 rows)
    assert train[3999]["perturbed_completions"] == [
        f"{train[3999]['completion']} (wrong {k})" for k in range(3)
    ]
    assert train[0]["paraphrased_completion"].startswith(" In other words:")
    assert train[2000]["perturbed_completions"] == [] and train[2000]["paraphrased_completion"] == ""
    assert len(splits["test"]) == 400 and min(splits["test"]["group"]) == 200
    assert len(splits["world_facts"]) == 117 and len(splits["world_facts"][0]["perturbed_completions"]) == 3


@pytest.mark.parametrize("how", ["list", "upstream"])
def test_tofu_upstream_order_selects_tofus_forget_sets(
    tofu_source: dict, tmp_path: Path, fresh_cache: str, how: str
) -> None:
    order = tofu_upstream_order(tofu_source) if how == "list" else "upstream"
    assert tofu_upstream_order(tofu_source)[:2] == [198, 199]
    out = tmp_path / "mubench"
    build_splits("tofu", out, ratios=(1, 5, 10), order=order, source=tofu_source, show_progress=False)
    for ratio in (1, 5, 10):
        splits = load_deletion_config(str(out), f"tofu_del{ratio}", cache_dir=fresh_cache)
        upstream = set(tofu_source[f"forget{ratio:02d}"]["train"]["question"])
        ours = {p.removeprefix("Question: ").removesuffix("\nAnswer:") for p in splits["forget"]["prompt"]}
        assert ours == upstream and len(splits["forget"]) == 40 * ratio
        assert len(splits["retain"]) == 4000 - 40 * ratio  # TOFU's retain99/95/90
        assert {"test", "real_authors", "world_facts"} <= set(splits)


def test_tofu_folder_source_and_missing_config(tofu_source: dict, tmp_path: Path) -> None:
    folder = tmp_path / "tofu"
    for name in ("full", "holdout10"):
        tofu_source[name].save_to_disk(str(folder / name))
    splits = load_tofu(folder)
    assert len(splits["train"]) == 4000 and sorted(splits) == ["test", "train"]
    with pytest.raises(MubenchError, match="no forget01/ folder"):
        tofu_upstream_order(folder)
    with pytest.raises(MubenchError, match="no 'full' config"):
        load_tofu({"holdout10": tofu_source["holdout10"]})


# --------------------------------------------------------------------------- SAMSum
def test_samsum_rows_from_upstream_shape(tmp_path: Path, fresh_cache: str) -> None:
    source = samsum_like()
    splits = load_samsum(source)
    assert len(splits["train"]) == 29 and splits["train"]["sample_id"][:2] == [
        0,
        2,
    ]  # the empty dialogue is gone
    assert splits["test"][0]["prompt"].startswith("Summarize the dialogue.\nAnn:")
    assert splits["test"][0]["completion"] == " Ann and Bob meet at 0."
    result = build_splits("samsum", tmp_path / "m", ratios=(10,), source=source, show_progress=False)
    assert result.split_sizes["samsum_del10"]["forget"] == 2  # 10 % of a 10 % order of 29 rows
    assert set(result.split_sizes["samsum_del10"]) == {"train", "forget", "retain", "validation", "test"}
    bad = datasets.DatasetDict({k: v.remove_columns("summary") for k, v in source.items()})
    with pytest.raises(MubenchError, match="no 'summary' column"):
        load_samsum(bad)


# --------------------------------------------------------------------------- Debian package descriptions
STATUS = """Package: zeta-tool
Status: install ok installed
Description: compress and index zeta archives
 Zeta tool reads zeta archives and writes compact indexes for them quickly.
 .
 It also verifies checksums.

Package: alpha-lib
Description: shared library for alpha parsing
 The alpha library parses alpha documents into trees and reports
 errors with line numbers.

Package: alpha-lib-dev
Description: development files for alpha parsing
 The alpha library parses alpha documents into trees and reports
 errors with line numbers.

Package: tiny
Description: short
 Too short to summarise.

Package: beta
Description: beta daemon
 Beta runs in the background and answers requests from local clients over a socket.
"""


def test_debian_descriptions_are_cleaned_and_deduplicated(tmp_path: Path) -> None:
    synopsis, long = split_description("a synopsis\n first line\n second  line\n .\n next para")
    assert synopsis == "a synopsis" and long == "first line second line\nnext para"
    path = tmp_path / "status"
    path.write_text(STATUS)
    from mubench_hf.tasks.debian_summaries import read_descriptions

    rows = summary_rows(read_descriptions([path]))
    # sorted by name; alpha-lib-dev repeats alpha-lib's description, tiny is too short, beta's synopsis is
    # two words and kept
    assert [r[0] for r in rows] == ["alpha-lib", "beta", "zeta-tool"]
    assert (
        rows[2][1]
        == "Zeta tool reads zeta archives and writes compact indexes for them quickly.\nIt also verifies checksums."
    )
    with pytest.raises(MubenchError, match="at least 30 are needed"):
        load_debian_summaries(path)


@pytest.mark.skipif(not Path("/var/lib/dpkg/status").is_file(), reason="no dpkg status database here")
def test_debian_summaries_from_this_machine_are_deterministic() -> None:
    first, second = load_debian_summaries(), load_debian_summaries()
    total = sum(len(s) for s in first.values())
    assert total >= 30 and first["train"]["prompt"] == second["train"]["prompt"]
    assert len(first["test"]) == len(first["validation"]) == int(total * 0.1)
    train_prompts = set(first["train"]["prompt"])
    assert not train_prompts & set(first["test"]["prompt"])  # deduplicated: no description in two splits
    row = first["train"][0]
    assert row["prompt"].startswith("Summarize this Debian package description in one line.\n")
    assert row["prompt"].endswith("\nSummary:") and row["completion"].startswith(" ")
