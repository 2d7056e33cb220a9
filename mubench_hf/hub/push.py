"""Publish deletion splits and models on the Hub, each push as one commit.

Both pushes check the repo id and the token before any work, never write to the local folder, and send
everything in a single ``HfApi.create_commit`` (the Hub applies a commit entirely or not at all), with
the remote head as ``parent_commit`` so a concurrent push to the same repo fails instead of being
silently overwritten. Remote files that belong to something else are kept.

What is uploaded is an allow-list, never "every file of the folder": for a model, safetensors weights,
configs, processor/tokenizer files, the card and results (``MODEL_FILE_PATTERNS``); pickles
(``training_args.bin``, ``pytorch_model.bin``, optimizer states) stay local. For deletion splits, the
manifest, the card and the data files it lists (``SPLIT_FILE_PATTERNS``). Before any request every byte
to be uploaded is scanned for a live Hub token (``mubench_hf.secrets``); a file holding one stops the push.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi

from ..errors import MubenchError
from ..secrets import active_tokens, refuse_if_token_in
from ..splits import MANIFEST_NAME, read_manifest, verify_repo
from ..splits.card import render_card
from ..splits.manifest import manifest_text
from .client import hub_api, hub_errors, push_failure_hint, require_token
from .merge import merge_manifests, stale_task_files
from .naming import check_repo_id

CARD_NAME = "README.md"
# Weight files a model folder may hold; stale ones on the Hub are deleted so they cannot shadow new weights.
WEIGHT_PATTERNS = (
    "model*.safetensors",
    "model.safetensors.index.json",
    "pytorch_model*.bin",
    "pytorch_model.bin.index.json",
    "adapter_model.safetensors",
    "adapter_model.bin",
    "tf_model*.h5",
    "flax_model*.msgpack",
)
CONFIG_NAMES = ("config.json", "adapter_config.json")
SAFE_WEIGHT_PATTERN = "*.safetensors"
# The top-level files of a model folder a push uploads; anything else stays local (and is listed as such).
MODEL_FILE_PATTERNS = (
    SAFE_WEIGHT_PATTERN,
    "model.safetensors.index.json",
    *CONFIG_NAMES,
    "generation_config.json",
    # processors and tokenizers
    "preprocessor_config.json",
    "processor_config.json",
    "video_preprocessor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "vocab.txt",
    "merges.txt",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
    "chat_template.jinja",
    "chat_template.json",
    # a diffusers pipeline folder (text-to-image models): its index; the parts are in sub-folders
    "model_index.json",
    "mubench_t2i.json",
    # the card and the results
    CARD_NAME,
    "unlearning_results.json",
    "train_results.json",
    "eval_results.json",
    "test_results.json",
    "all_results.json",
    "predictions.npz",
    "training_args.json",
)
# The files of a deletion repo a push uploads (its manifest and card are made here).
SPLIT_FILE_PATTERNS = ("data/*.parquet", "data/*/deletion_order.txt")


@dataclass
class PushResult:
    """What one push did: the commit it made, or the unchanged head (and no files) when nothing differed."""

    repo_id: str
    repo_type: str
    url: str
    commit_oid: str
    commit_url: str
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # files of the folder not on the allow-list


def _json_bytes(value: Any) -> bytes:
    """The manifest exactly as ``build_splits`` writes it, so an unmerged push uploads identical bytes."""
    return manifest_text(value).encode("utf-8")


def _remote_state(api: HfApi, repo_id: str, repo_type: str, private: bool) -> tuple[str, str, set[str]]:
    """Create the repo if needed; return its URL, head commit and files at that commit."""
    url = str(api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True))
    head = api.repo_info(repo_id, repo_type=repo_type).sha
    files = set(api.list_repo_files(repo_id, repo_type=repo_type, revision=head))
    return url, head, files


def _commit(
    api: HfApi,
    repo_id: str,
    repo_type: str,
    url: str,
    head: str,
    operations: list[CommitOperationAdd | CommitOperationDelete],
    message: str,
) -> PushResult:
    info = api.create_commit(
        repo_id, operations, commit_message=message, repo_type=repo_type, parent_commit=head
    )
    if info.oid == head:  # huggingface_hub skips the commit when no file differs from the Hub's
        added: list[str] = []
        deleted: list[str] = []
    else:
        added = sorted(op.path_in_repo for op in operations if isinstance(op, CommitOperationAdd))
        deleted = sorted(op.path_in_repo for op in operations if isinstance(op, CommitOperationDelete))
    return PushResult(repo_id, repo_type, url, info.oid, info.commit_url, uploaded=added, deleted=deleted)


# --------------------------------------------------------------------------- deletion splits
def _remote_manifest(api: HfApi, repo_id: str, head: str, files: set[str]) -> dict[str, Any] | None:
    """The manifest on the Hub, or ``None`` for a new repo; refuses a dataset repo that is not mubench's."""
    if MANIFEST_NAME not in files:
        if CARD_NAME in files or any(f.startswith("data/") for f in files):
            raise MubenchError(
                f"dataset repo {repo_id} already holds files but no {MANIFEST_NAME}: it is not a mubench "
                "deletion repo, and pushing would replace its card. Push to another repo id"
            )
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = api.hf_hub_download(repo_id, MANIFEST_NAME, repo_type="dataset", revision=head, cache_dir=tmp)
        text = Path(path).read_text(encoding="utf-8")
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as err:
        raise MubenchError(
            f"the {MANIFEST_NAME} of dataset repo {repo_id} is not valid JSON ({err})"
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("tasks"), dict):
        raise MubenchError(
            f"the {MANIFEST_NAME} of dataset repo {repo_id} has no task list; push to another repo"
        )
    return manifest


