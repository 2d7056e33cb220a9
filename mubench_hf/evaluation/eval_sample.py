"""A bounded report: each scored split cut to a seeded sample of at most ``max_eval_rows`` rows.

Scoring every row of a real model's splits can take longer than the unlearning itself (a 3,000-row
MiniLM evaluation: ~6 minutes; greedy generation over a TOFU copy: more than 20). ``max_eval_rows``
bounds it. The cut happens once, before any model runs, so every model a report scores (the unlearned
model, the original model, the retrain model, the random teacher) sees the same rows, and the metrics
that pair splits (MIA forget vs test, forget quality vs retrain, the SVC attack's members from retain)
compare like with like.

Each split draws its rows from its own stream, seeded by ``(seed, crc32(split name))``: a split's sample
does not depend on which other splits are present, and two processes with the same seed pick the same
rows (so a sweep's cells all score the same rows, and the retrain row with them). The chosen rows keep
their order in the split. What was drawn is recorded (``eval_sample`` in ``unlearning_results.json``):
the bound, the seed, and per split the rows kept, the rows there were, and the SHA-256 of the kept
``sample_id`` values, so two reports can be checked to have scored the same rows.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import MubenchError
from ..kinds.reference_cache import rows_sha256

#: the key of the record in the report's dict and ``unlearning_results.json``
SAMPLE_KEY = "eval_sample"
#: the sample's seed when none is given: fixed, not the training seed, so that cells of a sweep with other
#: seeds (and the retrain row) still score the same rows
DEFAULT_SAMPLE_SEED = 0


def check_max_eval_rows(value: Any, what: str = "max_eval_rows") -> int | None:
    """``value`` as a bound (``None``: every row); anything but a positive whole number is refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or int(value) < 1:
        raise MubenchError(
            f"{what} must be a positive whole number of rows (or None for every row), got {value!r}"
        )
    return int(value)


def _sample_ids(split: Any) -> np.ndarray:
    """The ``sample_id`` of each row (the row's position when the split has no such column)."""
    columns = getattr(split, "column_names", None) or []
    if "sample_id" in columns:
        raw = split.with_format(None) if hasattr(split, "with_format") else split
        return np.asarray(raw["sample_id"], dtype=np.int64)
    return np.arange(len(split), dtype=np.int64)


def sample_positions(num_rows: int, max_rows: int, seed: int, split: str) -> np.ndarray:
    """The positions kept of a split of ``num_rows`` rows: all of them when they fit, else ``max_rows``
    of them drawn without replacement from the split's own stream, in increasing order."""
    if num_rows <= max_rows:
        return np.arange(num_rows, dtype=np.int64)
    rng = np.random.default_rng([int(seed), zlib.crc32(split.encode("utf-8"))])
    return np.sort(rng.choice(num_rows, size=max_rows, replace=False)).astype(np.int64)


def sample_splits(
    splits: Mapping[str, Any], max_rows: int | None, seed: int = DEFAULT_SAMPLE_SEED
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """``splits`` with each one cut to at most ``max_rows`` seeded rows, and the record of the cut
    (``None`` and the splits unchanged when ``max_rows`` is ``None``)."""
    max_rows = check_max_eval_rows(max_rows)
    if max_rows is None:
        return dict(splits), None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise MubenchError(f"the evaluation sample's seed must be a whole number, got {seed!r}")
    out: dict[str, Any] = {}
    rows: dict[str, dict[str, Any]] = {}
    for name, split in splits.items():
        if name == "train":  # never scored by a report: passed through as it is
            out[name] = split
            continue
        total = len(split)
        keep = sample_positions(total, max_rows, int(seed), name)
        if len(keep) < total:
            if not hasattr(split, "select"):
                raise MubenchError(
                    f"max_eval_rows cuts the {name} split, which must then be a datasets.Dataset (it is a "
                    f"{type(split).__name__}); pass the splits of load_dataset(repo, '<task>_del<p>')"
                )
            split = split.select(keep)  # keeps the split's transform: the same inputs, fewer rows
        out[name] = split
        rows[name] = {
            "rows": int(len(keep)),
            "of": int(total),
            "sample_ids_sha256": rows_sha256(_sample_ids(split)),
        }
    return out, {"max_eval_rows": max_rows, "seed": int(seed), "splits": rows}


def describe_sample(record: Mapping[str, Any]) -> str:
    """One line that says what the report scores (the console's notice)."""
    cut = [f"{name} {r['rows']}/{r['of']}" for name, r in record["splits"].items() if r["rows"] < r["of"]]
    what = ", ".join(cut) if cut else "no split is larger"
    return (
        f"report bounded to max_eval_rows={record['max_eval_rows']} per split (seed {record['seed']}): {what}; "
        "every model in this report scores the same rows"
    )


def say_sample(record: Mapping[str, Any] | None) -> None:
    """Say once, on stderr, what a bounded report scores."""
    if record is not None:
        print(describe_sample(record), file=sys.stderr)


def bounded_splits(
    trainer: Any, splits: Mapping[str, Any], max_rows: int | None, seed: int | None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """``sample_splits`` with the bound and seed given, else those of ``trainer.args``
    (``max_eval_rows``, ``eval_sample_seed``); the cut, when there is one, is said once on stderr."""
    args = getattr(trainer, "args", None)
    if max_rows is None:
        max_rows = getattr(args, "max_eval_rows", None)
    if seed is None:
        seed = getattr(args, "eval_sample_seed", None)
    bounded, record = sample_splits(splits, max_rows, DEFAULT_SAMPLE_SEED if seed is None else seed)
    say_sample(record)
    return bounded, record
