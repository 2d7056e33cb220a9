"""Speech Commands keyword spotting as SUPERB's ``ks`` task: 12 classes, the ten core words plus
``_silence_`` and ``_unknown_``.

MU-Bench takes this task from SUPERB, whose ``s3prl/superb`` dataset is a loading script (no longer run
by ``datasets``) over Speech Commands v0.01. Its current parquet copy is the Hub's conversion of
``google/speech_commands`` (branch ``refs/convert/parquet``, config ``v0.01``: 51,093 train / 6,799
validation / 3,081 test clips, 16 kHz), whose columns are ``file``, ``audio``, ``label`` (31 classes:
the ten words, twenty auxiliary words, ``_silence_``), ``is_unknown``, ``speaker_id`` and
``utterance_id``. SUPERB's classes are made from it as SUPERB does: the ten words keep their label,
``_silence_`` stays, and every other word (``is_unknown``) becomes ``_unknown_``. A source that already
has the 12 classes (a SUPERB-shaped copy) is taken as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets
import numpy as np
import pyarrow as pa

from ..columns import column_numpy
from ..errors import MubenchError
from .base import LABEL_COLUMN, HubSource, Task
from .registry import register_task
from .sources import SourceLike
from .spoken_keywords import SPOKEN_KEYWORDS

SILENCE = "_silence_"
UNKNOWN = "_unknown_"
#: SUPERB ks's classes, in its label order.
SPEECH_COMMANDS_CLASSES = (*SPOKEN_KEYWORDS, SILENCE, UNKNOWN)
SPEECH_COMMANDS_REPO = "google/speech_commands"
SPEECH_COMMANDS_REVISION = "refs/convert/parquet"
SPEECH_COMMANDS_CONFIG = "v0.01"
UNKNOWN_FLAG = "is_unknown"

SPEECH_COMMANDS_CITATION = """@article{warden2018speech,
  title   = {Speech Commands: A Dataset for Limited-Vocabulary Speech Recognition},
  author  = {Warden, Pete},
  journal = {arXiv preprint arXiv:1804.03209},
  year    = {2018}
}"""


def superb_labels(ds: datasets.Dataset, where: str) -> np.ndarray:
    """SUPERB ks labels (indices into ``SPEECH_COMMANDS_CLASSES``) of an upstream Speech Commands split."""
    feature = ds.features.get(LABEL_COLUMN)
    if not isinstance(feature, datasets.ClassLabel):
        raise MubenchError(
            f"speech_commands: {where} has no ClassLabel column 'label' (columns {ds.column_names})"
        )
    missing = [name for name in (*SPOKEN_KEYWORDS, SILENCE) if name not in feature.names]
    if missing or UNKNOWN_FLAG not in ds.column_names:
        raise MubenchError(
            f"speech_commands: {where} is not shaped like {SPEECH_COMMANDS_REPO}: it needs a label ClassLabel "
            f"with the words {list(SPOKEN_KEYWORDS)} and {SILENCE!r} (missing: {missing}) and an "
            f"{UNKNOWN_FLAG!r} column (columns: {ds.column_names})"
        )
    names = np.asarray(feature.names, dtype=object)
    upstream = column_numpy(ds, LABEL_COLUMN).astype(np.int64)
    unknown = column_numpy(ds, UNKNOWN_FLAG).astype(bool)
    index = {name: i for i, name in enumerate(SPEECH_COMMANDS_CLASSES)}
    # each upstream class → its SUPERB class; a word outside the ten (never seen: is_unknown) → _unknown_
    lookup = np.asarray([index.get(str(name), index[UNKNOWN]) for name in names], dtype=np.int64)
    return np.where(unknown, index[UNKNOWN], lookup[upstream])


@dataclass(frozen=True)
class SpeechCommandsTask(Task):
    """A ``Task`` whose source labels are mapped onto SUPERB's 12 classes before canonicalisation."""

    def _load_raw(self, source: SourceLike) -> datasets.DatasetDict:
        raw = super()._load_raw(source)
        return datasets.DatasetDict(
            {name: self._superb(split, f"split {name!r}") for name, split in raw.items()}
        )

    def _superb(self, ds: datasets.Dataset, where: str) -> datasets.Dataset:
        feature = ds.features.get(LABEL_COLUMN)
        if isinstance(feature, datasets.ClassLabel) and tuple(feature.names) == SPEECH_COMMANDS_CLASSES:
            return ds  # already SUPERB-shaped
        labels = superb_labels(ds, where)
        table = ds.with_format("arrow")[:]
        table = table.set_column(table.schema.get_field_index(LABEL_COLUMN), LABEL_COLUMN, pa.array(labels))
        features = ds.features.copy()
        features[LABEL_COLUMN] = datasets.ClassLabel(names=list(SPEECH_COMMANDS_CLASSES))
        from datasets.table import InMemoryTable

        return datasets.Dataset(
            InMemoryTable(table),
            info=datasets.DatasetInfo(features=features),
            fingerprint=f"{ds._fingerprint}-superb-ks"[:64],
        )


SPEECH_COMMANDS = register_task(
    SpeechCommandsTask(
        name="speech_commands",
        modality="audio",
        class_names=SPEECH_COMMANDS_CLASSES,
        description="Speech Commands v0.01 keyword spotting as SUPERB ks: the ten core words, _silence_ and "
        "_unknown_ (all other words), 1 s clips at 16 kHz.",
        hub=HubSource(
            SPEECH_COMMANDS_REPO, revision=SPEECH_COMMANDS_REVISION, config_name=SPEECH_COMMANDS_CONFIG
        ),
        validation_split="validation",
        license="cc-by-4.0",
        source_citation=SPEECH_COMMANDS_CITATION,
        split_note="the Hub's parquet conversion of google/speech_commands v0.01; labels mapped onto SUPERB's "
        "12 classes (words outside the ten, flagged is_unknown, become _unknown_)",
    )
)
