"""``go_relations``: an offline, DDI-shaped relation task made of real Gene Ontology relations.

MU-Bench's biomedical task (DDI-2013, ``mubench_hf.tasks.ddi``) classifies the relation between two marked
entities of a sentence into 5 labels. This task has the same shape with real biomedical relations that
every Debian mirror carries: the Gene Ontology in Bioconductor's ``GO.db`` (Debian package
``r-bioc-go.db``, 12 MB; its ``GO.sqlite`` is built from ``go-basic.obo`` of 2022-07-01; GO content is
CC-BY-4.0). The package is *not* installed (it depends on R): :func:`fetch_go_db` downloads the ``.deb``
with ``apt-get download``, unpacks it with ``dpkg-deb -x`` and keeps only ``GO.sqlite``;
``scripts/fetch_go_db.sh`` (what ``make system-deps`` runs) does the same in plain shell.

Rows, deterministic given the file:

1. every direct parent edge of the three ontologies (``go_bp_parents``, ``go_cc_parents``,
   ``go_mf_parents``: child term, parent term, ``relationship_type``) whose type is one of
   ``isa``, ``part of``, ``regulates``, ``positively regulates``, ``negatively regulates`` (the labels
   ``is_a``, ``part_of``, ``regulates``, ``positively_regulates``, ``negatively_regulates``; GO.db holds no
   other types); a (child, parent) pair linked by two types is dropped, so every pair has one label;
2. edges sorted by (child GO id, parent GO id); per label, ``ROWS_PER_LABEL`` (800) edges drawn with
   ``numpy.random.default_rng(0)``: balanced, 20 % each (4,000 rows);
3. the text: one of ``TEMPLATES`` (drawn with the same generator, independently of the label) with the
   child term's name between ``[E1] … [/E1]`` and the parent's between ``[E2] … [/E2]``. The templates
   only say that the two terms are related, never how: the relation has to be read off the names (as a
   DDI model reads it off the sentence), e.g. "positive regulation of X" → "X" is positively_regulates
   while "positive regulation of X" → "regulation of X" is is_a;
4. a seeded permutation (``default_rng(1)``) per label sends 80 % to ``train``, 10 % to ``validation``,
   10 % to ``test``: 3,200 / 400 / 400 rows, 640 / 80 / 80 per label.

A checkpoint brings its own tokenizer (BioBERT, BiomedBERT: any BERT-family id). The ``tiny:`` text models
get a WordPiece tokenizer over a built-in vocabulary (special tokens, the entity markers, the template
words, common GO words, then single characters so any name tokenizes without ``[UNK]``): it does not
depend on the data, so every model of a study reads the rows the same way. Base and retrain models train
for 16 epochs (``GO_RELATIONS_RECIPE``): ``mubench run --task go_relations --methods
retrain,grad_ascent,finetune --ratios 5 --seeds 42`` gave the tiny BERT 0.88 test accuracy (retrain
reference 0.86; chance 0.20) in 6.5 minutes on a shared 2-core CPU.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import string
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import numpy as np

from ..errors import MubenchError
from .base import Task
from .go_words import GO_WORDS
from .registry import register_task

GO_DB_ENV = "MUBENCH_GO_DB"
GO_DB_FILE = "GO.sqlite"
GO_DEB_PACKAGE = "r-bioc-go.db"
# where GO.sqlite lies inside the .deb
GO_DEB_MEMBER = "usr/lib/R/site-library/GO.db/extdata/GO.sqlite"
GO_CITATION = """@article{go2023,
  title   = {The Gene Ontology knowledgebase in 2023},
  author  = {{The Gene Ontology Consortium}},
  journal = {Genetics},
  volume  = {224},
  number  = {1},
  year    = {2023}
}"""

#: GO.db's relationship_type → the task's label, in label order
GO_RELATION_TYPES = {
    "isa": "is_a",
    "part of": "part_of",
    "regulates": "regulates",
    "positively regulates": "positively_regulates",
    "negatively regulates": "negatively_regulates",
}
GO_RELATION_CLASS_NAMES = tuple(GO_RELATION_TYPES.values())
GO_PARENT_TABLES = ("go_bp_parents", "go_cc_parents", "go_mf_parents")
ROWS_PER_LABEL = 800
SAMPLE_SEED = 0
SPLIT_SEED = 1
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)

MARKERS = ("[E1]", "[/E1]", "[E2]", "[/E2]")
E1 = "[E1] {child} [/E1]"
E2 = "[E2] {parent} [/E2]"
# Neutral about the relation: each says the two terms are linked, in a different order and wording.
TEMPLATES = (
    f"The Gene Ontology relates {E1} to {E2}.",
    f"{E1} is linked to {E2} in the ontology.",
    f"In GO, {E2} is connected with {E1}.",
    f"Curators record a relation between {E1} and {E2}.",
    f"A direct edge joins {E1} and {E2}.",
    f"Consider the terms {E2} and {E1}.",
    f"{E2} and {E1} share an edge of the graph.",
    f"One relation connects {E1} with {E2}.",
)
TINY_MAX_TOKENS = 128  # the tiny BERT's max_position_embeddings
TINY_VOCAB_SIZE = 1000  # the tiny BERT's vocab_size
# Base and retrain models of go_relations: the default recipe's lr (3e-3) for 16 epochs instead of 8. With 8
# the tiny BERT (seed 42) sat near 0.39 validation accuracy for 3 epochs and ended at 0.62 as the rate
# decayed; with 16 it passed 0.9 by epoch 7 and ended at 0.89 test accuracy (chance 0.2).
GO_RELATIONS_RECIPE = {"num_train_epochs": 16.0}


def default_go_db() -> Path:
    """Where the task looks for ``GO.sqlite``: ``$MUBENCH_GO_DB`` (the file, or a folder holding it),
    else ``$MUBENCH_CACHE`` / ``$XDG_CACHE_HOME`` / ``~/.cache``, then ``mubench-hf/go/GO.sqlite``."""
    given = os.environ.get(GO_DB_ENV)
    if given:
        path = Path(given)
        return path / GO_DB_FILE if path.is_dir() else path
    base = os.environ.get("MUBENCH_CACHE") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mubench-hf" / "go" / GO_DB_FILE


def go_db_available(path: str | os.PathLike | None = None) -> bool:
    """Whether the GO.sqlite file is there (tests skip on ``False``)."""
    return Path(path or default_go_db()).is_file()


def fetch_go_db(target: str | os.PathLike | None = None) -> Path:
    """Download Debian's ``r-bioc-go.db`` with ``apt-get download`` (no install: it depends on R), unpack it
    with ``dpkg-deb -x`` and keep its ``GO.sqlite`` at ``target`` (default: :func:`default_go_db`).
    Returns the file; a file already there is kept."""
    target = Path(target) if target is not None else default_go_db()
    if target.is_file():
        return target
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise MubenchError(
                f"fetching GO.db needs {tool} (Debian/Ubuntu); elsewhere get GO.sqlite from Bioconductor's "
                f"GO.db package and set {GO_DB_ENV} to it"
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="go-deb-", dir=target.parent) as scratch:
        run = dict(cwd=scratch, check=True, capture_output=True, text=True)
        try:
            subprocess.run(["apt-get", "download", GO_DEB_PACKAGE], **run)  # type: ignore[call-overload]
            (deb,) = Path(scratch).glob(f"{GO_DEB_PACKAGE}_*.deb")
            subprocess.run(["dpkg-deb", "-x", str(deb), "x"], **run)  # type: ignore[call-overload]
        except (subprocess.CalledProcessError, ValueError) as err:
            detail = (getattr(err, "stderr", "") or str(err)).strip()
            last = detail.splitlines()[-1] if detail else type(err).__name__
            raise MubenchError(
                f"could not fetch {GO_DEB_PACKAGE} ({last}); "
                "run 'apt-get update' first, or set "
                f"{GO_DB_ENV} to a GO.sqlite you have"
            ) from None
        partial = target.with_suffix(".partial")
        shutil.move(str(Path(scratch) / "x" / GO_DEB_MEMBER), partial)
        os.replace(partial, target)
    return target


def _missing_db(path: Path) -> MubenchError:
    return MubenchError(
        f"task 'go_relations' reads the Gene Ontology from {path}, which does not exist: run "
        f"'make system-deps' or 'sh scripts/fetch_go_db.sh' in a checkout (or call "
        f"mubench_hf.tasks.go_relations.fetch_go_db()), which fetch Debian's {GO_DEB_PACKAGE} without "
        f"installing it and keep its GO.sqlite there, or set {GO_DB_ENV} to a GO.sqlite"
    )


def read_go_edges(path: str | os.PathLike) -> list[tuple[str, str, str, str, int]]:
    """(child GO id, child name, parent GO id, parent name, label) of every single-typed direct edge,
    sorted by (child id, parent id)."""
    path = Path(path)
    if not path.is_file():
        raise _missing_db(path)
    label_of = {kind: i for i, kind in enumerate(GO_RELATION_TYPES)}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            union = " UNION ALL ".join(
                f"SELECT _id, _parent_id, relationship_type FROM {t}" for t in GO_PARENT_TABLES
            )
            rows = db.execute(
                f"SELECT c.go_id, c.term, p.go_id, p.term, e.relationship_type FROM ({union}) AS e "
                "JOIN go_term AS c ON c._id = e._id JOIN go_term AS p ON p._id = e._parent_id"
            ).fetchall()
    except sqlite3.DatabaseError as err:
        raise MubenchError(
            f"{path} is not Bioconductor's GO.db SQLite file ({err}); delete it and fetch it again"
        ) from None
    types: dict[tuple[str, str], set[str]] = {}
    names: dict[str, str] = {}
    for child, child_name, parent, parent_name, kind in rows:
        if kind in label_of:
            types.setdefault((child, parent), set()).add(kind)
            names[child], names[parent] = child_name, parent_name
    return [
        (child, names[child], parent, names[parent], label_of[next(iter(kinds))])
        for (child, parent), kinds in sorted(types.items())
        if len(kinds) == 1
    ]


def relation_text(child: str, parent: str, template: int) -> str:
    """The sentence of one row: template ``template`` with the two names marked."""
    return TEMPLATES[template].format(child=child, parent=parent)


def build_go_relations(
    edges: list[tuple[str, str, str, str, int]], rows_per_label: int = ROWS_PER_LABEL
) -> datasets.DatasetDict:
    """``train`` / ``validation`` / ``test`` rows (``text``, ``label``, ``child_id``, ``parent_id``) from
    sorted edges (see the module docstring)."""
    by_label = [[e for e in edges if e[4] == k] for k in range(len(GO_RELATION_CLASS_NAMES))]
    short = {GO_RELATION_CLASS_NAMES[k]: len(b) for k, b in enumerate(by_label) if len(b) < rows_per_label}
    if short:
        raise MubenchError(
            f"go_relations: the GO file has too few edges of {short} for {rows_per_label} rows per label"
        )
    sample = np.random.default_rng(SAMPLE_SEED)
    split_rng = np.random.default_rng(SPLIT_SEED)
    n_train = int(round(SPLIT_FRACTIONS[0] * rows_per_label))
    n_validation = int(round(SPLIT_FRACTIONS[1] * rows_per_label))
    parts: dict[str, list[tuple[str, str, str, str, int, int]]] = {"train": [], "validation": [], "test": []}
    for label_edges in by_label:
        chosen = np.sort(sample.choice(len(label_edges), rows_per_label, replace=False))
        templates = sample.integers(0, len(TEMPLATES), rows_per_label)
        rows = [(*label_edges[i], int(t)) for i, t in zip(chosen, templates)]
        order = split_rng.permutation(rows_per_label)
        cuts = {
            "train": order[:n_train],
            "validation": order[n_train : n_train + n_validation],
            "test": order[n_train + n_validation :],
        }
        for name, idx in cuts.items():
            parts[name].extend(rows[i] for i in np.sort(idx))
    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "label": datasets.ClassLabel(names=list(GO_RELATION_CLASS_NAMES)),
            "child_id": datasets.Value("string"),
            "parent_id": datasets.Value("string"),
        }
    )
    return datasets.DatasetDict(
        {
            name: datasets.Dataset.from_dict(
                {
                    "text": [relation_text(r[1], r[3], r[5]) for r in rows],
                    "label": [r[4] for r in rows],
                    "child_id": [r[0] for r in rows],
                    "parent_id": [r[2] for r in rows],
                },
                features=features,
            )
            for name, rows in parts.items()
        }
    )


def load_go_relations_splits(path: str | os.PathLike | None = None) -> datasets.DatasetDict:
    """The task's splits from ``GO.sqlite`` (default :func:`default_go_db`)."""
    return build_go_relations(read_go_edges(path or default_go_db()))


