"""Deletion splits: what load_dataset returns, the storage format, determinism and bad input."""

from __future__ import annotations

import json
import math
import os
import shutil
import stat
from pathlib import Path

import datasets
import numpy as np
import pytest
import yaml

from mubench_hf import MubenchError, build_splits, get_task, read_manifest, verify_repo

DIGITS_TRAIN = 1257
DIGITS_ORDER = int(DIGITS_TRAIN * 0.1)  # 125


def load(repo: Path, config: str, cache: str) -> datasets.DatasetDict:
    return datasets.load_dataset(str(repo), config, cache_dir=cache)


def ids(ds: datasets.Dataset) -> list[int]:
    return list(ds["sample_id"])


def read_order(repo: Path, task: str = "digits") -> list[int]:
    return [int(x) for x in (repo / "data" / task / "deletion_order.txt").read_text().split()]


def test_del5_loads_with_features_and_mubench_sizes(digits_repo: Path, fresh_cache: str) -> None:
    splits = load(digits_repo, "digits_del5", fresh_cache)
    assert set(splits) == {"train", "forget", "retain", "validation", "test"}
    for ds in splits.values():
        assert isinstance(ds.features["image"], datasets.Image)
        assert ds.features["label"].names == [str(i) for i in range(10)]
        assert ds.features["sample_id"] == datasets.Value("int64")
    n_forget = math.floor(5 / 10 * DIGITS_ORDER)
    assert n_forget == 62
    assert (len(splits["train"]), len(splits["forget"]), len(splits["retain"])) == (
        DIGITS_TRAIN,
        62,
        DIGITS_TRAIN - 62,
    )
    assert (len(splits["validation"]), len(splits["test"])) == (180, 360)
    forget, retain, train = set(ids(splits["forget"])), set(ids(splits["retain"])), ids(splits["train"])
    assert not forget & retain
    assert forget | retain == set(train) == set(range(DIGITS_TRAIN))
    assert len(train) == len(set(train))  # every train row exactly once
    # the first 62 of the order (this repo also cuts files by class 3, so compare as sets)
    assert set(ids(splits["forget"])) == set(read_order(digits_repo)[:62])


def test_rows_are_the_source_rows(digits_repo: Path, fresh_cache: str) -> None:
    source = get_task("digits").load()["train"]
    forget = load(digits_repo, "digits_del3", fresh_cache)["forget"]
    for row in forget.select(range(5)):
        original = source[row["sample_id"]]
        assert row["label"] == original["label"]
        assert np.array_equal(np.asarray(row["image"]), np.asarray(original["image"]))
        assert np.asarray(row["image"]).shape == (8, 8)


def test_forget_sets_are_nested_and_sized(digits_repo: Path, fresh_cache: str) -> None:
    previous: set[int] = set()
    for p in range(1, 11):
        forget = set(ids(load(digits_repo, f"digits_del{p}", fresh_cache)["forget"]))
        assert len(forget) == math.floor(p / 10 * DIGITS_ORDER)
        assert previous < forget
        previous = forget


def test_class_config_forgets_one_whole_class(digits_repo: Path, fresh_cache: str) -> None:
    splits = load(digits_repo, "digits_class3", fresh_cache)
    labels = np.asarray(get_task("digits").load()["train"]["label"])
    assert set(splits["forget"]["label"]) == {3}
    assert set(ids(splits["forget"])) == set(np.flatnonzero(labels == 3).tolist())
    assert 3 not in set(splits["retain"]["label"])
    assert len(splits["forget"]) + len(splits["retain"]) == DIGITS_TRAIN


def test_each_train_row_is_stored_once(digits_repo: Path) -> None:
    manifest = read_manifest(digits_repo)
    files = manifest["tasks"]["digits"]["files"]
    train_files = [p for p in files if "/train/" in p]
    assert sum(files[p]["num_rows"] for p in train_files) == DIGITS_TRAIN
    for config, splits in manifest["tasks"]["digits"]["configs"].items():
        assert (
            sorted(splits["forget"] + splits["retain"]) == sorted(splits["train"]) == sorted(train_files)
        ), config


