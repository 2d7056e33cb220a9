"""Where deletion configs are loaded from (``load_deletion_config``), and file names in a repo that try
to leave it: a manifest or README is data, never a way to read, hash, upload or delete files elsewhere."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from mubench_hf import MubenchError, build_splits, read_manifest, verify_repo
from mubench_hf.hub.merge import merge_manifests
from mubench_hf.splits import load_deletion_config

SENTINEL = b"sentinel: must stay as it is\n"


@pytest.fixture(scope="module")
def small_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """digits with ratios 1 and 5 and a class-3 config, built once for this module (tests copy it)."""
    out = tmp_path_factory.mktemp("small") / "mubench"
    build_splits("digits", out, ratios=(1, 5), forget_classes=[3], show_progress=False)
    return out


@pytest.fixture
def repo(small_repo: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(small_repo, copy, symlinks=True)
    return copy


@pytest.fixture
def sentinel(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "secret.parquet"
    path.parent.mkdir()
    path.write_bytes(SENTINEL)
    return path


# --------------------------------------------------------------------------- load_deletion_config
def test_loads_a_local_config_with_its_splits(repo: Path, fresh_cache: str) -> None:
    splits = load_deletion_config(
        str(repo), "digits_del5", cache_dir=fresh_cache, required=("forget", "retain")
    )
    assert {k: len(v) for k, v in splits.items()} == {
        "train": 1257, "forget": 62, "retain": 1195, "validation": 180, "test": 360,
    }  # fmt: skip
    assert splits["forget"].features["label"].names[3] == "3"
    assert len(load_deletion_config(repo, "digits_class3", cache_dir=fresh_cache)["forget"]) > 0  # a Path too


def test_a_config_that_is_not_built_lists_the_built_ones(repo: Path) -> None:
    with pytest.raises(MubenchError) as err:
        load_deletion_config(str(repo), "digits_del7")
    message = str(err.value)
    assert "config 'digits_del7' is not built" in message
    assert "digits_del1, digits_del5, digits_class3" in message
    assert f"mubench build-splits --task digits --output {repo} --ratios 1,5,7 --forget-class 3" in message
    assert "--overwrite" in message
    with pytest.raises(MubenchError, match=r"--task cifar10 --output .* --ratios 5` builds it"):
        load_deletion_config(str(repo), "cifar10_del5")
    with pytest.raises(MubenchError, match="named <task>_del<p> or <task>_class<k>"):
        load_deletion_config(str(repo), "default")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t: t / "missing", "does not exist; build one with `mubench build-splits"),
        (lambda t: t / "not" / "there" / "at-all", "does not exist"),
        (
            lambda t: (t / "file.txt").write_text("x") and t / "file.txt",
            "is a file, not a deletion repo folder",
        ),
        (
            lambda t: (t / "empty").mkdir() or t / "empty",
            "is not a mubench deletion repo: it has no mubench.json",
        ),
    ],
    ids=["missing-folder", "missing-nested-path", "a-file", "not-a-deletion-repo"],
)
def test_bad_local_paths(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(MubenchError, match=message):
        load_deletion_config(str(make(tmp_path)), "digits_del5")


def test_a_required_split_that_is_missing(repo: Path, tmp_path: Path, fresh_cache: str) -> None:
    with pytest.raises(
        MubenchError, match=r"has no 'ood' split \(it has: train, forget, retain, validation, test\)"
    ):
        load_deletion_config(str(repo), "digits_del5", required=("forget", "ood"))
    full = build_splits("digits", tmp_path / "full", ratios=(50, 100), show_progress=False).path
    with pytest.raises(MubenchError, match="forgets every train row .* has no retain split"):
        load_deletion_config(str(full), "digits_del100", required=("retain",))
    assert len(load_deletion_config(str(full), "digits_del100", cache_dir=fresh_cache)["forget"]) == 1257


def test_a_hub_id_while_offline_says_so_and_how_to_use_a_folder() -> None:
    with pytest.raises(MubenchError) as err:
        load_deletion_config("someone/mubench-splits", "digits_del5")
    message = str(err.value)
    assert (
        "'someone/mubench-splits' is not a local folder" in message
        and "offline (HF_HUB_OFFLINE=1)" in message
    )
    assert "mubench build-splits --task digits --output DIR" in message
    assert "hf download someone/mubench-splits --repo-type dataset --local-dir DIR" in message


def test_a_damaged_repo_points_at_verify(repo: Path, fresh_cache: str) -> None:
    (repo / "data/digits/test.parquet").unlink()
    with pytest.raises(
        MubenchError, match=r"a data file of config 'digits_del5' .* is missing.*mubench verify"
    ):
        load_deletion_config(str(repo), "digits_del5", cache_dir=fresh_cache)
    (repo / "README.md").unlink()
    with pytest.raises(MubenchError, match="README.md is missing.*mubench verify"):
        load_deletion_config(str(repo), "digits_del5", cache_dir=fresh_cache)


def test_a_readme_that_defines_the_config_otherwise_is_refused(repo: Path, fresh_cache: str) -> None:
    text = (repo / "README.md").read_text()
    (repo / "README.md").write_text(text.replace("config_name: digits_del5", "config_name: digits_del6", 1))
    with pytest.raises(MubenchError, match="YAML configs lacks config 'digits_del5'"):
        load_deletion_config(str(repo), "digits_del5", cache_dir=fresh_cache)
    # another config's damage does not stop this one
    assert len(load_deletion_config(str(repo), "digits_del1", cache_dir=fresh_cache)["forget"]) == 12


# --------------------------------------------------------------------------- file names that leave the repo
def craft(repo: Path, rel: str) -> None:
    """Make the manifest list ``rel`` as a file of digits, used by the forget split of digits_del1."""
    manifest = json.loads((repo / "mubench.json").read_text())
    entry = manifest["tasks"]["digits"]
    entry["files"][rel] = {"sha256": "0" * 64, "num_rows": 1}
    entry["configs"]["digits_del1"]["forget"].append(rel)
    (repo / "mubench.json").write_text(json.dumps(manifest, indent=2))


def link_test_split_to(repo: Path, target: Path) -> None:
    (repo / "data/digits/test.parquet").unlink()
    os.symlink(target, repo / "data/digits/test.parquet")


CRAFTED = {
    "dotdot": (lambda repo, s: craft(repo, "../outside/secret.parquet"), "'..' component"),
    "dotdot-inside-data": (
        lambda repo, s: craft(repo, "data/digits/../../../outside/secret.parquet"),
        "'..'",
    ),
    "absolute-etc-passwd": (lambda repo, s: craft(repo, "/etc/passwd"), "'/etc/passwd' is an absolute path"),
    "absolute-sentinel": (lambda repo, s: craft(repo, str(s)), "is an absolute path"),
    "symlink-to-outside-file": (lambda repo, s: link_test_split_to(repo, s), "leads outside the repo"),
    "symlinked-task-folder": (
        lambda repo, s: (
            shutil.move(str(repo / "data/digits"), str(s.parent / "digits")),
            os.symlink(s.parent / "digits", repo / "data/digits"),
        ),
        "leads outside the repo",
    ),
}


def outside_state(sentinel: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(sentinel.parent)): p.read_bytes()
        for p in sorted(sentinel.parent.rglob("*"))
        if p.is_file()
    }


OPERATIONS = {
    "verify": lambda repo: verify_repo(repo),
    "info": lambda repo: read_manifest(repo),
    "load": lambda repo: load_deletion_config(str(repo), "digits_del1"),
    "build-into": lambda repo: build_splits(
        "digits", repo, ratios=(1, 5), forget_classes=[3], show_progress=False
    ),
    "build-overwrite": lambda repo: build_splits(
        "digits", repo, ratios=(2,), overwrite=True, show_progress=False
    ),
    "push": lambda repo: __import__("mubench_hf.hub", fromlist=["push_splits"]).push_splits(
        repo, "mubench-org/splits", token="hf_not_used"
    ),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("case", list(CRAFTED))
def test_names_outside_the_repo_are_refused(repo: Path, sentinel: Path, case: str, operation: str) -> None:
    make, message = CRAFTED[case]
    make(repo, sentinel)
    before_outside = outside_state(sentinel)
    before_repo = {str(p): p.read_bytes() for p in sorted(repo.rglob("*")) if p.is_file()}
    with pytest.raises(MubenchError, match=message):
        OPERATIONS[operation](repo)
    assert sentinel.read_bytes() == SENTINEL
    assert outside_state(sentinel) == before_outside  # nothing outside changed, added or deleted
    assert {str(p): p.read_bytes() for p in sorted(repo.rglob("*")) if p.is_file()} == before_repo
    assert not [p.name for p in repo.parent.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_readme_data_files_outside_the_repo_are_refused(repo: Path, sentinel: Path) -> None:
    text = (repo / "README.md").read_text()
    crafted = text.replace("- data/digits/test.parquet", "- ../outside/secret.parquet", 1)
    assert crafted != text
    (repo / "README.md").write_text(crafted)
    for operation in (lambda: verify_repo(repo), lambda: load_deletion_config(str(repo), "digits_del1")):
        with pytest.raises(MubenchError, match=r"configs entry 'digits_del1'.*'../outside/secret.parquet'"):
            operation()
    assert sentinel.read_bytes() == SENTINEL


def test_a_symlinked_readme_or_manifest_outside_is_refused(repo: Path, sentinel: Path) -> None:
    for name in ("README.md", "mubench.json"):
        copy = repo.parent / f"copy-{name}"
        shutil.copytree(repo, copy)
        outside = sentinel.parent / name
        shutil.move(str(copy / name), str(outside))
        os.symlink(outside, copy / name)
        with pytest.raises(MubenchError, match=f"'{name}' leads outside the repo"):
            verify_repo(copy)


def test_a_crafted_remote_manifest_is_refused_by_the_merge(small_repo: Path) -> None:
    local = read_manifest(small_repo)
    for rel, message in (("../x.parquet", "'..' component"), ("/etc/passwd", "absolute path")):
        remote = json.loads(json.dumps(local).replace("digits", "other"))
        remote["tasks"]["other"]["files"][rel] = {"sha256": "0" * 64, "num_rows": 1}
        with pytest.raises(MubenchError, match=f"the Hub repo's mubench.json.*{message}"):
            merge_manifests(local, remote)
    remote = json.loads(json.dumps(local).replace("digits", "other"))
    del remote["tasks"]["other"]["files"]
    with pytest.raises(MubenchError, match=r"the Hub repo's mubench.json: tasks.other.files is missing"):
        merge_manifests(local, remote)
    assert sorted(
        merge_manifests(local, json.loads(json.dumps(local).replace("digits", "other")))["tasks"]
    ) == [
        "digits",
        "other",
    ]