# ----------------------------------------------------------------------------- the tiny tokenizer
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
TEMPLATE_WORDS = tuple(
    sorted(
        {
            w
            for t in TEMPLATES
            for w in t.lower()
            .replace("{child}", " ")
            .replace("{parent}", " ")
            .translate(str.maketrans({c: " " for c in ".,"}))
            .split()
            if w not in {m.lower() for m in MARKERS}
        }
    )
)
_CHARACTERS = string.ascii_lowercase + string.digits
_PUNCTUATION = ".,;:!?'\"()-/+[]<>_=*&%#@$"


def tiny_vocabulary(words: tuple[str, ...] | None = None) -> dict[str, int]:
    """Special tokens, the entity markers, whole ``words`` (default: the template and GO words), then every
    character as a word start and as a ``##`` continuation, so any text tokenizes without ``[UNK]``; at most
    1,000 entries (the tiny BERT's vocabulary size: words past that are left out)."""
    tokens: list[str] = [*SPECIAL_TOKENS, *MARKERS]
    pieces = [*_CHARACTERS, *_PUNCTUATION, *(f"##{c}" for c in _CHARACTERS)]
    room = TINY_VOCAB_SIZE - len(tokens) - len(pieces)
    seen = set(tokens) | set(pieces)
    for word in (*TEMPLATE_WORDS, *GO_WORDS) if words is None else words:
        if word not in seen and room > 0:
            tokens.append(word)
            seen.add(word)
            room -= 1
    tokens += pieces
    return {token: i for i, token in enumerate(tokens)}