def test_readme_yaml_has_configs_and_dataset_info_without_aliases(digits_repo: Path) -> None:
    text = (digits_repo / "README.md").read_text()
    header = text.split("---")[1]
    assert "&id" not in header and "*id" not in header
    meta = yaml.safe_load(header)
    names = [c["config_name"] for c in meta["configs"]]
    assert names == [f"digits_del{p}" for p in range(1, 11)] + ["digits_class3"]
    infos = {i["config_name"]: i for i in meta["dataset_info"]}
    assert set(infos) == set(names)
    del5 = {s["name"]: s["num_examples"] for s in infos["digits_del5"]["splits"]}
    assert del5 == {"train": 1257, "forget": 62, "retain": 1195, "validation": 180, "test": 360}
    label = next(f for f in infos["digits_del5"]["features"] if f["name"] == "label")
    assert label["dtype"]["class_label"]["names"]["7"] == "7"
    assert set(meta["tags"]) >= {"mubench", "machine-unlearning"}
    body = text.split("---", 2)[2]
    assert "| `digits_del5` | 1257 | 62 | 1195 | 180 | 360 |" in body
    assert "Cheng" in body and "seed=42" in body and read_manifest(digits_repo)["content_hash"] in body


def test_builds_are_byte_identical(tmp_path: Path) -> None:
    # same folder name in two places: the card's loading example names the folder
    a = build_splits("digits", tmp_path / "a" / "repo", ratios=(1, 5), seed=7, show_progress=False)
    b = build_splits("digits", tmp_path / "b" / "repo", ratios=(1, 5), seed=7, show_progress=False)
    c = build_splits("digits", tmp_path / "c" / "repo", ratios=(1, 5), seed=8, show_progress=False)
    assert a.content_hash == b.content_hash != c.content_hash
    root_a, root_b = tmp_path / "a" / "repo", tmp_path / "b" / "repo"
    files_a = sorted(p.relative_to(root_a) for p in root_a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(root_b) for p in root_b.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == 8  # 2 chunks + keep + 2 eval + order + README + manifest
    for rel in files_a:
        assert (root_a / rel).read_bytes() == (root_b / rel).read_bytes(), rel
    assert read_order(root_a) == np.random.default_rng(7).permutation(DIGITS_TRAIN)[:DIGITS_ORDER].tolist()


def test_verify_detects_a_changed_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    build_splits("digits", repo, ratios=(2,), show_progress=False)
    assert verify_repo(repo) == []
    target = repo / "data" / "digits" / "deletion_order.txt"
    target.write_text(target.read_text() + "0\n")
    assert any("deletion_order.txt has changed" in p for p in verify_repo(repo))


def test_external_order_reproduces_exact_split(tmp_path: Path, fresh_cache: str) -> None:
    order = list(range(500, 500 + DIGITS_ORDER))[::-1]
    order_file = tmp_path / "order.txt"
    order_file.write_text("\n".join(map(str, order)) + "\n")
    repo = tmp_path / "repo"
    result = build_splits("digits", repo, ratios=(1, 10), order=order_file, show_progress=False)
    assert ids(load(repo, "digits_del1", fresh_cache)["forget"]) == order[:12]
    assert sorted(ids(load(repo, "digits_del10", fresh_cache)["forget"])) == sorted(order)
    same = build_splits("digits", tmp_path / "again", ratios=(1, 10), order=order, show_progress=False)
    assert same.content_hash == result.content_hash  # a list and a file give the same split
    assert "imported from order.txt" in read_manifest(repo)["tasks"]["digits"]["order_description"]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["1", "2", "1"], "index 1 repeats line 1"),
        (["1", "99999"], "out of range"),
        (["1", "two"], "not an integer"),
        (["-3"], "out of range"),
        ([str(i) for i in range(10)], "lists 10 indices but the largest ratio needs 62"),
    ],
)
def test_bad_order_files(tmp_path: Path, lines: list[str], message: str) -> None:
    order_file = tmp_path / "order.txt"
    order_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(MubenchError, match=message):
        build_splits("digits", tmp_path / "repo", ratios=(5,), order=order_file, show_progress=False)
    assert not (tmp_path / "repo").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"task": "nope"},
            "unknown task 'nope'; known tasks: cifar10, cifar100, ddi, debian_summaries, digit_pairs, digits",
        ),
        ({"ratios": (0,)}, "out of range"),
        ({"ratios": (-1, 5)}, "out of range"),
        ({"ratios": (101,)}, "out of range"),
        ({"ratios": ("abc",)}, "not a number"),
        ({"ratios": (0.05,)}, r"too small to select one sample .*smallest usable ratio here is 0.08"),
        ({"forget_classes": (10,)}, "forget class 10 is not a label"),
        ({"forget_classes": ("cat",)}, "forget class 'cat' is not a label"),
        ({"seed": "x"}, "seed must be a non-negative integer"),
        ({"seed": -1}, "seed must be a non-negative integer, got -1"),
        ({"ratios": "5,5.0"}, r"ratio .5.0. repeats ratio .5."),
    ],
)
def test_bad_arguments_write_nothing(tmp_path: Path, kwargs: dict, message: str) -> None:
    args = {"task": "digits", "output_dir": tmp_path / "repo", "show_progress": False, **kwargs}
    with pytest.raises(MubenchError, match=message):
        build_splits(**args)
    assert not (tmp_path / "repo").exists()
    assert list(tmp_path.iterdir()) == []  # no staging folder left behind


