"""Hub tokens: which ones are live in this process, and keeping them out of what mubench-hf writes or uploads.

A token reaches mubench-hf four ways: ``--hub_token`` (a ``TrainingArguments`` flag), ``--token`` on the
push commands, the ``HF_TOKEN`` / ``HUGGING_FACE_HUB_TOKEN`` environment variables, and the login cache
of ``hf auth login`` (plus its stored named tokens). ``active_tokens()`` gathers all of them (and any
given with ``remember_token``); ``redact`` / ``redact_value`` replace them in text and JSON-like values
before they are written or shown; ``find_token_in_files`` is the last check before a push uploads bytes.
"""

from __future__ import annotations

import contextlib
import os
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .errors import MubenchError

REDACTED = "<redacted token>"
# Anything shorter is not a credential and replacing it would garble ordinary text.
MIN_TOKEN_LENGTH = 8
# Hugging Face user access tokens: also redacted when this process never saw them (e.g. one pasted into a
# flag of another tool and echoed back in an error).
HF_TOKEN_PATTERN = re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")
_CHUNK = 1 << 20

_remembered: set[str] = set()


def remember_token(token: str | None) -> None:
    """Add a token given explicitly (``--hub_token``, ``--token``, ``token=``) to those kept out of output."""
    if isinstance(token, str) and len(token.strip()) >= MIN_TOKEN_LENGTH:
        _remembered.add(token.strip())


def active_tokens(*extra: str | None) -> set[str]:
    """Every token this process could write with: remembered ones, ``extra``, the environment variables
    and the login cache. Reading the cache never fails the caller: a broken cache only means fewer tokens."""
    found = set(_remembered)
    found.update(t for t in extra if t)
    found.update(os.environ.get(name) or "" for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"))
    # an unreadable token file must not stop a run or a push: it only means fewer tokens to look for
    with contextlib.suppress(Exception):
        from huggingface_hub import get_token
        from huggingface_hub.utils import get_stored_tokens

        found.add(get_token() or "")
        found.update(get_stored_tokens().values())
    return {t.strip() for t in found if t and len(t.strip()) >= MIN_TOKEN_LENGTH}


def redact(text: str, tokens: Iterable[str] | None = None) -> str:
    """``text`` with every active token (or ``tokens``) and anything shaped like an HF token replaced."""
    known = active_tokens() if tokens is None else set(tokens)
    for token in sorted(known, key=len, reverse=True):  # longest first: one token may contain another
        text = text.replace(token, REDACTED)
    return HF_TOKEN_PATTERN.sub(REDACTED, text)


def redact_value(value: Any, tokens: Iterable[str] | None = None) -> Any:
    """A copy of a JSON-like value (dicts, lists, tuples, strings) with tokens redacted in every string."""
    known = active_tokens() if tokens is None else set(tokens)
    if isinstance(value, str):
        return redact(value, known)
    if isinstance(value, dict):
        return {redact_value(k, known): redact_value(v, known) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v, known) for v in value)
    return value


def _encodings(token: str) -> list[bytes]:
    # numpy stores strings as UTF-32 (np.array(str) in an npz), Windows tools write UTF-16
    return [token.encode(codec) for codec in ("utf-8", "utf-16-le", "utf-32-le")]


def contains_token(data: bytes, tokens: Iterable[str]) -> bool:
    """Whether ``data`` holds one of ``tokens`` (as UTF-8, UTF-16 or UTF-32)."""
    return any(needle in data for token in tokens for needle in _encodings(token))


def _stream_contains(handle: Any, needles: list[bytes]) -> bool:
    overlap = max(len(n) for n in needles) - 1
    tail = b""
    while chunk := handle.read(_CHUNK):
        window = tail + chunk
        if any(n in window for n in needles):
            return True
        tail = window[-overlap:] if overlap else b""
    return False


def file_contains_token(path: str | os.PathLike, tokens: Iterable[str]) -> bool:
    """Whether ``path`` holds one of ``tokens``, read in chunks (weights can be gigabytes). Zip files
    (``predictions.npz``, ``torch.save`` pickles) are also read member by member, decompressed, since a
    compressed member would hide the token from a scan of the raw bytes."""
    needles = [needle for token in tokens for needle in _encodings(token)]
    if not needles:
        return False
    with open(path, "rb") as handle:
        if _stream_contains(handle, needles):
            return True
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                with archive.open(member) as handle:
                    if _stream_contains(handle, needles):
                        return True
    except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError):
        return False  # not a readable archive after all: its raw bytes were scanned above
    return False


def find_token_in_files(
    files: Iterable[tuple[str, str | os.PathLike | bytes]], tokens: Iterable[str] | None = None
) -> str | None:
    """The first name in ``files`` (pairs of name and path or bytes) whose content holds a token."""
    known = active_tokens() if tokens is None else set(tokens)
    for name, content in files:
        if isinstance(content, bytes):
            if contains_token(content, known):
                return name
        elif file_contains_token(Path(content), known):
            return name
    return None


def refuse_if_token_in(
    files: Iterable[tuple[str, str | os.PathLike | bytes]], where: str, tokens: Iterable[str] | None = None
) -> None:
    """Raise before anything is uploaded when a file of the push holds a live Hub token."""
    name = find_token_in_files(files, tokens)
    if name is not None:
        raise MubenchError(
            f"refusing to push {where}: {name} contains your Hugging Face token, which would be published. "
            "Remove the token from that file (or delete the file) and push again; nothing was uploaded"
        )
