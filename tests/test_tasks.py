"""The task registry and Hub-sourced tasks through the ``source=`` override (never the network)."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest

from mubench_hf import MubenchError, UnknownTaskError, build_splits, get_task, list_tasks, read_manifest
from mubench_hf.tasks import Task
from tests.fixtures.upstream import cifar10_like, cifar100_like, imdb_like, rotten_tomatoes_like


def test_registry_lists_the_working_tasks() -> None:
    assert list_tasks() == [
        "cifar10", "cifar100", "ddi", "debian_summaries", "digit_pairs", "digits", "digits_t2i", "fashion_mnist",
        "fashion_mnist_t2i", "fictitious_authors", "fictitious_authors_small", "go_relations", "imdb",
        "moving_digits", "muse_books", "muse_manpages", "muse_news", "nlvr2", "samsum", "speech_commands",
        "spoken_keywords", "tiny_imagenet", "tiny_imagenet_t2i", "tofu", "ucf101", "unlearncanvas_object",
        "unlearncanvas_style", "wmdp_bio", "wmdp_cyber", "wmdp_pydocs",
    ]  # fmt: skip
    cifar100 = get_task("cifar100")
    assert cifar100.num_labels == 100 and cifar100.class_names[3] == "bear"
    assert cifar100.hub.repo_id == "uoft-cs/cifar100"
    assert dict(cifar100.hub.column_mapping) == {"img": "image", "fine_label": "label"}
    imdb = get_task("imdb")
    assert imdb.modality == "text" and imdb.ood.repo_id == "cornell-movie-review-data/rotten_tomatoes"
    assert get_task("digits").id2label[4] == "4" and get_task("digits").label2id["9"] == 9
    with pytest.raises(
        UnknownTaskError, match="known tasks: cifar10, cifar100, ddi, debian_summaries, digit_pairs, digits"
    ):
        get_task("mnist")


def test_digits_split_is_fixed_and_stratified() -> None:
    data = get_task("digits").load()
    assert {k: len(v) for k, v in data.items()} == {"train": 1257, "validation": 180, "test": 360}
    again = get_task("digits").load()
    assert data["test"]["label"][:20] == again["test"]["label"][:20]
    counts = sorted(list(data["test"]["label"]).count(k) for k in range(10))
    assert counts[0] >= 35 and counts[-1] <= 37  # stratified: 36 ± 1 per class
    assert list(data["train"]["sample_id"]) == list(range(1257))


def test_cifar10_from_an_upstream_shaped_source(tmp_path: Path, fresh_cache: str) -> None:
    repo = tmp_path / "repo"
    result = build_splits("cifar10", repo, ratios=(5, 10), source=cifar10_like(), show_progress=False)
    assert result.split_sizes["cifar10_del5"] == {"train": 200, "forget": 10, "retain": 190, "test": 40}
    splits = datasets.load_dataset(str(repo), "cifar10_del10", cache_dir=fresh_cache)
    assert splits["forget"].features["label"].names[0] == "airplane"
    assert splits["forget"][0]["image"].size == (32, 32)
    assert "img" not in splits["forget"].column_names


def test_cifar100_maps_fine_label_and_drops_coarse(tmp_path: Path, fresh_cache: str) -> None:
    repo = tmp_path / "repo"
    build_splits(
        "cifar100", repo, ratios=(10,), forget_classes=["bear"], source=cifar100_like(), show_progress=False
    )
    splits = datasets.load_dataset(str(repo), "cifar100_class3", cache_dir=fresh_cache)
    assert splits["forget"].column_names == ["image", "label", "sample_id"]
    assert set(splits["forget"]["label"]) == {3} and len(splits["forget"]) == 3
    assert splits["train"].features["label"].num_classes == 100


def test_imdb_with_ood_from_local_folders(tmp_path: Path, fresh_cache: str) -> None:
    imdb_like().save_to_disk(str(tmp_path / "imdb"))
    rotten_tomatoes_like().save_to_disk(str(tmp_path / "rt"))
    repo = tmp_path / "repo"
    build_splits(
        "imdb", repo, ratios=(10,), source=tmp_path / "imdb", ood_source=tmp_path / "rt", show_progress=False
    )
    splits = datasets.load_dataset(str(repo), "imdb_del10", cache_dir=fresh_cache)
    assert {k: len(v) for k, v in splits.items()} == {
        "train": 100,
        "forget": 10,
        "retain": 90,
        "test": 30,
        "ood": 20,
    }
    assert isinstance(splits["ood"][0]["text"], str)
    assert splits["ood"].features["label"].names == ["neg", "pos"]
    entry = read_manifest(repo)["tasks"]["imdb"]
    assert "source override" in entry["source"] and "OOD override" in entry["ood_source"]


def test_imdb_without_ood(tmp_path: Path) -> None:
    result = build_splits(
        "imdb", tmp_path / "repo", ratios=(10,), source=imdb_like(), ood_source=False, show_progress=False
    )
    assert "ood" not in result.split_sizes["imdb_del10"]


def test_tasks_share_one_repo(tmp_path: Path, fresh_cache: str) -> None:
    repo = tmp_path / "repo"
    build_splits("digits", repo, ratios=(2, 5, 10), show_progress=False)
    build_splits("cifar10", repo, ratios=(5,), source=cifar10_like(), show_progress=False)
    manifest = read_manifest(repo)
    assert sorted(manifest["tasks"]) == ["cifar10", "digits"]
    # the first task's configs keep their build order after the manifest is read back
    assert list(manifest["tasks"]["digits"]["configs"]) == ["digits_del2", "digits_del5", "digits_del10"]
    assert len(datasets.load_dataset(str(repo), "digits_del5", cache_dir=fresh_cache)["forget"]) == 62
    assert len(datasets.load_dataset(str(repo), "cifar10_del5", cache_dir=fresh_cache)["forget"]) == 10
    readme = (repo / "README.md").read_text()
    assert "config_name: digits_del5" in readme and "config_name: cifar10_del5" in readme


def test_source_missing_columns_is_a_clear_error(tmp_path: Path) -> None:
    no_label = cifar10_like().remove_columns("label")
    with pytest.raises(MubenchError, match=r"no label column 'label'.*columns are \['img'\]"):
        build_splits("cifar10", tmp_path / "a", ratios=(10,), source=no_label, show_progress=False)
    no_image = cifar10_like().rename_column("img", "picture")
    with pytest.raises(MubenchError, match=r"no input column 'image' \(upstream name 'img'\)"):
        build_splits("cifar10", tmp_path / "b", ratios=(10,), source=no_image, show_progress=False)
    no_test = datasets.DatasetDict({"train": cifar10_like()["train"]})
    with pytest.raises(MubenchError, match="has no 'test' split"):
        build_splits("cifar10", tmp_path / "c", ratios=(10,), source=no_test, show_progress=False)
    with pytest.raises(MubenchError, match="does not exist"):
        build_splits(
            "cifar10", tmp_path / "d", ratios=(10,), source=tmp_path / "missing", show_progress=False
        )
    assert list(tmp_path.iterdir()) == []


def test_labels_outside_the_classes_are_rejected(tmp_path: Path) -> None:
    data = imdb_like()
    data["train"] = data["unsupervised"]  # -1 labels
    with pytest.raises(MubenchError, match=r"labels outside \[0, 2\)"):
        build_splits(
            "imdb", tmp_path / "repo", ratios=(10,), source=data, ood_source=False, show_progress=False
        )


def test_task_definition_is_checked() -> None:
    with pytest.raises(MubenchError, match="modality must be one of"):
        Task(name="x", modality="smell", class_names=("a",), loader=lambda: None)
    with pytest.raises(MubenchError, match="exactly one of hub= or loader="):
        Task(name="x", modality="image", class_names=("a",))


def test_tasks_have_a_kind() -> None:
    kinds = {name: get_task(name).kind for name in list_tasks()}
    assert {name for name, kind in kinds.items() if kind == "generation"} == {
        "debian_summaries", "fictitious_authors", "fictitious_authors_small", "muse_books", "muse_manpages",
        "muse_news", "samsum", "tofu", "wmdp_bio", "wmdp_cyber", "wmdp_pydocs",
    }  # fmt: skip
    assert {name for name, kind in kinds.items() if kind == "image_generation"} == {
        "digits_t2i", "fashion_mnist_t2i", "tiny_imagenet_t2i", "unlearncanvas_object", "unlearncanvas_style",
    }  # fmt: skip
    assert set(kinds.values()) == {"classification", "generation", "image_generation"}
    assert (
        Task(name="g", modality="text", class_names=(), loader=lambda: None, kind="generation").kind
        == "generation"
    )
    with pytest.raises(
        MubenchError,
        match="kind must be one of \\['classification', 'generation', 'image_generation'\\], not 'regression'",
    ):
        Task(name="x", modality="text", class_names=("a",), loader=lambda: None, kind="regression")


@pytest.fixture
def empty_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline with caches that hold nothing, whatever this machine has downloaded before."""
    import huggingface_hub.constants

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "datasets_cache")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub_cache"))


