"""Loading one deletion config: the one way the product reads ``<task>_del<p>`` / ``<task>_class<k>``.

A local folder is checked before ``datasets.load_dataset`` reads it (it is a deletion repo, its manifest
is sound and names only files inside it, the config is built, the README defines it as the manifest
does), read through the ``datasets`` cache keyed by the task's content hash (two repos called
``mubench``, or one rebuilt with another seed, never share an entry), and the rows it got are checked
against the manifest (``integrity.py``: split sizes, the forget split's ``sample_id``s and files) before
anything trains or scores on them. A Hub id is loaded through ``datasets`` (its cache is keyed by the
commit) and its failures (offline, unreachable, no such repo or config) become one-line errors that say
what to do instead. Data files other than the forget files are not re-hashed on every load (that is
``mubench verify``'s job).
"""

from __future__ import annotations

import os
import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import datasets

from ..errors import MubenchError
from .integrity import cache_location, check_forget_files, loaded_problems
from .layout import task_of_config
from .manifest import cache_key, check_repo_folder, read_manifest
from .readme import require_config_in_readme

_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CONFIG_PARTS = re.compile(r"^(?P<task>.+)_(?:del(?P<ratio>[0-9.]+)|class(?P<label>[0-9]+))$")


def load_deletion_config(
    dataset: str | os.PathLike,
    config: str,
    *,
    cache_dir: str | None = None,
    required: tuple[str, ...] = (),
) -> datasets.DatasetDict:
    """``datasets.load_dataset(dataset, config)`` for a deletion repo folder or a Hub dataset id, with
    every split in ``required`` present; any problem is a ``MubenchError`` saying what would be right."""
    name = os.fspath(dataset)
    path = Path(name)
    if path.exists() or not _is_hub_id(name):
        return _load_local(check_repo_folder(path), config, cache_dir, required)
    return _check_required(_load_hub(name, config, cache_dir), name, config, required)


def _is_hub_id(name: str) -> bool:
    return bool(_HUB_ID.match(name)) and ".." not in name


# --------------------------------------------------------------------------- a local folder
def _load_local(
    root: Path, config: str, cache_dir: str | None, required: tuple[str, ...]
) -> datasets.DatasetDict:
    manifest = read_manifest(root)
    entry = next((e for e in manifest["tasks"].values() if config in e["configs"]), None)
    if entry is None:
        raise MubenchError(_not_built(root, manifest, config))
    splits = entry["configs"][config]
    missing = [s for s in required if s not in splits]
    if missing:
        raise MubenchError(_missing_splits(root, config, list(splits), missing))
    require_config_in_readme(root, manifest, config)
    forget_ids = check_forget_files(root, entry, config)
    loaded = _read_local(root, config, cache_dir, cache_key(entry))
    problems = loaded_problems(loaded, entry, config, forget_ids)
    if problems:  # a cache entry written from other files under the same key: build it again from these
        stale = cache_location(loaded)
        loaded = _read_local(root, config, cache_dir, cache_key(entry), download_mode="force_redownload")
        problems = loaded_problems(loaded, entry, config, forget_ids)
        if problems:
            raise MubenchError(
                f"config {config!r} of {root} loaded other rows than its manifest names ({problems[0]}), "
                f"even after rebuilding the datasets cache ({stale}); check the repo with `mubench verify "
                f"{root}`, rebuild it with mubench build-splits (--overwrite), or pass another cache_dir"
            )
    return _check_required(loaded, str(root), config, required)


def _read_local(
    root: Path, config: str, cache_dir: str | None, key: str, download_mode: str | None = None
) -> datasets.DatasetDict:
    """``datasets.load_dataset(root, config)`` with the content hash in the builder's description, so
    that the cache entry is this content's whatever the folder is called (see ``manifest.cache_key``)."""
    try:
        return datasets.load_dataset(
            str(root), config, cache_dir=cache_dir, description=key, download_mode=download_mode
        )
    except FileNotFoundError as err:
        raise MubenchError(
            f"a data file of config {config!r} in {root} is missing ({_first_line(err)}); "
            f"find the damage with `mubench verify {root}` and rebuild with mubench build-splits"
        ) from None
    except Exception as err:  # damaged parquet, sizes that disagree with the README, ...
        raise MubenchError(
            f"config {config!r} of {root} did not load ({type(err).__name__}: {_first_line(err)}); "
            f"find the damage with `mubench verify {root}` and rebuild with mubench build-splits"
        ) from None