def test_ratio_above_ten_and_fractional_ratio(tmp_path: Path, fresh_cache: str) -> None:
    repo = tmp_path / "repo"
    result = build_splits("digits", repo, ratios="2.5,20", show_progress=False)
    assert result.configs == ["digits_del2.5", "digits_del20"]
    assert result.split_sizes["digits_del2.5"]["forget"] == math.floor(0.25 * DIGITS_ORDER)
    assert result.split_sizes["digits_del20"]["forget"] == 2 * DIGITS_ORDER
    assert len(load(repo, "digits_del20", fresh_cache)["forget"]) == 250


def test_refuses_a_folder_that_is_not_a_mubench_repo(tmp_path: Path) -> None:
    target = tmp_path / "stuff"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(MubenchError, match="not a mubench deletion repo"):
        build_splits("digits", target, ratios=(5,), show_progress=False)
    assert (target / "notes.txt").read_text() == "mine"
    # overwrite replaces a deletion repo's own configs, never files it did not write
    with pytest.raises(MubenchError, match=r"it holds notes\.txt; choose another folder"):
        build_splits("digits", target, ratios=(5,), overwrite=True, show_progress=False)
    assert (target / "notes.txt").read_text() == "mine" and not (target / "mubench.json").exists()


def test_rebuilding_a_task_differently_needs_overwrite(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first = build_splits("digits", repo, ratios=(5,), seed=1, show_progress=False)
    again = build_splits("digits", repo, ratios=(5,), seed=1, show_progress=False)  # identical: fine
    assert again.content_hash == first.content_hash
    with pytest.raises(MubenchError, match="already holds task 'digits' built differently"):
        build_splits("digits", repo, ratios=(5,), seed=2, show_progress=False)
    assert read_manifest(repo)["tasks"]["digits"]["seed"] == 1
    build_splits("digits", repo, ratios=(5,), seed=2, overwrite=True, show_progress=False)
    assert read_manifest(repo)["tasks"]["digits"]["seed"] == 2
    assert verify_repo(repo) == []


def test_failure_mid_write_leaves_output_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    build_splits("digits", repo, ratios=(5,), seed=1, show_progress=False)
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    calls = {"n": 0}
    real = datasets.Dataset.to_parquet

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(datasets.Dataset, "to_parquet", flaky)
    with pytest.raises(OSError, match="disk full"):
        build_splits("digits", repo, ratios=(1, 5), seed=2, overwrite=True, show_progress=False)
    after = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]  # staging cleaned up
    calls["n"] = 0  # the same failure while creating a new repo leaves no folder
    with pytest.raises(OSError, match="disk full"):
        build_splits("digits", tmp_path / "new", ratios=(1, 5), show_progress=False)
    assert not (tmp_path / "new").exists()


