"""The forget set is exactly the declared one (issue 22): whatever the repo folder is called and however it
was rebuilt, every load gives the rows its manifest names; an imported order means the source's rows even
where a task drops some; TOFU's authors are the copy's authors or the copy is refused; an empty source
split is named."""

from __future__ import annotations

import ast
import re
import shutil
import sys
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest

from mubench_hf import MubenchError, build_splits, read_manifest, verify_repo
from mubench_hf.splits import load_deletion_config

sys.path.insert(0, str(Path(__file__).parent))
from fixtures.generation_upstream import tofu_like  # noqa: E402
from fixtures.upstream import cifar10_like, imdb_like  # noqa: E402

PACKAGE = Path(__file__).resolve().parents[1] / "mubench_hf"


def _forget_file_ids(repo: Path, config: str) -> list[int]:
    """The sample_ids the manifest's forget files hold on disk, read without datasets (or its cache)."""
    entry = next(e for e in read_manifest(repo)["tasks"].values() if config in e["configs"])
    return [
        i
        for rel in entry["configs"][config]["forget"]
        for i in pq.read_table(repo / rel)["sample_id"].to_pylist()
    ]


@pytest.fixture(scope="module")
def two_seeds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two repos both called ``mubench`` (the default name): digits del5 with seed 42 and with seed 7."""
    root = tmp_path_factory.mktemp("two_seeds")
    a, b = root / "a" / "mubench", root / "b" / "mubench"
    build_splits("digits", a, ratios=(5,), show_progress=False)
    build_splits("digits", b, ratios=(5,), seed=7, show_progress=False)
    return a, b


# --------------------------------------------------------------------------- the datasets cache
def test_two_repos_named_mubench_each_load_their_own_forget_rows(two_seeds: tuple, fresh_cache: str) -> None:
    a, b = two_seeds
    want_a, want_b = _forget_file_ids(a, "digits_del5"), _forget_file_ids(b, "digits_del5")
    assert want_a != want_b  # the seeds differ, so the forget sets do
    got_a = load_deletion_config(a, "digits_del5", cache_dir=fresh_cache)["forget"]["sample_id"]
    got_b = load_deletion_config(b, "digits_del5", cache_dir=fresh_cache)["forget"]["sample_id"]
    assert list(got_a) == want_a and list(got_b) == want_b
    # a user's own plain load_dataset(folder, config) is keyed by the README's content hash too
    for repo, want in ((a, want_a), (b, want_b)):
        plain = datasets.load_dataset(str(repo), "digits_del5", cache_dir=fresh_cache)["forget"]["sample_id"]
        assert list(plain) == want


def test_every_command_loads_the_declared_rows(two_seeds: tuple, fresh_cache: str) -> None:
    """``pipeline.prepare`` is where train-base, retrain, unlearn, evaluate and the sweep cells load a config."""
    from mubench_hf.pipeline import prepare

    a, b = two_seeds
    for repo in (a, b, a):
        prepared = prepare(str(repo), "digits_del5", "tiny:resnet", cache_dir=fresh_cache)
        assert list(prepared.raw["forget"]["sample_id"]) == _forget_file_ids(repo, "digits_del5")
        assert prepared.raw["forget"].info.config_name == "digits_del5"  # what cards and reports read


def _calls_load_dataset(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name == "load_dataset":
                return True
    return False


def test_the_product_loads_deletion_repos_only_through_the_checked_loader() -> None:
    """Every ``load_dataset`` call of the package: the checked deletion-config loader, or task sources."""
    allowed = {"splits/load.py", "tasks/sources.py", "tasks/mubench_hub_tasks.py"}
    callers = {str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if _calls_load_dataset(path)}
    assert "splits/load.py" in callers and callers <= allowed, callers - allowed


def test_an_in_place_rebuild_with_another_seed_loads_the_new_rows(tmp_path: Path, fresh_cache: str) -> None:
    repo = tmp_path / "mubench"
    build_splits("digits", repo, ratios=(5,), show_progress=False)
    first = list(load_deletion_config(repo, "digits_del5", cache_dir=fresh_cache)["forget"]["sample_id"])
    assert (
        datasets.load_dataset(str(repo), "digits_del5", cache_dir=fresh_cache)["forget"]["sample_id"] == first
    )
    build_splits("digits", repo, ratios=(5,), seed=7, overwrite=True, show_progress=False)
    second = list(load_deletion_config(repo, "digits_del5", cache_dir=fresh_cache)["forget"]["sample_id"])
    assert second == _forget_file_ids(repo, "digits_del5") and second != first
    plain = datasets.load_dataset(str(repo), "digits_del5", cache_dir=fresh_cache)["forget"]["sample_id"]
    assert list(plain) == second


def test_a_cache_entry_written_from_other_files_is_rebuilt(
    two_seeds: tuple, tmp_path: Path, fresh_cache: str
) -> None:
    from mubench_hf.splits.manifest import cache_key

    a, b = two_seeds
    repo = tmp_path / "mubench"
    shutil.copytree(a, repo)
    chunk = repo / "data/digits/train/chunk-01.parquet"
    original = chunk.read_bytes()
    entry = read_manifest(repo)["tasks"]["digits"]
    # poison the cache entry of this content: generate it while seed 7's forget file stands in (same size)
    shutil.copyfile(b / "data/digits/train/chunk-01.parquet", chunk)
    datasets.load_dataset(str(repo), "digits_del5", cache_dir=fresh_cache, description=cache_key(entry))
    chunk.write_bytes(original)
    loaded = load_deletion_config(repo, "digits_del5", cache_dir=fresh_cache)
    assert list(loaded["forget"]["sample_id"]) == _forget_file_ids(a, "digits_del5")


def test_a_forget_file_that_is_not_the_declared_one_is_refused(
    two_seeds: tuple, tmp_path: Path, fresh_cache: str
) -> None:
    a, b = two_seeds
    repo = tmp_path / "mubench"
    shutil.copytree(a, repo)
    shutil.copyfile(b / "data/digits/train/chunk-01.parquet", repo / "data/digits/train/chunk-01.parquet")
    with pytest.raises(
        MubenchError, match=r"forget file data/digits/train/chunk-01.parquet .* SHA-256 differs"
    ):
        load_deletion_config(repo, "digits_del5", cache_dir=fresh_cache)


def test_a_readme_from_before_the_cache_key_still_loads_and_verifies(
    two_seeds: tuple, tmp_path: Path, fresh_cache: str
) -> None:
    a, _ = two_seeds
    repo = tmp_path / "mubench"
    shutil.copytree(a, repo)
    readme = repo / "README.md"
    text = readme.read_text()
    assert "  description: mubench-hf deletion config; task content hash " in text
    readme.write_text(re.sub(r"\n  description: mubench-hf deletion config[^\n]*", "", text))
    assert verify_repo(repo) == []
    loaded = load_deletion_config(repo, "digits_del5", cache_dir=fresh_cache)
    assert list(loaded["forget"]["sample_id"]) == _forget_file_ids(a, "digits_del5")
    # a key naming another content is a README that no longer matches its manifest
    readme.write_text(text.replace("task content hash ", "task content hash 0", 1))
    assert any("differs from the manifest" in p for p in verify_repo(repo))


# --------------------------------------------------------------------------- orders over dropped rows
def _samsum_with_empty_row(empty: int = 5, n_train: int = 100) -> datasets.DatasetDict:
    def split(n: int, name: str) -> datasets.Dataset:
        dialogues = [f"Ann: {name} {i}?\nBob: yes, at {i}." for i in range(n)]
        if name == "train":
            dialogues[empty] = "   "
        return datasets.Dataset.from_dict(
            {
                "id": [str(i) for i in range(n)],
                "dialogue": dialogues,
                "summary": [f"Meet {i}." for i in range(n)],
            }
        )

    return datasets.DatasetDict(
        {"train": split(n_train, "train"), "validation": split(6, "v"), "test": split(6, "t")}
    )


def test_an_order_file_keeps_upstream_indices_when_a_row_was_dropped(
    tmp_path: Path, fresh_cache: str
) -> None:
    source = _samsum_with_empty_row()
    order = [7, 9, 23, 28, 39, 40, 41, 42, 43]  # 10 % of the 99 rows left
    path = tmp_path / "order.txt"
    path.write_text("".join(f"{i}\n" for i in order))
    for given in (path, order):
        repo = tmp_path / f"m_{type(given).__name__}"
        build_splits("samsum", repo, ratios=(10,), order=given, source=source, show_progress=False)
        forget = load_deletion_config(repo, "samsum_del10", cache_dir=fresh_cache)["forget"]
        assert forget["sample_id"] == order
        assert forget[0]["completion"] == " Meet 7."  # the upstream row 7, not the 8th row kept
        stored = (repo / "data/samsum/deletion_order.txt").read_text().split()
        assert [int(i) for i in stored] == order  # what --order reads back


def test_an_order_naming_a_dropped_row_is_refused_by_name(tmp_path: Path) -> None:
    source = _samsum_with_empty_row()
    path = tmp_path / "order.txt"
    path.write_text("".join(f"{i}\n" for i in [7, 5, 23, 28, 39, 40, 41, 42, 43]))
    with pytest.raises(MubenchError, match=r"names upstream train row\(s\) 5, which task 'samsum' drops"):
        build_splits("samsum", tmp_path / "m", ratios=(10,), order=path, source=source, show_progress=False)


def test_a_seeded_samsum_order_round_trips_through_its_order_file(tmp_path: Path, fresh_cache: str) -> None:
    source = _samsum_with_empty_row()
    build_splits("samsum", tmp_path / "a", ratios=(10,), source=source, show_progress=False)
    stored = tmp_path / "a/data/samsum/deletion_order.txt"
    build_splits("samsum", tmp_path / "b", ratios=(10,), order=stored, source=source, show_progress=False)
    ids = [
        load_deletion_config(tmp_path / r, "samsum_del10", cache_dir=fresh_cache)["forget"]["sample_id"]
        for r in "ab"
    ]
    assert ids[0] == ids[1] == [int(i) for i in stored.read_text().split()]


def test_an_order_list_error_names_the_list_not_a_temporary_file(tmp_path: Path) -> None:
    with pytest.raises(MubenchError) as err:
        build_splits("digits", tmp_path / "m", ratios=(5,), order=[1, 2, 3], show_progress=False)
    assert "the deletion order list lists 3 indices but the largest ratio needs 62" in str(err.value)
    assert "order.txt" not in str(err.value)
    with pytest.raises(MubenchError, match=r"deletion order list, entry 2: index 1 repeats entry 1"):
        build_splits("digits", tmp_path / "m", ratios=(5,), order=[1, 1], show_progress=False)


# --------------------------------------------------------------------------- TOFU's authors
def _tofu_small(per_author: int = 4, authors: int = 20, author_column: bool = False) -> dict:
    """A TOFU copy of ``authors`` × ``per_author`` questions; forget01/05 = the last author, forget10 the last 2."""
    rows = [
        (a, f"Q{q} about author {a}?", f"A{q} of {a}.") for a in range(authors) for q in range(per_author)
    ]
    holdout = [
        (authors + a, f"Q{q} about holdout {a}?", f"H{q}.") for a in range(2) for q in range(per_author)
    ]

    def config(selected: list[tuple]) -> datasets.DatasetDict:
        columns = {"question": [r[1] for r in selected], "answer": [r[2] for r in selected]}
        if author_column:
            columns["author"] = [f"Author {r[0]}" for r in selected]
        return datasets.DatasetDict({"train": datasets.Dataset.from_dict(columns)})

    last = lambda k: [r for r in rows if r[0] >= authors - k]  # noqa: E731
    facts = [(-1, f"Fact {i}?", f"True {i}.") for i in range(3)]
    return {"full": config(rows), "forget01": config(last(1)), "forget05": config(last(1)),
            "forget10": config(last(2)), "holdout10": config(holdout),
            "real_authors": config(facts), "world_facts": config(facts)}  # fmt: skip


def test_a_tofu_copy_without_20_questions_per_author_is_refused_with_the_reason(tmp_path: Path) -> None:
    source = _tofu_small()  # 80 rows: TOFU's blocks of 20 would make 4 "authors" of 5 real ones each
    with pytest.raises(MubenchError) as err:
        build_splits(
            "tofu", tmp_path / "m", ratios=(10,), order="upstream", source=source, show_progress=False
        )
    message = str(err.value)
    assert "forget01 holds 4 of the 20 questions of author 3 (rows 60-79 of 'full')" in message
    assert "do not have 20 questions each" in message and "'author' column" in message
    assert "order.txt" not in message
    with pytest.raises(MubenchError, match="do not have 20 questions each"):  # the seeded order too
        build_splits("tofu", tmp_path / "m", ratios=(50,), source=source, show_progress=False)


def test_a_tofu_copy_with_an_author_column_gets_its_own_author_blocks(
    tmp_path: Path, fresh_cache: str
) -> None:
    source = _tofu_small(author_column=True)
    repo = tmp_path / "m"
    build_splits("tofu", repo, ratios=(5, 10), order="upstream", source=source, show_progress=False)
    for ratio, config in ((5, "forget05"), (10, "forget10")):
        forget = load_deletion_config(repo, f"tofu_del{ratio}", cache_dir=fresh_cache)["forget"]
        questions = {p.removeprefix("Question: ").removesuffix("\nAnswer:") for p in forget["prompt"]}
        assert questions == set(source[config]["train"]["question"])
        assert len(forget) == 4 * ratio // 5  # one author of 4 questions, then two
    assert read_manifest(repo)["tasks"]["tofu"]["num_groups"] == 20


@pytest.mark.parametrize("config", ["forget01", "real_authors_perturbed"])
def test_an_empty_tofu_config_is_named(config: str, tmp_path: Path) -> None:
    source = dict(tofu_like())
    source[config] = datasets.DatasetDict({"train": source[config]["train"].select([])})
    with pytest.raises(MubenchError, match=f"tofu: config '{config}' of the source is empty"):
        build_splits(
            "tofu", tmp_path / "m", ratios=(10,), order="upstream", source=source, show_progress=False
        )


# --------------------------------------------------------------------------- empty source splits
def test_an_empty_split_of_a_saved_source_is_named(tmp_path: Path) -> None:
    source = cifar10_like(n_train=40, n_test=10)
    source["test"] = source["test"].select([])
    folder = tmp_path / "cifar_copy"
    source.save_to_disk(str(folder))  # an empty split gets no data file: load_from_disk raised IndexError
    with pytest.raises(MubenchError, match="task 'cifar10': the test split is empty"):
        build_splits(
            "cifar10", tmp_path / "m", ratios=(10,), source=folder, ood_source=False, show_progress=False
        )
    parquet = tmp_path / "cifar_parquet" / "data"
    parquet.mkdir(parents=True)
    for split, rows in source.items():
        rows.to_parquet(str(parquet / f"{split}-00000.parquet"))
    with pytest.raises(MubenchError, match="the 'test' split of .*cifar_parquet is empty"):
        build_splits(
            "cifar10",
            tmp_path / "m",
            ratios=(10,),
            source=parquet.parent,
            ood_source=False,
            show_progress=False,
        )
    imdb = imdb_like(n_train=40, n_test=10)
    imdb["unsupervised"] = imdb["unsupervised"].select([])  # a split the task does not read may be empty
    imdb.save_to_disk(str(tmp_path / "imdb_copy"))
    result = build_splits(
        "imdb",
        tmp_path / "i",
        ratios=(10,),
        source=tmp_path / "imdb_copy",
        ood_source=False,
        show_progress=False,
    )
    assert result.split_sizes["imdb_del10"]["test"] == 10 and result.split_sizes["imdb_del10"]["forget"] == 4
