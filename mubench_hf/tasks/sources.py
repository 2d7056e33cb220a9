"""Where a task's data comes from: a Hub dataset (``HubSource``, ``OODSource``) or a local override, and
loading it with errors that say what to do (a Hub that is offline or unreachable, a folder that holds no
dataset)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets

from ..errors import MubenchError

SourceLike = str | os.PathLike | datasets.DatasetDict | None


@dataclass(frozen=True)
class HubSource:
    """A dataset on the Hugging Face Hub and how its columns map onto the canonical names."""

    repo_id: str
    revision: str | None = None
    column_mapping: Mapping[str, str] = field(default_factory=dict)
    config_name: str | None = None

    def describe(self) -> str:
        return f"{self.repo_id}@{self.revision or 'main'}"


@dataclass(frozen=True)
class OODSource(HubSource):
    """An out-of-distribution evaluation set: one split of another dataset."""

    split: str = "test"


def load_source(source: Any, what: str) -> datasets.DatasetDict:
    """Turn a ``source=`` override into a ``DatasetDict``: a ``DatasetDict`` as is, a folder written by
    ``save_to_disk``, or anything ``datasets.load_dataset`` reads from a local path."""
    if isinstance(source, datasets.DatasetDict):
        return source
    if isinstance(source, datasets.Dataset):
        raise MubenchError(f"{what}: give a DatasetDict with named splits, not a single Dataset")
    path = Path(source)
    if not path.exists():
        raise MubenchError(
            f"{what}: {path} does not exist; give a local copy of the dataset (a folder written by "
            "DatasetDict.save_to_disk, or one that datasets.load_dataset(PATH) reads)"
        )
    try:
        if (path / "dataset_dict.json").is_file():
            return _load_saved_dict(path)
        loaded = datasets.load_dataset(str(path))
    except Exception as err:  # whatever datasets raises for a folder it cannot read
        empty = re.search(r'Instruction "([^"]+)" corresponds to no data', str(err))
        if empty:  # data files of a split that hold no rows
            raise MubenchError(
                f"{what}: the {empty.group(1)!r} split of {path} is empty (its data files hold no rows); "
                "give that split rows, or leave its files out"
            ) from None
        raise MubenchError(
            f"{what}: {path} did not load ({type(err).__name__}: {_first_line(err)}); give a folder written by "
            "DatasetDict.save_to_disk, or one that datasets.load_dataset(PATH) reads (e.g. parquet files)"
        ) from None
    if not isinstance(loaded, datasets.DatasetDict):
        raise MubenchError(f"{what}: {path} did not load as a DatasetDict with named splits")
    return loaded


def _load_saved_dict(path: Path) -> datasets.DatasetDict:
    """A ``save_to_disk`` folder, split by split: ``load_from_disk`` fails with ``IndexError`` on a split
    saved with no rows (it has no data file), so such a split is rebuilt empty from its features; the
    task then says which split it needs rows in, and an empty split it does not read does no harm."""
    names = json.loads((path / "dataset_dict.json").read_text(encoding="utf-8")).get("splits", [])
    out = {}
    for name in names:
        folder = path / str(name)
        state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
        if state.get("_data_files"):
            out[str(name)] = datasets.load_from_disk(str(folder))
        else:
            info = datasets.DatasetInfo.from_directory(str(folder))
            out[str(name)] = datasets.Dataset.from_dict(
                {column: [] for column in info.features or {}}, features=info.features
            )
    return datasets.DatasetDict(out)


def load_hub_source(source: HubSource, what: str, override: str) -> datasets.DatasetDict:
    """A task's Hub dataset, or an error that says the Hub is offline or unreachable and how to give a
    local copy instead (``override`` names the option that takes it)."""
    try:
        return datasets.load_dataset(source.repo_id, source.config_name, revision=source.revision)
    except Exception as err:
        if datasets.config.HF_HUB_OFFLINE:
            state = "the Hub is offline (HF_HUB_OFFLINE=1) and it is not in the local cache"
            fix = "unset HF_HUB_OFFLINE to download it"
        else:
            state = f"the Hub is unreachable or refused ({type(err).__name__}: {_first_line(err)})"
            fix = "check the network and HF_ENDPOINT"
        raise MubenchError(
            f"{what} reads {source.describe()} from the Hugging Face Hub, but {state}; {fix}, or pass a "
            f"local copy with {override}"
        ) from None


def load_packaged_source(builder: str, what: str, fix: str, **kwargs: Any) -> datasets.DatasetDict:
    """Local files through one of ``datasets``' packaged builders (``csv``, ``json``, ``parquet``,
    ``imagefolder`` ...; no network), or an error naming ``what`` and ``fix``."""
    try:
        loaded = datasets.load_dataset(builder, **kwargs)
    except Exception as err:  # whatever the builder raises for a file it cannot parse
        raise MubenchError(f"{what} did not load ({type(err).__name__}: {_first_line(err)}); {fix}") from None
    if not isinstance(loaded, datasets.DatasetDict):
        raise MubenchError(f"{what} did not load as named splits")
    return loaded


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__


def resolve_hub_revision(source: HubSource) -> str:
    """The commit a Hub source resolves to now, so a build records exactly what it read.

    Only called when data really comes from the Hub; offline it returns the unresolved name."""
    try:
        from huggingface_hub import HfApi

        sha = HfApi().dataset_info(source.repo_id, revision=source.revision).sha
    except Exception:  # offline, or the Hub refused: record what was asked for
        return source.describe()
    return f"{source.repo_id}@{sha}" if sha else source.describe()