def _not_built(root: Path, manifest: dict[str, Any], config: str) -> str:
    built = [c for entry in manifest["tasks"].values() for c in entry["configs"]]
    listing = ", ".join(built) if built else "none"
    text = f"config {config!r} is not built in {root} (its configs: {listing})"
    match = _CONFIG_PARTS.match(config)
    if match is None:
        return text + "; deletion configs are named <task>_del<p> or <task>_class<k>"
    task = match.group("task")
    entry = manifest["tasks"].get(task)
    ratios = list(entry["ratios"]) if entry else []
    classes = [str(k) for k in entry["forget_classes"]] if entry else []
    if match.group("ratio"):
        ratios.append(match.group("ratio"))
    else:
        classes.append(match.group("label"))
    command = f"mubench build-splits --task {task} --output {root}"
    if ratios:
        command += " --ratios " + ",".join(sorted(dict.fromkeys(ratios), key=_ratio_key))
    command += "".join(f" --forget-class {k}" for k in sorted(set(classes), key=int))
    if entry:  # the task is there with other configs: rebuilding it differently needs --overwrite
        command += f" --seed {entry['seed']} --overwrite"
    return f"{text}; `{command}` builds it"


def _ratio_key(text: str) -> Fraction:
    try:
        return Fraction(text)
    except ValueError:
        return Fraction(0)


def _missing_splits(where: str | Path, config: str, have: list[str], missing: list[str]) -> str:
    return (
        f"config {config!r} of {where} has no {', '.join(repr(s) for s in missing)} split "
        f"(it has: {', '.join(have)}); this step needs {', '.join(missing)}"
        + ("; build the task with its OOD set (without --no-ood)" if "ood" in missing else "")
        + (
            "; a config that forgets every train row (del100) has no retain split"
            if "retain" in missing
            else ""
        )
    )


def _check_required(
    loaded: datasets.DatasetDict, where: str, config: str, required: tuple[str, ...]
) -> datasets.DatasetDict:
    missing = [s for s in required if s not in loaded]
    if missing:
        raise MubenchError(_missing_splits(where, config, list(loaded), missing))
    return loaded


# --------------------------------------------------------------------------- a Hub dataset
def _load_hub(repo_id: str, config: str, cache_dir: str | None) -> datasets.DatasetDict:
    local = (
        f"to use a local copy, pass its folder instead (build one with `mubench build-splits --task "
        f"{_task_hint(config)} --output DIR`, or download this one with "
        f"`hf download {repo_id} --repo-type dataset --local-dir DIR`)"
    )
    try:
        return datasets.load_dataset(repo_id, config, cache_dir=cache_dir)
    except datasets.exceptions.DatasetNotFoundError:
        raise MubenchError(
            f"{repo_id!r} is not a local folder, and the Hub has no dataset repo {repo_id} (or it is private: "
            f"log in with `hf auth login`); {local}"
        ) from None
    except ValueError as err:
        if "BuilderConfig" not in str(err):
            raise MubenchError(f"dataset {repo_id} did not load ({_first_line(err)}); {local}") from None
        raise MubenchError(
            f"config {config!r} is not built in dataset repo {repo_id} ({_first_line(err)}); build it with "
            f"mubench build-splits and push it with mubench push-splits"
        ) from None
    except Exception as err:
        if datasets.config.HF_HUB_OFFLINE:
            raise MubenchError(
                f"{repo_id!r} is not a local folder, and the Hugging Face Hub is offline (HF_HUB_OFFLINE=1) "
                f"with no cached copy of config {config!r}; unset HF_HUB_OFFLINE to download it, or {local}"
            ) from None
        if _is_connection_error(err):
            raise MubenchError(
                f"{repo_id!r} is not a local folder, and the Hugging Face Hub is unreachable "
                f"({type(err).__name__}: {_first_line(err)}); check the network or HF_ENDPOINT, or {local}"
            ) from None
        raise MubenchError(
            f"dataset repo {repo_id}, config {config!r} did not load ({type(err).__name__}: "
            f"{_first_line(err)}); {local}"
        ) from None


def _task_hint(config: str) -> str:
    try:
        return task_of_config(config)
    except MubenchError:
        return "TASK"


def _is_connection_error(err: BaseException | None) -> bool:
    """Whether ``err`` or what caused it is a network failure (builtin, httpx or requests flavour)."""
    while err is not None:
        name = type(err).__name__
        if isinstance(err, (ConnectionError, TimeoutError)) or "Connect" in name or "Timeout" in name:
            return True
        err = err.__cause__ or err.__context__
    return False


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0][:300] if text else type(err).__name__
