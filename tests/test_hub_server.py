"""The local test hub answers huggingface_hub the way the Hub does (the other Hub tests rely on it)."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest
from huggingface_hub import HfApi, HfFileSystem, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tests.hub_server import LocalHub

REPO = "mubench-org/server-check"


@pytest.fixture
def api(hub_server: LocalHub) -> HfApi:
    api = HfApi()
    api.create_repo(REPO)
    api.upload_file(path_or_fileobj=b"hello hub", path_in_repo="notes/hello.txt", repo_id=REPO)
    api.upload_file(path_or_fileobj=bytes(range(256)) * 4, path_in_repo="weights.bin", repo_id=REPO)
    return api


def test_commits_refs_tree_and_paths_info(api: HfApi, hub_server: LocalHub) -> None:
    commits = api.list_repo_commits(REPO)
    assert [c.title for c in commits] == ["Upload weights.bin with huggingface_hub", "Upload notes/hello.txt with huggingface_hub", "initial commit"]  # fmt: skip
    assert api.list_repo_refs(REPO).branches[0].target_commit == commits[0].commit_id
    assert api.repo_info(REPO).sha == commits[0].commit_id
    assert sorted(api.list_repo_files(REPO)) == [".gitattributes", "notes/hello.txt", "weights.bin"]
    top = {e.path: type(e).__name__ for e in api.list_repo_tree(REPO)}
    assert top == {"notes": "RepoFolder", ".gitattributes": "RepoFile", "weights.bin": "RepoFile"}
    info = {e.path: e for e in api.get_paths_info(REPO, ["weights.bin", "notes", "missing.txt"])}
    assert set(info) == {"weights.bin", "notes"}
    assert info["weights.bin"].lfs is not None and info["weights.bin"].size == 1024  # binary -> LFS
    old = api.list_repo_files(REPO, revision=commits[1].commit_id)
    assert sorted(old) == [".gitattributes", "notes/hello.txt"]
    assert hub_server.files(REPO)["weights.bin"] == bytes(range(256)) * 4


def test_downloads_ranges_and_error_codes(api: HfApi) -> None:
    path = hf_hub_download(REPO, "notes/hello.txt")
    assert open(path, "rb").read() == b"hello hub"
    with HfFileSystem().open(f"{REPO}/weights.bin", "rb", block_size=16) as handle:
        handle.seek(300)
        assert handle.read(4) == bytes([44, 45, 46, 47])  # served from a Range request
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(REPO, "nope.txt")
    with pytest.raises(RevisionNotFoundError):
        api.list_repo_files(REPO, revision="no-such-branch")
    with pytest.raises(RepositoryNotFoundError):
        api.repo_info("mubench-org/does-not-exist")


def test_fail_switch_answers_500_once_and_changes_nothing(api: HfApi, hub_server: LocalHub) -> None:
    before = hub_server.commits(REPO)
    hub_server.fail_next_commits(1)
    with pytest.raises(HfHubHTTPError) as caught:
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=REPO)
    assert caught.value.response.status_code == 500
    assert hub_server.commits(REPO) == before
    api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=REPO)
    assert len(hub_server.commits(REPO)) == len(before) + 1


def test_a_stopped_hub_leaves_no_thread() -> None:
    before = set(threading.enumerate())
    with LocalHub() as hub:
        request = urllib.request.Request(f"{hub.url}/api/whoami-v2", headers={"Authorization": "Bearer t"})
        with urllib.request.urlopen(request) as answer:
            assert json.load(answer)["name"] == hub.user
    leftover = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert leftover == []


def test_account_listing_and_deletion(api: HfApi) -> None:
    assert api.whoami()["name"] == "mubench-tester"
    card = "---\nlicense: mit\ntags:\n- mubench\nlibrary_name: transformers\n---\n# card\n"
    api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=REPO)
    api.create_repo("mubench-org/untagged")
    (listed,) = api.list_models(author="mubench-org", filter="mubench", expand=["cardData", "tags"])
    assert listed.id == REPO and listed.card_data.license == "mit"
    assert {"mubench", "transformers", "license:mit"} <= set(listed.tags)
    assert [m.id for m in api.list_models(author="mubench-org")] == [REPO, "mubench-org/untagged"]
    assert list(api.list_models(author="someone-else")) == []
    api.delete_repo(REPO)
    with pytest.raises(RepositoryNotFoundError):
        api.repo_info(REPO)