def push_splits(
    folder: str | os.PathLike,
    repo_id: str,
    token: str | None = None,
    private: bool = False,
    commit_message: str | None = None,
) -> PushResult:
    """Publish a deletion repo folder (``build_splits`` output) as the dataset repo ``repo_id``, in one commit.

    Tasks already on the Hub but not in ``folder`` are kept: the manifests are merged and the README
    (card, ``configs`` and ``dataset_info``) is re-rendered for every task, so
    ``load_dataset(repo_id, "<task>_del<p>")`` works for all of them. A task present on both sides is
    replaced by the local one (its stale remote files are deleted). The local folder is only read.
    """
    check_repo_id(repo_id)
    token = require_token(token, repo_id)
    folder = Path(folder)
    local = read_manifest(folder)
    problems = verify_repo(folder)
    if problems:
        raise MubenchError(
            f"{folder} does not match its manifest ({'; '.join(problems[:3])}); rebuild it with "
            "`mubench build-splits` before pushing"
        )
    data_files = _split_files(folder, local)
    tokens = active_tokens(token)
    where = f"{folder} to dataset repo {repo_id}"
    refuse_if_token_in([(rel, folder / rel) for rel in data_files], where, tokens)
    api = hub_api(token)
    with hub_errors(
        f"pushing the deletion splits {folder} to dataset repo {repo_id}", push_failure_hint(folder)
    ):
        url, head, remote_files = _remote_state(api, repo_id, "dataset", private)
        manifest = merge_manifests(local, _remote_manifest(api, repo_id, head, remote_files))
        made = {
            CARD_NAME: render_card(manifest, repo_id=repo_id).encode("utf-8"),
            MANIFEST_NAME: _json_bytes(manifest),
        }
        refuse_if_token_in(made.items(), where, tokens)  # the remote manifest is merged in: check again
        operations: list[CommitOperationAdd | CommitOperationDelete] = [
            CommitOperationAdd(name, content) for name, content in made.items()
        ]
        operations += [CommitOperationAdd(rel, str(folder / rel)) for rel in data_files]
        operations += [CommitOperationDelete(rel) for rel in stale_task_files(local, remote_files)]
        message = commit_message or f"Upload mubench deletion splits: {', '.join(local['tasks'])}"
        return _commit(api, repo_id, "dataset", url, head, operations, message)