def tiny_tokenizer(words: tuple[str, ...] | None = None) -> Any:
    """A lower-casing BERT WordPiece tokenizer over :func:`tiny_vocabulary`; the markers are special tokens,
    so they stay whole (and are not lower-cased)."""
    from transformers import BertTokenizer

    tokenizer = BertTokenizer(
        vocab=tiny_vocabulary(words), do_lower_case=True, model_max_length=TINY_MAX_TOKENS
    )
    tokenizer.add_special_tokens({"additional_special_tokens": list(MARKERS)})
    return tokenizer


@dataclass(frozen=True)
class TinyTokenizerTask(Task):
    """A text task whose ``tiny:`` models (built from a config, no checkpoint to read a tokenizer from) get
    :func:`tiny_tokenizer`; a checkpoint or ``--processor`` brings its own. ``recipe`` replaces fields of
    the base/retrain recipe (``RecipeArguments``) unless given."""

    tiny_words: tuple[str, ...] | None = None  # None: the template and GO words
    recipe: Mapping[str, Any] = field(default_factory=dict)

    def recipe_defaults(self) -> dict[str, Any]:
        return dict(self.recipe)

    def config_model_processor(self, splits: Any) -> Any:
        return tiny_tokenizer(self.tiny_words)


GO_RELATIONS = register_task(
    TinyTokenizerTask(
        name="go_relations",
        modality="text",
        class_names=GO_RELATION_CLASS_NAMES,
        description="Gene Ontology term pairs in a sentence with [E1]/[E2] markers, classed by their GO "
        "relation (is_a, part_of, regulates, positively/negatively regulates): a DDI-shaped task, offline.",
        loader=load_go_relations_splits,
        validation_split="validation",
        license="cc-by-4.0",
        source_citation=GO_CITATION,
        split_note="Debian r-bioc-go.db 3.16 (GO 2022-07-01) direct edges, 800 per relation drawn with rng "
        "seed 0, split 80/10/10 per relation (seed 1): 3,200 train / 400 validation / 400 test",
        recipe=GO_RELATIONS_RECIPE,
    )
)