def test_corrupt_manifest_is_reported(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    build_splits("digits", repo, ratios=(5,), show_progress=False)
    (repo / "mubench.json").write_text("{not json")
    with pytest.raises(MubenchError, match="not valid JSON"):
        build_splits("digits", repo, ratios=(5,), show_progress=False)


def test_task_of_config_names() -> None:
    from mubench_hf.splits.layout import task_of_config

    assert task_of_config("digits_del5") == "digits"
    assert task_of_config("digits_del2.5") == "digits"
    assert task_of_config("my_task_class3") == "my_task"
    with pytest.raises(MubenchError, match="not a deletion config name"):
        task_of_config("digits")


# --------------------------------------------------------------------------- ratios above 10 %, 100 %
def test_del100_forgets_every_row_and_sets_stay_nested(tmp_path: Path, fresh_cache: str) -> None:
    repo = tmp_path / "repo"
    result = build_splits("digits", repo, ratios=(1, 5, 10, 20, 50, 100), show_progress=False)
    forget = {c: s["forget"] for c, s in result.split_sizes.items()}
    # ≤ 10 % exactly as before (⌊p/10 · 125⌋); above, 125 + ⌊(p − 10)/90 · 1132⌋, all 1257 rows at 100 %
    assert forget == {
        "digits_del1": 12, "digits_del5": 62, "digits_del10": 125,
        "digits_del20": 250, "digits_del50": 628, "digits_del100": 1257,
    }  # fmt: skip
    assert "retain" not in result.split_sizes["digits_del100"]  # nothing is retained: no (empty) split
    assert result.split_sizes["digits_del50"]["retain"] == 1257 - 628
    previous: set[int] = set()
    order = read_order(repo)
    assert sorted(order) == list(range(DIGITS_TRAIN))  # the order now covers the whole train split
    for config in forget:
        ids_now = set(ids(load(repo, config, fresh_cache)["forget"]))
        assert previous < ids_now and ids_now == set(order[: forget[config]])
        previous = ids_now
    assert verify_repo(repo) == []
    assert not (repo / "data/digits/train/keep.parquet").exists()


def test_ratios_up_to_ten_keep_their_files_when_larger_ratios_are_added(tmp_path: Path) -> None:
    small = build_splits("digits", tmp_path / "a" / "repo", ratios=(1, 5), show_progress=False)
    large = build_splits("digits", tmp_path / "b" / "repo", ratios=(1, 5, 100), show_progress=False)
    assert large.split_sizes["digits_del5"] == small.split_sizes["digits_del5"]
    for rel in ("train/chunk-01.parquet", "train/chunk-02.parquet", "test.parquet"):
        assert (small.path / "data/digits" / rel).read_bytes() == (
            large.path / "data/digits" / rel
        ).read_bytes()


@pytest.mark.parametrize(
    ("ratios", "message"), [("5,5.0", r"ratio '5.0' repeats ratio '5'"), ([2, "2"], "repeats")]
)
def test_duplicate_ratios_are_refused(tmp_path: Path, ratios: object, message: str) -> None:
    with pytest.raises(MubenchError, match=message + ".*give each ratio once"):
        build_splits("digits", tmp_path / "repo", ratios=ratios, show_progress=False)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- file modes
@pytest.mark.parametrize(("umask", "dirs", "files"), [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)])
def test_folders_and_files_follow_the_umask(tmp_path: Path, umask: int, dirs: int, files: int) -> None:
    from tests.fixtures.upstream import cifar10_like

    repo = tmp_path / "parent" / "repo"
    old = os.umask(umask)
    try:
        build_splits("digits", repo, ratios=(5,), show_progress=False)
        build_splits("cifar10", repo, ratios=(5,), source=cifar10_like(), show_progress=False)  # into a repo
    finally:
        os.umask(old)
    paths = [repo.parent, repo, *repo.rglob("*")]
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths if p.is_dir()} == {dirs}
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths if p.is_file()} == {files}


# --------------------------------------------------------------------------- verify reads the README too
def test_verify_reports_a_deleted_readme_that_breaks_loading(repo_copy: Path, fresh_cache: str) -> None:
    (repo_copy / "README.md").unlink()
    assert verify_repo(repo_copy) == [
        "README.md is missing: datasets.load_dataset reads the configs from it; rebuild the repo with "
        "mubench build-splits (--overwrite) or restore the file"
    ]
    with pytest.raises(ValueError, match="BuilderConfig 'digits_del5' not found"):  # what verify protects
        load(repo_copy, "digits_del5", fresh_cache)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "  - split: forget\n    path:\n    - data/digits/train/chunk-01-class3.parquet\n",
            "  - split: forget\n    path:\n    - data/digits/train/chunk-02-class3.parquet\n",
            "YAML configs of config 'digits_del1' differs",
        ),
        (
            "config_name: digits_del5\n  data_files",
            "config_name: digits_del50\n  data_files",
            "YAML configs lacks config 'digits_del5'",
        ),
        (
            "    num_examples: 62\n",
            "    num_examples: 61\n",
            "YAML dataset_info of config 'digits_del5' differs",
        ),
        ("license: cc-by-4.0", "license: mit", "YAML 'license' does not match"),
        ("\n---\n", "\n", "has no YAML header"),
        ("configs:\n", "configs: [\n", "YAML header does not parse"),
    ],
    ids=["data-file-swapped", "config-renamed", "split-size", "license", "no-header-end", "broken-yaml"],
)
def test_verify_reports_tampered_readme_yaml(repo_copy: Path, old: str, new: str, problem: str) -> None:
    readme = repo_copy / "README.md"
    text = readme.read_text()
    assert old in text
    readme.write_text(text.replace(old, new, 1))
    problems = verify_repo(repo_copy)
    assert problems and any(problem in p for p in problems), problems
    assert all(p.startswith("README.md") for p in problems)


