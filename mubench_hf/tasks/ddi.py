"""``ddi``: DDI-2013 drug–drug interaction classification, MU-Bench's biomedical text task.

One row per pair of pharmacological entities in a sentence, 5 labels in MU-Bench's order
(``load_ddi2013`` in CLU-UML/MU-Bench maps ``DDI-false`` 0, ``DDI-mechanism`` 1, ``DDI-advise`` 2,
``DDI-effect`` 3, ``DDI-int`` 4). MU-Bench's backbones are BioBERT (``dmis-lab/biobert-v1.1``) and
BiomedBERT (``microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract[-fulltext]``); any BERT-family Hub id
works, as its own tokenizer is loaded.

**Source.** MU-Bench reads BLURB's TSV files (``raw_data/ddi/{train,dev,test}.tsv``: index, sentence,
label), which are not on the Hub. The Hub copy of DDI-2013 taken here is ``bigbio/ddi_corpus``, whose
loading script ``datasets`` no longer runs; its parquet conversion (revision ``refs/convert/parquet``,
config ``ddi_corpus_source``, files ``ddi_corpus_source/{train,test}/0000.parquet``) holds the corpus's
BRAT release (``DDICorpus-2013(BRAT).zip`` of isegura/DDICorpus) as one row per **document** (the 1,025
DrugBank and MedLine texts; splits ``train`` and ``test``, no validation), with the columns

* ``document_id`` (string), ``text`` (string, the whole document),
* ``entities``: list of {``offsets``: [start, end] character offsets into ``text`` (the first fragment
  of a discontinuous entity), ``text``, ``type`` (DRUG, BRAND, GROUP, DRUG_N), ``id`` (e.g. ``T1``)},
* ``relations``: list of {``id``, ``head``: {``ref_id``, ``role``}, ``tail``: {``ref_id``, ``role``},
  ``type``} — the annotated interactions only (no negative pairs).

How sure this is: the feature schema is read from bigbio's own script (``ddi_corpus.py``, ``_info`` for
schema ``source``) and the parquet files of that config from the Hub's file listing of
``refs/convert/parquet``: high confidence. The relation ``type`` strings are those of the BRAT ``.ann``
files, ``MECHANISM`` / ``EFFECT`` / ``ADVISE`` / ``INT`` as other readers of the same files use them: medium
confidence, so the loader accepts any case and an optional ``DDI-`` prefix, and refuses any other type by
name. Whether a BRAT ``.txt`` holds one sentence per line is not confirmed: the loader does not rely on it.
Nothing here was downloaded; the tests run on local documents of this schema
(``tests/fixtures/ddi.py``).

**Rows.** Each document is cut into sentences at line breaks and at ``.``/``!``/``?`` followed by
white space and an upper-case letter, digit or bracket, never inside an entity; every unordered pair of
entities of one sentence (ordered by offset) is a row, labelled by the relation between them (either
direction) or ``DDI-false``. This is how DDI-2013 defines its pairs; as the sentence cut is ours, the
counts may differ somewhat from the corpus's XML release (27,792 train / 5,716 test pairs; BLURB cut the
train pairs into 25,296 train + 2,496 dev). A pair whose two spans overlap is skipped.

**Entity marking** as BLURB and therefore MU-Bench's models see it: both drugs of the pair are replaced by
``@DRUG$`` (other drug mentions stay as written). ``mark_pair(..., mode="markers")`` gives
``[E1] … [/E1]`` / ``[E2] … [/E2]`` instead.

**Validation.** bigbio has no dev split: 10 % of the train documents (sorted by ``document_id``, a
``numpy.random.default_rng(0)`` permutation) become ``validation``, so no sentence is in two splits.

**Deletion order.** MU-Bench's ``mubench/df/ddi.txt`` (2,500 indices, max 25,295) indexes BLURB's train
TSV, whose rows these are not in the same order or number: it does not import here (``--order`` would
forget other pairs); the seeded (optionally ``--stratify``) order does the same job.

A source that already has one row per pair (``text`` and ``label`` columns, labels as names like
``DDI-effect``/``effect`` or as ids in MU-Bench's order) is taken as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np

from ..errors import MubenchError
from .base import HubSource
from .go_relations import TinyTokenizerTask
from .registry import register_task
from .sources import SourceLike

DDI_REPO = "bigbio/ddi_corpus"
DDI_REVISION = "refs/convert/parquet"
DDI_CONFIG = "ddi_corpus_source"
#: MU-Bench's label order (its load_ddi2013 label_mapping)
DDI_CLASS_NAMES = ("DDI-false", "DDI-mechanism", "DDI-advise", "DDI-effect", "DDI-int")
DDI_RELATION_TYPES = {"mechanism": 1, "advise": 2, "effect": 3, "int": 4}
DDI_MASK = "@DRUG$"
DDI_VALIDATION_FRACTION = 0.1
DDI_SPLIT_SEED = 0
DDI_CITATION = """@article{herrerozazo2013ddi,
  title   = {The DDI corpus: An annotated corpus with pharmacological substances and drug-drug interactions},
  author  = {Herrero-Zazo, Mar{\\'i}a and Segura-Bedmar, Isabel and Mart{\\'i}nez, Paloma
             and Declerck, Thierry},
  journal = {Journal of Biomedical Informatics},
  volume  = {46},
  number  = {5},
  pages   = {914--920},
  year    = {2013}
}"""
DOCUMENT_COLUMNS = ("document_id", "text", "entities", "relations")
# a sentence ends at . ! ? followed by white space and what starts a sentence
_SENTENCE_END = re.compile(r"[.!?]\s+(?=[A-Z0-9(\[])")
# words the DDI-2013 sentences have, whole in the tiny tokenizer
DDI_TINY_WORDS = tuple(
    """
    drug drugs interaction interactions with may be the of and or in is are was were not no
    increase increased decrease decreased levels plasma concentrations concentration effect effects
    dose doses administration concomitant concomitantly use coadministration patients should caution
    risk inhibitors inhibitor inducers metabolism clearance cyp3a4 cyp2d6 serum therapy treatment
    receiving taking when if has have been by this that these other such as also than
    """.split()
)


def sentence_spans(text: str, entity_spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``: cut at line breaks and sentence ends, never inside an
    entity span."""
    cuts = {m.end() for m in re.finditer(r"\n+", text)} | {
        m.start() + 1 for m in _SENTENCE_END.finditer(text)
    }
    inside = {c for c in cuts for start, end in entity_spans if start < c < end}
    bounds = [0, *sorted(cuts - inside - {0, len(text)}), len(text)]
    spans = []
    for start, end in zip(bounds, bounds[1:]):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def mark_pair(sentence: str, first: tuple[int, int], second: tuple[int, int], mode: str = "mask") -> str:
    """``sentence`` with the two spans (offsets into it, ``first`` before ``second``) replaced by
    ``@DRUG$`` (``mode="mask"``, BLURB's and MU-Bench's input) or wrapped in ``[E1]``/``[E2]`` markers."""
    (b1, e1), (b2, e2) = first, second
    if not (b1 < e1 <= b2 < e2):
        raise MubenchError(f"mark_pair needs two disjoint spans in order, got {first} and {second}")
    if mode == "mask":
        parts = (DDI_MASK, DDI_MASK)
    elif mode == "markers":
        parts = (f"[E1] {sentence[b1:e1]} [/E1]", f"[E2] {sentence[b2:e2]} [/E2]")
    else:
        raise MubenchError(f"mark_pair: mode must be 'mask' or 'markers', not {mode!r}")
    return sentence[:b1] + parts[0] + sentence[e1:b2] + parts[1] + sentence[e2:]