def test_a_hub_task_offline_says_so_and_names_source(tmp_path: Path, empty_hub_cache: None) -> None:
    with pytest.raises(MubenchError) as err:
        build_splits("cifar10", tmp_path / "repo", ratios=(5,), show_progress=False)
    message = str(err.value)
    assert "task 'cifar10' reads uoft-cs/cifar10@main from the Hugging Face Hub" in message
    assert "offline (HF_HUB_OFFLINE=1)" in message and "--source PATH" in message
    with pytest.raises(
        MubenchError, match=r"the OOD set of task 'imdb' reads cornell-movie-review-data.*--ood-source PATH"
    ):
        build_splits("imdb", tmp_path / "repo", ratios=(10,), source=imdb_like(), show_progress=False)
    assert not (tmp_path / "repo").exists()


def test_a_source_folder_that_holds_no_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "notes.bin").write_bytes(b"\x00\x01")
    with pytest.raises(MubenchError, match=r"source for task 'cifar10': .*src did not load .*save_to_disk"):
        build_splits("cifar10", tmp_path / "repo", ratios=(5,), source=folder, show_progress=False)


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".hidden", "has space"])
def test_task_names_must_be_plain(name: str) -> None:
    with pytest.raises(MubenchError, match="use letters, digits"):
        Task(name=name, modality="text", class_names=("a",), loader=lambda: None)
