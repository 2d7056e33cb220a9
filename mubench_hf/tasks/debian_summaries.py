"""``debian_summaries``: summarise a Debian package's long description into its one-line synopsis.

Both sides were written by people (the package maintainers), and every Debian system carries them: dpkg's
status database (``/var/lib/dpkg/status``, the installed packages) and, after ``apt-get update`` with
translations enabled, apt's ``*_i18n_Translation-en`` lists (every package of the archive, ~60k). The task
reads what is there, so **its rows differ from machine to machine** (another package set gives other rows);
on one machine with one package set it is deterministic:

1. paragraphs are parsed as deb822; the long description's continuation lines are joined (``" ."`` lines
   are paragraph breaks), whitespace collapsed;
2. rows whose long description has fewer than 8 words or whose synopsis has fewer than 2 are dropped, and
   so are repeats: one row per distinct long description (``-dev``/``-doc`` siblings often share one) and
   per package name, keeping the alphabetically first package;
3. rows are sorted by package name; a seeded permutation (``numpy.random.default_rng(0)``) sends 10 % to
   ``test``, 10 % to ``validation`` and the rest to ``train``.

Prompt: ``"Summarize this Debian package description in one line.\\n<long description>\\nSummary:"``,
completion: ``" <synopsis>"``. Meant for a seq2seq model (``tiny:t5``), like SAMSum in MU-Bench; the
package name is kept out of both sides. ``source=`` takes another status-format file (or a folder of
them) instead of this machine's.
"""

from __future__ import annotations

import gzip
import lzma
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import datasets
import numpy as np

from ..errors import MubenchError
from .generation import GenerationTask
from .registry import register_task

DPKG_STATUS = Path("/var/lib/dpkg/status")
APT_LISTS = Path("/var/lib/apt/lists")
SPLIT_SEED = 0
TEST_FRACTION = VALIDATION_FRACTION = 0.1
MIN_DESCRIPTION_WORDS = 8
MIN_SYNOPSIS_WORDS = 2
MAX_DESCRIPTION_CHARS = 1200  # a few packages carry pages of text; the start says what they are
PROMPT = "Summarize this Debian package description in one line.\n{description}\nSummary:"

_SPACE = re.compile(r"\s+")


def _open_text(path: Path) -> str:
    opener = {".gz": gzip.open, ".xz": lzma.open}.get(path.suffix)
    if opener is not None:
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            return handle.read()
    return path.read_text(encoding="utf-8", errors="replace")


def parse_paragraphs(text: str) -> Iterator[dict[str, str]]:
    """deb822 paragraphs as field → value (continuation lines kept, newline-joined)."""
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t") and key is not None:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, value = line.partition(":")
                key = key.strip()
                fields[key] = value.strip()
        if fields:
            yield fields


def split_description(value: str) -> tuple[str, str]:
    """(synopsis, long description) of a ``Description`` field, the long part cleaned into plain text."""
    first, _, rest = value.partition("\n")
    paragraphs, current = [], []
    for line in rest.splitlines():
        text = line.strip()
        if text == ".":
            if current:
                paragraphs.append(" ".join(current))
            current = []
        elif text:
            current.append(text)
    if current:
        paragraphs.append(" ".join(current))
    long = "\n".join(_SPACE.sub(" ", p).strip() for p in paragraphs)
    return _SPACE.sub(" ", first).strip(), long


def read_descriptions(paths: Iterable[Path]) -> dict[str, tuple[str, str]]:
    """Package name → (synopsis, long description) from status/translation files (first file wins)."""
    found: dict[str, tuple[str, str]] = {}
    for path in paths:
        for fields in parse_paragraphs(_open_text(path)):
            name = fields.get("Package")
            description = fields.get("Description") or fields.get("Description-en")
            if not name or not description or name in found:
                continue
            synopsis, long = split_description(description)
            if long:
                found[name] = (synopsis, long)
    return found


def default_sources() -> list[Path]:
    """This machine's dpkg status and apt's English translation lists (those that are readable)."""
    paths = [DPKG_STATUS] if DPKG_STATUS.is_file() else []
    if APT_LISTS.is_dir():
        paths += sorted(
            p
            for p in APT_LISTS.glob("*_i18n_Translation-en*")
            if p.suffix in ("", ".gz", ".xz") and p.is_file()
        )
    return paths


def summary_rows(descriptions: dict[str, tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(package, long description, synopsis), filtered and de-duplicated (see the module docstring)."""
    rows, seen = [], set()
    for name in sorted(descriptions):
        synopsis, long = descriptions[name]
        if len(long.split()) < MIN_DESCRIPTION_WORDS or len(synopsis.split()) < MIN_SYNOPSIS_WORDS:
            continue
        key = long.lower()
        if key in seen:
            continue
        seen.add(key)
        rows.append((name, long[:MAX_DESCRIPTION_CHARS], synopsis))
    return rows


def load_debian_summaries(source: str | os.PathLike | None = None) -> datasets.DatasetDict:
    """``train`` / ``validation`` / ``test`` prompt–completion rows (see the module docstring)."""
    if source is None:
        paths = default_sources()
        where = f"{DPKG_STATUS} (and apt's Translation-en lists)"
    else:
        root = Path(source)
        if not root.exists():
            raise MubenchError(
                f"debian_summaries: source {root} does not exist; give a dpkg status-format file"
            )
        paths = sorted(p for p in root.iterdir() if p.is_file()) if root.is_dir() else [root]
        where = str(root)
    rows = summary_rows(read_descriptions(paths))
    if len(rows) < 30:
        raise MubenchError(
            f"debian_summaries: {where} gave {len(rows)} usable package descriptions; at least 30 are needed "
            "(a Debian system's /var/lib/dpkg/status has hundreds; pass source= another status file)"
        )
    order = np.random.default_rng(SPLIT_SEED).permutation(len(rows))
    n_test, n_val = int(len(rows) * TEST_FRACTION), int(len(rows) * VALIDATION_FRACTION)
    parts = {
        "test": np.sort(order[:n_test]),
        "validation": np.sort(order[n_test : n_test + n_val]),
        "train": np.sort(order[n_test + n_val :]),
    }

    def make(idx: np.ndarray) -> datasets.Dataset:
        return datasets.Dataset.from_dict(
            {
                "prompt": [PROMPT.format(description=rows[i][1]) for i in idx],
                "completion": [" " + rows[i][2] for i in idx],
                "package": [rows[i][0] for i in idx],
            }
        )

    return datasets.DatasetDict({name: make(idx) for name, idx in parts.items()})


DEBIAN_SUMMARIES = register_task(
    GenerationTask(
        name="debian_summaries",
        modality="text",
        description=(
            "Debian package long description -> one-line synopsis (maintainer-written), read from this machine's "
            "dpkg status database: the rows vary with the installed package set."
        ),
        build=load_debian_summaries,
        architecture="seq2seq",
        eval_splits=("validation", "test"),
        recipe={
            "num_train_epochs": 20.0,
            "learning_rate": 3e-3,
            "per_device_train_batch_size": 16,
            "warmup_steps": 10,
            "lr_scheduler_type": "linear",
        },
        max_length=384,
        license="other",
        source_citation="Debian package descriptions (each package's own copyright; DFSG-free for main)",
        split_note="dpkg status of this machine, sorted by package name, seeded 80/10/10 split (rng seed 0)",
    )
)
