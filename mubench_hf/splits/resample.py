"""The record of a resample: audio stored at another rate than the model reads.

An audio task's canonical column is ``datasets.Audio(sampling_rate=16000)``: a source at another rate (an
audiofolder of 8 kHz telephone WAVs) keeps its clips' bytes as they are, and every decode resamples them
to 16 kHz. That changes what the model hears, so a deletion repo says so: ``build_splits`` probes the
stored clips' own rate (the first rows of each split), records ``{"from_hz", "to_hz", "column"}`` under
``resample`` in the task's manifest entry (``mubench.json``), and says it once.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import datasets

#: rows probed per split: a source's clips share a rate in practice; a few rows catch a mixed one
PROBED_ROWS = 8


def _native_rate(value: Any) -> int | None:
    """The rate a stored clip (``{"bytes", "path"}``) was recorded at, read from its header."""
    if not isinstance(value, Mapping):
        return None
    source = value.get("bytes") or value.get("path")
    if source is None:
        return None
    from torchcodec.decoders import AudioDecoder

    try:
        return int(AudioDecoder(source).metadata.sample_rate)
    except (RuntimeError, ValueError, OSError):  # unreadable clips are refused later, where they are decoded
        return None


def source_rates(splits: Mapping[str, datasets.Dataset], column: str, rows: int = PROBED_ROWS) -> list[int]:
    """The distinct recorded rates of the first ``rows`` clips of each split's ``column``."""
    rates: set[int] = set()
    for split in splits.values():
        if column not in split.column_names or len(split) == 0:
            continue
        raw = split.select(range(min(rows, len(split)))).cast_column(column, datasets.Audio(decode=False))
        rates.update(r for r in (_native_rate(v) for v in raw[column]) if r is not None)
    return sorted(rates)


def resample_record(
    features: datasets.Features, splits: Mapping[str, datasets.Dataset]
) -> list[dict[str, Any]]:
    """One ``{"from_hz", "to_hz", "column"}`` per audio column whose stored clips are at another rate than
    its feature decodes to (``from_hz`` a list when the probed clips disagree); empty when none is."""
    records = []
    for column, feature in features.items():
        target = getattr(feature, "sampling_rate", None)
        if not isinstance(feature, datasets.Audio) or target is None:
            continue
        other = [rate for rate in source_rates(splits, column) if rate != int(target)]
        if other:
            records.append(
                {"from_hz": other[0] if len(other) == 1 else other, "to_hz": int(target), "column": column}
            )
    return records


def describe_resample(task: str, record: Mapping[str, Any]) -> str:
    """The line that says it (once, at build time)."""
    return (
        f"task {task!r}: the {record['column']!r} clips are recorded at {record['from_hz']} Hz and are "
        f"resampled to {record['to_hz']} Hz when decoded (the model's rate); recorded in the manifest "
        "under 'resample'"
    )


def say_resample(task: str, records: list[dict[str, Any]]) -> None:
    for record in records:
        print(describe_resample(task, record), file=sys.stderr)
