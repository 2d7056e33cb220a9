"""The offline go_relations task: GO.db edges → balanced, seeded relation rows with marked term names.

The loader's logic is tested on a small GO.db-shaped SQLite file made here; the tests on the real file skip
when it is absent (sh scripts/fetch_go_db.sh or make system-deps fetches it, or set MUBENCH_GO_DB).
"""

from __future__ import annotations

import collections
import sqlite3
from pathlib import Path

import pytest

from mubench_hf import MubenchError, get_task
from mubench_hf.kinds import kind_of
from mubench_hf.tasks import go_relations as go
from mubench_hf.tasks.go_relations import (
    GO_DB_ENV,
    GO_RELATION_CLASS_NAMES,
    MARKERS,
    TEMPLATES,
    build_go_relations,
    default_go_db,
    fetch_go_db,
    go_db_available,
    read_go_edges,
    tiny_tokenizer,
)

needs_go_db = pytest.mark.skipif(
    not go_db_available(),
    reason=f"GO.sqlite not found at {default_go_db()} (sh scripts/fetch_go_db.sh fetches Debian's "
    f"r-bioc-go.db, or set {GO_DB_ENV})",
)

GO_TYPES = ("isa", "part of", "regulates", "positively regulates", "negatively regulates")


def _go_sqlite(path: Path, per_type: int = 12) -> Path:
    """GO.db's tables that the task reads: go_term and the three *_parents tables."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE go_term (_id INTEGER PRIMARY KEY, go_id TEXT, term TEXT, ontology TEXT, "
        "definition TEXT)"
    )
    for table in ("go_bp_parents", "go_cc_parents", "go_mf_parents"):
        db.execute(f"CREATE TABLE {table} (_id INTEGER, _parent_id INTEGER, relationship_type TEXT)")
    terms = []
    for k, kind in enumerate(GO_TYPES):
        for i in range(per_type):
            child, parent = len(terms) + 1, len(terms) + 2
            terms += [
                (child, f"GO:{child:07d}", f"{kind} child {i}"),
                (parent, f"GO:{parent:07d}", f"parent {k}-{i}"),
            ]
            table = "go_cc_parents" if kind == "part of" and i % 2 else "go_bp_parents"
            db.execute(f"INSERT INTO {table} VALUES (?, ?, ?)", (child, parent, kind))
    # a pair linked by two types (dropped), a type the task does not use (ignored)
    db.execute("INSERT INTO go_bp_parents VALUES (1, 2, 'part of')")
    db.execute("INSERT INTO go_mf_parents VALUES (3, 4, 'has part')")
    db.executemany("INSERT INTO go_term VALUES (?, ?, ?, 'BP', '')", terms)
    db.commit()
    db.close()
    return path


def test_edges_are_read_with_one_label_each(tmp_path: Path) -> None:
    edges = read_go_edges(_go_sqlite(tmp_path / "GO.sqlite"))
    counts = collections.Counter(e[4] for e in edges)
    # child 1 → 2 has two types and is dropped; 'has part' is not one of the five
    assert counts == {0: 11, 1: 12, 2: 12, 3: 12, 4: 12}
    assert edges == sorted(edges, key=lambda e: (e[0], e[2]))
    assert ("GO:0000025", "part of child 0", "GO:0000026", "parent 1-0", 1) in edges


def test_rows_are_balanced_seeded_and_split_per_label(tmp_path: Path) -> None:
    edges = read_go_edges(_go_sqlite(tmp_path / "GO.sqlite"))
    data = build_go_relations(edges, rows_per_label=10)
    assert {k: len(v) for k, v in data.items()} == {"train": 40, "validation": 5, "test": 5}
    for split in data.values():
        assert collections.Counter(split["label"]) == {k: len(split) // 5 for k in range(5)}
        assert split.features["label"].names == list(GO_RELATION_CLASS_NAMES)
    again = build_go_relations(edges, rows_per_label=10)
    assert again["test"]["text"] == data["test"]["text"]
    pairs = [set(zip(s["child_id"], s["parent_id"])) for s in data.values()]
    assert not (pairs[0] & pairs[1] or pairs[0] & pairs[2] or pairs[1] & pairs[2])
    names = {e[0]: e[1] for e in edges} | {e[2]: e[3] for e in edges}
    for row in data["train"]:
        assert f"[E1] {names[row['child_id']]} [/E1]" in row["text"]
        assert f"[E2] {names[row['parent_id']]} [/E2]" in row["text"]
    with pytest.raises(MubenchError, match=r"too few edges of \{'is_a': 11"):
        build_go_relations(edges, rows_per_label=12)


def test_templates_do_not_name_the_relation() -> None:
    words = {"is_a", "part", "regulates", "regulation", "positive", "negative", "positively", "negatively"}
    for template in TEMPLATES:
        text = template.format(child="X", parent="Y").lower()
        assert not words & set(text.replace(".", " ").replace(",", " ").split())
        assert text.count("[e1] x [/e1]") == 1 and text.count("[e2] y [/e2]") == 1


def test_a_missing_file_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GO_DB_ENV, str(tmp_path / "nowhere" / "GO.sqlite"))
    with pytest.raises(
        MubenchError, match=r"run 'make system-deps' or 'sh scripts/fetch_go_db.sh'.*or set MUBENCH_GO_DB"
    ):
        get_task("go_relations").load()
    (tmp_path / "junk.sqlite").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(MubenchError, match="is not Bioconductor's GO.db SQLite file"):
        read_go_edges(tmp_path / "junk.sqlite")


def test_where_the_file_is_looked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GO_DB_ENV, str(tmp_path))
    assert default_go_db() == tmp_path / "GO.sqlite"  # a folder holding it
    monkeypatch.delenv(GO_DB_ENV)
    monkeypatch.setenv("MUBENCH_CACHE", str(tmp_path / "cache"))
    assert default_go_db() == tmp_path / "cache" / "mubench-hf" / "go" / "GO.sqlite"


def test_fetch_keeps_a_file_that_is_there_and_says_what_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _go_sqlite(tmp_path / "GO.sqlite")
    before = target.read_bytes()
    assert fetch_go_db(target) == target and target.read_bytes() == before
    monkeypatch.setattr(go.shutil, "which", lambda tool: None)
    with pytest.raises(MubenchError, match="fetching GO.db needs apt-get"):
        fetch_go_db(tmp_path / "other" / "GO.sqlite")


def test_the_tiny_tokenizer_keeps_markers_whole() -> None:
    tokenizer = tiny_tokenizer()
    text = TEMPLATES[0].format(child="negative regulation of interleukin-10 production", parent="necroptosis")
    tokens = tokenizer.tokenize(text)
    assert [t for t in tokens if t in MARKERS] == list(MARKERS)
    assert "[UNK]" not in tokens and {"negative", "regulation", "interleukin", "production"} <= set(tokens)
    assert len(tokenizer) <= 1000
    task = get_task("go_relations")
    assert task.modality == "text" and task.loader is not None
    assert kind_of(task).load_processor(task, "tiny:bert", None).get_vocab() == tokenizer.get_vocab()


@needs_go_db
def test_the_real_task_from_go_db() -> None:
    data = get_task("go_relations").load()
    assert {k: len(v) for k, v in data.items()} == {"train": 3200, "validation": 400, "test": 400}
    assert collections.Counter(data["test"]["label"]) == {k: 80 for k in range(5)}
    tokenizer = tiny_tokenizer()
    encoded = tokenizer(list(data["train"]["text"]) + list(data["test"]["text"]))["input_ids"]
    assert max(map(len, encoded)) <= 128  # the tiny BERT's positions: nothing is cut
    assert not any(tokenizer.unk_token_id in ids for ids in encoded)


@pytest.mark.slow
@needs_go_db
def test_the_tiny_model_learns_the_relations_well_above_chance(
    tmp_path: Path, one_torch_thread: None
) -> None:
    """The task's own recipe (16 epochs): 0.89 test accuracy measured with seed 42 (chance 0.2)."""
    from mubench_hf import build_splits
    from mubench_hf.reference_models import RecipeArguments, train_base

    repo = tmp_path / "repo"
    build_splits("go_relations", repo, ratios=(5,), show_progress=False)
    task = get_task("go_relations")
    recipe = RecipeArguments(output_dir=str(tmp_path / "base"), disable_tqdm=True, **task.recipe_defaults())
    result = train_base(str(repo), task, "tiny:bert", tmp_path / "base", args=recipe,
                        cache_dir=str(tmp_path / "c"), quiet=True)  # fmt: skip
    assert result["test_accuracy"] >= 0.5  # 2.5x chance; measured 0.89