def relation_label(kind: str, where: str) -> int:
    """The class id of a relation type (``MECHANISM``, ``effect``, ``DDI-advise``, ...)."""
    key = str(kind).strip().lower()
    key = key[4:] if key.startswith("ddi-") else key
    if key not in DDI_RELATION_TYPES:
        raise MubenchError(
            f"ddi: {where} has a relation of type {kind!r}; DDI-2013's are {sorted(DDI_RELATION_TYPES)} "
            "(any case, optionally prefixed 'DDI-')"
        )
    return DDI_RELATION_TYPES[key]


def document_pairs(document: dict[str, Any], mode: str = "mask") -> tuple[list[dict[str, Any]], int]:
    """The pair rows of one document of the ``ddi_corpus_source`` schema, and how many pairs were skipped
    because their spans overlap."""
    text, doc_id = document["text"], document["document_id"]
    entities = []
    for entity in document["entities"]:
        offsets = list(entity["offsets"])
        if len(offsets) < 2 or not 0 <= offsets[0] < offsets[1] <= len(text):
            raise MubenchError(f"ddi: document {doc_id!r}, entity {entity['id']!r} has offsets {offsets}")
        entities.append((int(offsets[0]), int(offsets[1]), entity["id"]))
    entities.sort()
    known = {e[2] for e in entities}
    labels: dict[frozenset, int] = {}
    for relation in document["relations"] or []:
        ends = (relation["head"]["ref_id"], relation["tail"]["ref_id"])
        if not set(ends) <= known:
            raise MubenchError(
                f"ddi: document {doc_id!r}, relation {relation['id']!r} names unknown entities {ends}"
            )
        labels[frozenset(ends)] = relation_label(relation["type"], f"document {doc_id!r}")
    rows, skipped = [], 0
    for s_start, s_end in sentence_spans(text, [(b, e) for b, e, _ in entities]):
        inside = [e for e in entities if s_start <= e[0] and e[1] <= s_end]
        sentence = text[s_start:s_end]
        for i, (b1, e1, id1) in enumerate(inside):
            for b2, e2, id2 in inside[i + 1 :]:
                if b2 < e1:  # nested or overlapping mentions cannot both be marked
                    skipped += 1
                    continue
                rows.append(
                    {
                        "text": mark_pair(
                            sentence, (b1 - s_start, e1 - s_start), (b2 - s_start, e2 - s_start), mode
                        ),
                        "label": labels.get(frozenset((id1, id2)), 0),
                        "document_id": doc_id,
                        "e1_id": id1,
                        "e2_id": id2,
                    }
                )
    return rows, skipped


