"""The MUSE piece of the generation report: VerbMem and KnowMem probes of a MUSE-shaped task.

A MUSE-shaped task (``muse_news``, ``muse_books``, ``muse_manpages``) deletes whole documents (its ``group``
column) and ships two probe splits beside its corpora, each row tagged with the document it is about:

* ``verbmem``: a prefix of a document (prompt) and its true continuation (completion);
* ``knowmem``: a few-shot question about a document (prompt, MUSE's format) and its answer (completion).

:func:`muse_probe_splits` turns them into the splits the report scores for one deletion config: the
probes whose document is in the forget split (``verbmem_forget``, ``knowmem_forget``) and, for KnowMem,
those whose document is in the retain split (``knowmem_retain``: MUSE's utility preservation). The true
continuations are cut to the generation budget with the model's tokenizer, as MUSE's ``verbmem.py`` cuts
``gt``. These are ordinary splits of the report: generated and scored in the same single pass per split
and model as every other; :func:`muse_metrics` reads the generations (``model_metrics`` calls it, for
the model under test and the original model alike).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ...errors import MubenchError
from ...metrics.generative.muse import knowmem, verbmem, verbmem_reference
from ...modalities.base import COMPLETION_COLUMN, GROUP_COLUMN
from .score import SplitScores, texts_of

VERBMEM, KNOWMEM = "verbmem", "knowmem"
#: report split → (probe split, which deletion split's documents it keeps)
PROBE_SPLITS = {
    "verbmem_forget": (VERBMEM, "forget"),
    "knowmem_forget": (KNOWMEM, "forget"),
    "knowmem_retain": (KNOWMEM, "retain"),
}
#: the metrics, each named after the report split it is computed on
MUSE_METRICS = ("verbmem_forget", "knowmem_forget", "knowmem_retain")


def _groups(split: Any, name: str) -> set[int]:
    if GROUP_COLUMN not in split.column_names:
        raise MubenchError(
            f"the MUSE probes are matched to documents through the {GROUP_COLUMN!r} column, which the {name} "
            f"split lacks (it has {split.column_names}); MUSE-shaped tasks delete whole documents"
        )
    return {int(g) for g in split[GROUP_COLUMN]}


def _raw(split: Any) -> Any:
    return split.with_format(None) if hasattr(split, "with_format") else split


def muse_probe_splits(splits: Mapping[str, Any], tokenizer: Any, max_new_tokens: int) -> dict[str, Any]:
    """The MUSE probe splits of one deletion config (see the module docstring); ``{}`` for a task without
    probes. Probe sets that come out empty (no KnowMem question about a retain document) are left out."""
    if VERBMEM not in splits and KNOWMEM not in splits:
        return {}
    documents = {side: _groups(_raw(splits[side]), side) for side in ("forget", "retain") if side in splits}
    out: dict[str, Any] = {}
    for name, (probe, side) in PROBE_SPLITS.items():
        if probe not in splits or side not in documents:
            continue
        split = _raw(splits[probe])
        _groups(split, probe)  # a probe split without documents is refused by name
        wanted = documents[side]
        keep = np.flatnonzero([int(g) in wanted for g in split[GROUP_COLUMN]])
        if not len(keep):
            continue
        chosen = split.select(keep)
        if probe == VERBMEM:
            cut = [verbmem_reference(tokenizer, c, max_new_tokens) for c in chosen[COMPLETION_COLUMN]]
            chosen = chosen.remove_columns(COMPLETION_COLUMN).add_column(COMPLETION_COLUMN, cut)
        out[name] = chosen
    return out


def muse_metrics(outputs: Mapping[str, SplitScores], splits: Mapping[str, Any]) -> dict[str, float]:
    """VerbMem and KnowMem of one model from its generations on the probe splits that were scored."""
    metrics: dict[str, float] = {}
    for split_name in MUSE_METRICS:
        scores = outputs.get(split_name)
        if scores is None or scores.predictions is None:
            continue
        references = texts_of(splits[split_name], COMPLETION_COLUMN)
        score = verbmem if split_name.startswith(VERBMEM) else knowmem
        metrics[split_name] = score(scores.predictions, references)
    return metrics
