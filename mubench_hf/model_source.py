"""Checking a ``--model`` before any work: is it there, and is it a model for this task's kind?

Loading a model is the first expensive step of a command, and a sweep builds its splits before it; a
name that is no folder here and no Hub model reachable from here (``nonexist``), or an image classifier
given to a generation task, should be reported at once and in words that name the real problem, not as
"couldn't connect to huggingface.co" or "no tokenizer found ... from one of: )" after the data was read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import MubenchError

# The heads a generation task loads (a causal LM, or a seq2seq/conditional-generation model), and the
# mark of a classifier, read off the class names in config.json's ``architectures``.
GENERATIVE_SUFFIXES = ("ForCausalLM", "LMHeadModel", "ForConditionalGeneration", "ForSeq2SeqLM")
CLASSIFIER_MARKER = "Classification"
# What a model repo in the Hub cache holds at least one of: a model's, a PEFT adapter's, a pipeline's.
CONFIG_FILES = ("config.json", "adapter_config.json", "model_index.json")


def _is_spec(value: str) -> bool:
    """A model spec built from scratch (``tiny:<arch>``, a config ``.json``), not a trained model."""
    return value.startswith("tiny:") or value.endswith(".json")


def _looks_like_path(value: str) -> bool:
    return value.startswith((".", "~", os.sep)) or value.count("/") > 1 or os.sep != "/" and os.sep in value


def check_model_source(value: str, flag: str = "--model") -> None:
    """Refuse a ``value`` that names neither a folder here nor a Hub model this machine can get: a path
    that does not exist, a malformed Hub id, or (offline) a Hub id missing from the local cache. A Hub
    id while online is left to the loader (only the Hub knows it)."""
    if _is_spec(value) or Path(value).exists():
        return
    if _looks_like_path(value):
        raise MubenchError(
            f"{flag} {value!r}: no such folder ({Path(value).expanduser().resolve()} does not exist); give the "
            "folder of a trained model (what mubench train-base or unlearn wrote), or a Hub id"
        )
    from huggingface_hub import constants, try_to_load_from_cache
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    here = f"no folder {value!r} in {Path.cwd()}"
    try:
        validate_repo_id(value)
    except HFValidationError:
        raise MubenchError(
            f"{flag} {value!r}: {here}, and it is not a Hub model id either (namespace/name); give a model "
            "folder or a Hub id"
        ) from None
    cached = any(isinstance(try_to_load_from_cache(value, name), str) for name in CONFIG_FILES)
    if constants.HF_HUB_OFFLINE and not cached:
        raise MubenchError(
            f"{flag} {value!r}: {here}, and no Hub model of that name is in the local cache (HF_HUB_OFFLINE=1: "
            "nothing is downloaded); check the name, give the folder of a trained model, or unset "
            "HF_HUB_OFFLINE to download it"
        )


def _architectures(value: str) -> list[str]:
    """The ``architectures`` of a local model folder's config.json (or of the adapter's base model)."""
    folder = Path(value)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    names = config.get("architectures") if isinstance(config, dict) else None
    return [str(n) for n in names] if isinstance(names, list) else []


def check_model_kind(value: str, task: Any, flag: str = "--model") -> None:
    """Refuse a local model folder whose architecture cannot serve ``task``'s kind: a classifier (of
    images, text ...) for a generation task. (The converse is allowed: a classification task may start
    from a language model's checkpoint, which transformers gives a classification head.)"""
    if _is_spec(value) or not Path(value).is_dir():
        return
    names = _architectures(value)
    if not names:
        return  # no config.json to judge by (e.g. a PEFT adapter folder): the loader decides
    generative = any(n.endswith(GENERATIVE_SUFFIXES) for n in names)
    classifier = any(CLASSIFIER_MARKER in n for n in names)
    if getattr(task, "kind", None) == "generation" and classifier and not generative:
        raise MubenchError(
            f"{flag} {value!r} is a {names[0]} (a classifier), but {task.name!r} is a generation task: it needs "
            f"a language model (e.g. ...ForCausalLM); give a model trained on {task.name} (mubench train-base "
            f"--task {task.name} ...), or a deletion repo of a classification task"
        )
