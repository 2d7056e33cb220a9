"""Deletion splits pushed to a (local) Hub load with ``load_dataset`` exactly like the folder they came from."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest
from huggingface_hub import DatasetCard, HfApi

from mubench_hf import MubenchError, build_splits, read_manifest
from mubench_hf.cli import main
from mubench_hf.hub import push_splits
from tests.fixtures.upstream import cifar10_like
from tests.hub_server import LocalHub

REPO = "mubench-org/mubench-splits"


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_same_rows(remote: datasets.DatasetDict, local: datasets.DatasetDict) -> None:
    assert list(remote) == list(local)
    for split in local:
        assert remote[split].features == local[split].features
        assert remote[split]["sample_id"] == local[split]["sample_id"]
        assert remote[split]["label"] == local[split]["label"]
        raw_remote = remote[split].cast_column("image", datasets.Image(decode=False))["image"]
        raw_local = local[split].cast_column("image", datasets.Image(decode=False))["image"]
        assert [r["bytes"] for r in raw_remote] == [r["bytes"] for r in raw_local]


def test_pushed_splits_load_like_the_local_folder(
    hub_server: LocalHub, digits_repo: Path, fresh_cache: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = folder_bytes(digits_repo)
    assert main(["push-splits", str(digits_repo), REPO, "--commit-message", "digits splits"]) == 0
    assert f"{REPO}" in capsys.readouterr().out
    assert folder_bytes(digits_repo) == before  # a push only reads the folder

    commits = hub_server.commits(REPO, "dataset")
    assert [c.title for c in commits] == ["digits splits", "initial commit"][::-1]  # one commit for all
    remote = datasets.load_dataset(REPO, "digits_del5", cache_dir=fresh_cache)
    local = datasets.load_dataset(str(digits_repo), "digits_del5", cache_dir=fresh_cache)
    assert_same_rows(remote, local)
    assert len(remote["forget"]) == 62

    files = hub_server.files(REPO, "dataset")
    card = DatasetCard(files["README.md"].decode())
    local_card = DatasetCard((digits_repo / "README.md").read_text())
    assert card.data.to_dict() == local_card.data.to_dict()  # configs and dataset_info intact
    assert f'load_dataset("{REPO}", "digits_del1")' in card.text  # the card names the Hub repo
    # The card is the local one with the Hub repo id in its example; the manifest is byte-identical.
    expected = before["README.md"].decode().replace('load_dataset("mubench"', f'load_dataset("{REPO}"')
    assert files["README.md"].decode() == expected
    assert files["mubench.json"] == before["mubench.json"]
    assert files["data/digits/train/keep-other.parquet"] == before["data/digits/train/keep-other.parquet"]


def test_a_second_task_is_added_and_a_re_pushed_task_replaces_its_files(
    hub_server: LocalHub, digits_repo: Path, tmp_path: Path, fresh_cache: str
) -> None:
    push_splits(digits_repo, REPO)
    cifar = build_splits(
        "cifar10", tmp_path / "cifar", ratios=(5, 10), source=cifar10_like(), show_progress=False
    )
    result = push_splits(cifar.path, REPO)
    assert "data/cifar10/test.parquet" in result.uploaded and result.deleted == []

    files = hub_server.files(REPO, "dataset")
    manifest = json.loads(files["mubench.json"])
    assert sorted(manifest["tasks"]) == ["cifar10", "digits"]
    assert set(read_manifest(digits_repo)["tasks"]["digits"]["files"]) <= set(files)  # digits kept
    card = DatasetCard(files["README.md"].decode())
    names = [c["config_name"] for c in card.data.configs]
    assert "digits_del5" in names and "cifar10_del5" in names and "digits_class3" in names
    assert "## Task `digits`" in card.text and "## Task `cifar10`" in card.text

    cifar_remote = datasets.load_dataset(REPO, "cifar10_del5", cache_dir=fresh_cache)
    cifar_local = datasets.load_dataset(str(cifar.path), "cifar10_del5", cache_dir=fresh_cache)
    assert_same_rows(cifar_remote, cifar_local)
    digits_remote = datasets.load_dataset(REPO, "digits_class3", cache_dir=fresh_cache)
    assert set(digits_remote["forget"]["label"]) == {3}

    # Re-pushing digits built differently replaces digits' files and keeps cifar10's.
    smaller = build_splits("digits", tmp_path / "digits_small", ratios=(1, 5), show_progress=False)
    result = push_splits(smaller.path, REPO)
    assert "data/digits/train/chunk-10-other.parquet" in result.deleted
    files = hub_server.files(REPO, "dataset")
    digits_files = {f for f in files if f.startswith("data/digits/")}
    assert digits_files == set(read_manifest(smaller.path)["tasks"]["digits"]["files"])
    assert {f for f in files if f.startswith("data/cifar10/")} == set(cifar_local_files(cifar.path))
    names = [c["config_name"] for c in DatasetCard(files["README.md"].decode()).data.configs]
    assert sorted(names) == ["cifar10_del10", "cifar10_del5", "digits_del1", "digits_del5"]
    assert len(datasets.load_dataset(REPO, "digits_del5", cache_dir=fresh_cache)["forget"]) == 62


def cifar_local_files(folder: Path) -> list[str]:
    return list(read_manifest(folder)["tasks"]["cifar10"]["files"])


def test_without_a_token_nothing_is_sent(
    hub_server: LocalHub,
    digits_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("HF_TOKEN")
    before = folder_bytes(digits_repo)
    with pytest.raises(MubenchError, match="no Hugging Face token.*--token.*HF_TOKEN.*hf auth login"):
        push_splits(digits_repo, REPO)
    assert main(["push-splits", str(digits_repo), REPO]) == 1
    assert "no Hugging Face token" in capsys.readouterr().err
    assert hub_server.request_log == []
    assert folder_bytes(digits_repo) == before


@pytest.mark.parametrize("bad", ["no-namespace", "org/has space", "org/a--b", "a/b/c", "org/name.git"])
def test_an_invalid_repo_id_is_refused_before_any_request(
    hub_server: LocalHub, digits_repo: Path, bad: str
) -> None:
    with pytest.raises(MubenchError, match=r"invalid repo id .*namespace/name|invalid repo id .*Use letters"):
        push_splits(digits_repo, bad)
    assert hub_server.request_log == []


def test_a_failed_commit_changes_nothing_and_a_retry_succeeds(
    hub_server: LocalHub, digits_repo: Path, fresh_cache: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = folder_bytes(digits_repo)
    hub_server.fail_next_commits(1)
    assert main(["push-splits", str(digits_repo), REPO]) == 1
    err = capsys.readouterr().err
    assert REPO in err and "500" in err
    assert "Nothing was changed locally" in err and "run the same command again to retry" in err
    assert folder_bytes(digits_repo) == before
    assert set(hub_server.files(REPO, "dataset")) == {".gitattributes"}  # no half-pushed repo

    assert main(["push-splits", str(digits_repo), REPO]) == 0
    assert len(datasets.load_dataset(REPO, "digits_del5", cache_dir=fresh_cache)["forget"]) == 62


def test_a_folder_that_no_longer_matches_its_manifest_is_not_pushed(
    hub_server: LocalHub, digits_repo: Path, tmp_path: Path
) -> None:
    copy = build_splits("digits", tmp_path / "copy", ratios=(5,), show_progress=False).path
    (copy / "data/digits/test.parquet").write_bytes(b"corrupted")
    with pytest.raises(MubenchError, match="does not match its manifest.*test.parquet has changed"):
        push_splits(copy, REPO)
    assert hub_server.request_log == []


def test_a_foreign_dataset_repo_is_not_overwritten(hub_server: LocalHub, digits_repo: Path) -> None:
    api = HfApi()
    api.create_repo("mubench-org/someone-elses-data", repo_type="dataset")
    api.upload_file(path_or_fileobj=b"# theirs\n", path_in_repo="README.md", repo_id="mubench-org/someone-elses-data", repo_type="dataset")  # fmt: skip
    with pytest.raises(
        MubenchError, match="holds files but no mubench.json: it is not a mubench deletion repo"
    ):
        push_splits(digits_repo, "mubench-org/someone-elses-data")
    assert hub_server.files("mubench-org/someone-elses-data", "dataset")["README.md"] == b"# theirs\n"


def test_private_repos_are_created_private(hub_server: LocalHub, tmp_path: Path) -> None:
    small = build_splits("digits", tmp_path / "small", ratios=(5,), show_progress=False).path
    assert main(["push-splits", str(small), REPO, "--private", "--commit-message", "private splits"]) == 0
    assert hub_server.repos[("dataset", REPO)].private
    assert hub_server.commits(REPO, "dataset")[-1].title == "private splits"


def test_load_deletion_config_reads_a_hub_repo(
    hub_server: LocalHub, digits_repo: Path, fresh_cache: str
) -> None:
    from mubench_hf.splits import load_deletion_config

    push_splits(digits_repo, REPO)
    splits = load_deletion_config(REPO, "digits_del5", cache_dir=fresh_cache, required=("forget", "retain"))
    assert len(splits["forget"]) == 62 and splits["forget"].features["label"].names[0] == "0"
    with pytest.raises(
        MubenchError, match=r"config 'digits_del15' is not built in dataset repo .*push-splits"
    ):
        load_deletion_config(REPO, "digits_del15", cache_dir=fresh_cache)
    with pytest.raises(MubenchError, match=r"has no 'ood' split .*without --no-ood"):
        load_deletion_config(REPO, "digits_del5", cache_dir=fresh_cache, required=("ood",))
    with pytest.raises(
        MubenchError, match=r"the Hub has no dataset repo mubench-org/nothing-here .*local-dir DIR"
    ):
        load_deletion_config("mubench-org/nothing-here", "digits_del5", cache_dir=fresh_cache)


def test_load_deletion_config_when_the_hub_is_unreachable(hub_server: LocalHub, fresh_cache: str) -> None:
    from mubench_hf.splits import load_deletion_config

    hub_server.stop()  # the endpoint now refuses connections
    with pytest.raises(MubenchError) as err:
        load_deletion_config(REPO, "digits_del5", cache_dir=fresh_cache)
    message = str(err.value)
    assert f"{REPO!r} is not a local folder, and the Hugging Face Hub is unreachable" in message
    assert (
        "pass its folder instead" in message and "mubench build-splits --task digits --output DIR" in message
    )


@pytest.mark.parametrize(
    ("rel", "message"), [("../../outside.parquet", "'..' component"), ("/etc/passwd", "absolute path")]
)
def test_a_crafted_manifest_on_the_hub_is_refused_and_nothing_changes(
    hub_server: LocalHub, digits_repo: Path, tmp_path: Path, rel: str, message: str
) -> None:
    cifar = build_splits(
        "cifar10", tmp_path / "cifar", ratios=(5,), source=cifar10_like(), show_progress=False
    )
    push_splits(cifar.path, REPO)
    crafted = json.loads(hub_server.files(REPO, "dataset")["mubench.json"])
    crafted["tasks"]["cifar10"]["files"][rel] = {"sha256": "0" * 64, "num_rows": 1}
    HfApi().upload_file(path_or_fileobj=json.dumps(crafted).encode(), path_in_repo="mubench.json", repo_id=REPO, repo_type="dataset")  # fmt: skip
    before = hub_server.files(REPO, "dataset")
    commits = len(hub_server.commits(REPO, "dataset"))
    with pytest.raises(MubenchError, match=f"the Hub repo's mubench.json.*{message}"):
        push_splits(digits_repo, REPO)
    assert hub_server.files(REPO, "dataset") == before and len(hub_server.commits(REPO, "dataset")) == commits