def _split_files(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """The data files the manifest lists, each on the allow-list (a manifest naming anything else is refused)."""
    files = sorted(rel for entry in manifest["tasks"].values() for rel in entry["files"])
    for rel in files:
        if not any(fnmatch(rel, pattern) for pattern in SPLIT_FILE_PATTERNS):
            raise MubenchError(
                f"the {MANIFEST_NAME} of {folder} lists {rel}, which is not a deletion-split file "
                f"({', '.join(SPLIT_FILE_PATTERNS)}); rebuild the folder with `mubench build-splits`"
            )
    return files


# --------------------------------------------------------------------------- models
def is_model_file(name: str) -> bool:
    """Whether a top-level file of a model folder is on the push allow-list (``MODEL_FILE_PATTERNS``)."""
    return any(fnmatch(name, pattern) for pattern in MODEL_FILE_PATTERNS)


DIFFUSERS_INDEX = "model_index.json"
# Files of a diffusers part (unet/, text_encoder/, tokenizer/, scheduler/ ...) beside the top-level patterns.
DIFFUSERS_PART_PATTERNS = ("diffusion_pytorch_model*.safetensors", "scheduler_config.json")
# A text-to-image base model keeps its evaluation classifier in this sub-folder (every report reads it).
EXTRA_PARTS = ("classifier",)


def diffusers_part_files(folder: Path) -> list[Path]:
    """The allow-listed files of the parts a diffusers folder's ``model_index.json`` names (and of the
    evaluation classifier), one level down; empty for a folder without an index."""
    index_path = folder / DIFFUSERS_INDEX
    if not index_path.is_file():
        return []
    index = json.loads(index_path.read_text())
    parts = [name for name, value in index.items() if not name.startswith("_") and isinstance(value, list)]
    files = []
    for part in [*parts, *EXTRA_PARTS]:
        sub = folder / part
        if sub.is_dir():
            files += sorted(
                p for p in sub.iterdir()
                if p.is_file() and (is_model_file(p.name) or any(fnmatch(p.name, x) for x in DIFFUSERS_PART_PATTERNS))
            )  # fmt: skip
    return files


def _check_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise MubenchError(f"model folder {folder} does not exist")


def _model_files(folder: Path, require_card: bool = True) -> tuple[list[Path], list[str]]:
    """The allow-listed top-level files of a model output folder, and the names of the other files
    (sub-folders such as checkpoints and logs always stay local)."""
    _check_folder(folder)
    present = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    files = [p for p in present if is_model_file(p.name)]
    left_out = [p.name for p in present if not is_model_file(p.name)]
    parts = diffusers_part_files(folder)
    files += parts
    names = {p.name for p in files}
    if not names & set(CONFIG_NAMES):
        raise MubenchError(
            f"{folder} holds no config.json: save the model there with model.save_pretrained()"
        )
    if not any(fnmatch(name, SAFE_WEIGHT_PATTERN) for name in names):  # a diffusers part's count too
        pickled = [name for name in left_out if any(fnmatch(name, p) for p in WEIGHT_PATTERNS)]
        why = (
            f"only pickled weights ({', '.join(pickled)}), which run code when loaded and are never pushed"
            if pickled
            else "no weights"
        )
        raise MubenchError(
            f"{folder} holds {why}: save the model as safetensors with model.save_pretrained() and push again"
        )
    if require_card and CARD_NAME not in names:
        raise MubenchError(
            f"{folder} has no {CARD_NAME} model card, which carries the model's scores and base model; write "
            "one with mubench_hf.hub.render_model_card(...).save(folder / 'README.md')"
        )
    return files, left_out


def push_model(
    folder: str | os.PathLike,
    repo_id: str,
    token: str | None = None,
    private: bool = False,
    commit_message: str | None = None,
    *,
    require_card: bool = True,
) -> PushResult:
    """Publish a model output folder (weights, config, processor, ``README.md`` card and, when present,
    the results files) as the model repo ``repo_id``, in one commit.

    Only allow-listed files are uploaded (``MODEL_FILE_PATTERNS``; the others are named in
    ``PushResult.left_out``), after a scan for a live Hub token. Pushing again adds a commit. Remote
    files the folder does not have are kept, except stale weight files (an old shard or format), which
    are deleted so they cannot be loaded instead of the new weights. ``require_card=False`` is for
    pushes during training (``Trainer`` checkpoints), before the card exists.
    """
    check_repo_id(repo_id)
    folder = Path(folder)
    _check_folder(folder)  # a wrong path is named before a missing login
    token = require_token(token, repo_id)
    files, left_out = _model_files(folder, require_card=require_card)
    refuse_if_token_in(
        [(p.name, p) for p in files], f"{folder} to model repo {repo_id}", active_tokens(token)
    )
    local_names = {p.relative_to(folder).as_posix() for p in files}
    api = hub_api(token)
    with hub_errors(f"pushing the model {folder} to model repo {repo_id}", push_failure_hint(folder)):
        url, head, remote_files = _remote_state(api, repo_id, "model", private)
        operations: list[CommitOperationAdd | CommitOperationDelete] = [
            CommitOperationAdd(p.relative_to(folder).as_posix(), str(p)) for p in files
        ]
        operations += [
            CommitOperationDelete(name)
            for name in sorted(remote_files - local_names)
            if "/" not in name and any(fnmatch(name, pattern) for pattern in WEIGHT_PATTERNS)
        ]
        message = commit_message or f"Upload mubench model from {folder.name}"
        result = _commit(api, repo_id, "model", url, head, operations, message)
    result.left_out = left_out
    return result