def test_verify_ignores_the_card_body_and_the_repo_id_in_it(repo_copy: Path) -> None:
    from mubench_hf.splits.card import render_card

    readme = repo_copy / "README.md"
    readme.write_text(render_card(read_manifest(repo_copy), repo_id="org/pushed-copy") + "\nA note.\n")
    assert verify_repo(repo_copy) == []


@pytest.fixture
def repo_copy(digits_repo: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(digits_repo, copy)
    return copy


# --------------------------------------------------------------------------- manifests of the wrong shape
def edit_manifest(repo: Path, change) -> None:
    manifest = json.loads((repo / "mubench.json").read_text())
    change(manifest)
    (repo / "mubench.json").write_text(json.dumps(manifest))


MANIFEST_DAMAGE = {
    "top-level-list": (lambda m: m.clear(), "[]", "holds a list, not a JSON object"),
    "top-level-number": (None, "42", "holds a number, not a JSON object"),
    "invalid-json": (None, "{not json", "is not valid JSON"),
    "no-tasks": (lambda m: m.pop("tasks"), None, "tasks is missing"),
    "tasks-a-list": (lambda m: m.update(tasks=[]), None, "tasks holds a list where an object is expected"),
    "no-content-hash": (lambda m: m.pop("content_hash"), None, "content_hash is missing"),
    "future-format": (
        lambda m: m.update(format_version=2),
        None,
        "format version 2; this mubench-hf reads version 1",
    ),
    "task-a-number": (
        lambda m: m["tasks"].update(digits=3),
        None,
        "tasks.digits holds a number where an object",
    ),
    "no-files": (lambda m: m["tasks"]["digits"].pop("files"), None, "tasks.digits.files is missing"),
    "no-configs": (lambda m: m["tasks"]["digits"].pop("configs"), None, "tasks.digits.configs is missing"),
    "seed-a-string": (
        lambda m: m["tasks"]["digits"].update(seed="42"),
        None,
        "tasks.digits.seed holds a string",
    ),
    "ratios-a-number": (
        lambda m: m["tasks"]["digits"].update(ratios=5),
        None,
        "tasks.digits.ratios holds a number",
    ),
    "no-sha256": (
        lambda m: m["tasks"]["digits"]["files"]["data/digits/test.parquet"].pop("sha256"),
        None,
        "tasks.digits.files['data/digits/test.parquet'].sha256 is missing",
    ),
    "split-not-a-list": (
        lambda m: m["tasks"]["digits"]["configs"]["digits_del5"].update(forget="x"),
        None,
        "tasks.digits.configs.digits_del5.forget holds a string where a list",
    ),
    "unknown-file-in-config": (
        lambda m: m["tasks"]["digits"]["configs"]["digits_del5"]["forget"].append("data/digits/x.parquet"),
        None,
        "lists 'data/digits/x.parquet', which is not in tasks.digits.files",
    ),
    "file-of-another-task": (
        lambda m: m["tasks"]["digits"]["files"].update(
            {"data/other/x.parquet": {"sha256": "0", "num_rows": 1}}
        ),
        None,
        "is not under data/digits/",
    ),
    "no-split-sizes-entry": (
        lambda m: m["tasks"]["digits"]["split_sizes"].pop("digits_del5"),
        None,
        "tasks.digits.split_sizes.digits_del5 is missing",
    ),
    "bad-task-name": (lambda m: m["tasks"].update({"../x": {}}), None, "'../x' is not a valid name"),
}


@pytest.mark.parametrize("case", list(MANIFEST_DAMAGE))
def test_a_manifest_of_the_wrong_shape_is_one_clear_error(repo_copy: Path, case: str) -> None:
    change, text, message = MANIFEST_DAMAGE[case]
    if text is not None:
        (repo_copy / "mubench.json").write_text(text)
    else:
        edit_manifest(repo_copy, change)
    for reader in (read_manifest, verify_repo):
        with pytest.raises(MubenchError) as err:
            reader(repo_copy)
        assert message in str(err.value) and str(repo_copy / "mubench.json") in str(err.value)
        assert "\n" not in str(err.value)