PAIR_FEATURES = datasets.Features(
    {
        "text": datasets.Value("string"),
        "label": datasets.ClassLabel(names=list(DDI_CLASS_NAMES)),
        "document_id": datasets.Value("string"),
        "e1_id": datasets.Value("string"),
        "e2_id": datasets.Value("string"),
    }
)


def documents_to_pairs(documents: datasets.Dataset, where: str, mode: str = "mask") -> datasets.Dataset:
    """One row per entity pair (``text``, ``label``, ``document_id``, ``e1_id``, ``e2_id``) of a split of
    the ``ddi_corpus_source`` schema, documents in ``document_id`` order."""
    missing = [c for c in DOCUMENT_COLUMNS if c not in documents.column_names]
    if missing:
        raise MubenchError(
            f"ddi: {where} is not shaped like {DDI_REPO} ({DDI_CONFIG}): it lacks {missing} "
            f"(columns: {documents.column_names}); give documents with {list(DOCUMENT_COLUMNS)} or pairs "
            "with 'text' and 'label'"
        )
    rows: list[dict[str, Any]] = []
    for document in sorted(documents.with_format(None), key=lambda d: d["document_id"]):
        rows.extend(document_pairs(document, mode)[0])
    if not rows:
        raise MubenchError(f"ddi: {where} has no sentence with two entities")
    return datasets.Dataset.from_list(rows, features=PAIR_FEATURES)


def _pairs_as_is(split: datasets.Dataset, where: str) -> datasets.Dataset:
    """A split that already has one row per pair: labels as names are mapped onto the class ids."""
    feature = split.features["label"]
    if isinstance(feature, datasets.ClassLabel):
        names = [
            relation_label(n, where) if n.lower() not in ("ddi-false", "false", "none") else 0
            for n in feature.names
        ]
        if names == list(range(len(DDI_CLASS_NAMES))):
            return split.cast_column("label", PAIR_FEATURES["label"])
        values = np.asarray(names)[np.asarray(split["label"], dtype=np.int64)]
    elif feature.dtype == "string":
        values = [
            0 if str(v).lower() in ("ddi-false", "false", "none") else relation_label(v, where)
            for v in split["label"]
        ]
    else:
        return split
    return (
        split.remove_columns("label")
        .add_column("label", list(map(int, values)))
        .cast_column("label", PAIR_FEATURES["label"])
    )


@dataclass(frozen=True)
class DdiTask(TinyTokenizerTask):
    """DDI-2013 from bigbio's documents (made into entity pairs) or from a copy that has pairs already."""

    marking: str = "mask"

    def _load_raw(self, source: SourceLike) -> datasets.DatasetDict:
        raw = super()._load_raw(source)
        out = {}
        for name, split in raw.items():
            where = f"split {name!r}"
            if "text" in split.column_names and "label" in split.column_names:
                out[name] = _pairs_as_is(split, where)
            elif name == "train" and "validation" not in raw:
                train, validation = _split_documents(split)
                out["train"] = documents_to_pairs(train, where, self.marking)
                out["validation"] = documents_to_pairs(validation, "the validation documents", self.marking)
            else:
                out[name] = documents_to_pairs(split, where, self.marking)
        return datasets.DatasetDict(out)


def _split_documents(documents: datasets.Dataset) -> tuple[datasets.Dataset, datasets.Dataset]:
    """(train, validation) documents: a seeded ``DDI_VALIDATION_FRACTION`` of them, by ``document_id``."""
    ids = sorted(documents["document_id"])
    n_validation = max(1, int(round(DDI_VALIDATION_FRACTION * len(ids))))
    if len(ids) < 2:
        raise MubenchError("ddi: the train split needs at least 2 documents to carve a validation split")
    chosen = np.random.default_rng(DDI_SPLIT_SEED).permutation(len(ids))[:n_validation]
    held = {ids[i] for i in chosen}
    is_held = [d in held for d in documents["document_id"]]
    return (
        documents.select([i for i, h in enumerate(is_held) if not h]),
        documents.select([i for i, h in enumerate(is_held) if h]),
    )


DDI = register_task(
    DdiTask(
        name="ddi",
        modality="text",
        class_names=DDI_CLASS_NAMES,
        description="DDI-2013 drug-drug interactions: a pair of drugs in a DrugBank/MedLine sentence, both "
        "masked as @DRUG$ (BLURB's input), classed false/mechanism/advise/effect/int.",
        hub=HubSource(DDI_REPO, revision=DDI_REVISION, config_name=DDI_CONFIG),
        validation_split="validation",
        license="cc-by-nc-4.0",
        source_citation=DDI_CITATION,
        split_note="the Hub's parquet conversion of bigbio/ddi_corpus (ddi_corpus_source, BRAT documents); "
        "every entity pair of a sentence is a row; validation = 10 % of the train documents (rng seed 0)",
        tiny_words=DDI_TINY_WORDS,
    )
)
