"""The one door to the Hub: a token check done before any work, and Hub failures turned into clear errors.

Every Hub call of mubench-hf goes through ``huggingface_hub`` (``HfApi``); this module only decides which
token to use and how a failure is reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from huggingface_hub import HfApi, get_token

from ..errors import MubenchError


def require_token(token: str | None, repo_id: str) -> str:
    """The token to write with: ``token`` if given, else the logged-in one (``HF_TOKEN`` or ``hf auth login``).

    Raises before anything is read, built or uploaded, so a missing login costs nothing.
    """
    found = token or get_token()
    if not found:
        raise MubenchError(
            f"cannot push to {repo_id}: no Hugging Face token. Pass --token (token=...), set the HF_TOKEN "
            "environment variable, or run `hf auth login`; the token needs write access"
        )
    return found


def hub_api(token: str | None) -> HfApi:
    """An ``HfApi`` for the current endpoint (``HF_ENDPOINT``), created per call so it never goes stale."""
    return HfApi(token=token, library_name="mubench-hf")


@contextmanager
def hub_errors(action: str, hint: str = "") -> Iterator[None]:
    """Turn any Hub or network failure inside the block into a ``MubenchError``.

    ``action`` names what was being done and on which repo ("pushing ./mubench to org/splits"); ``hint``
    says what state things are in and what to do next. The original error stays chained.
    """
    try:
        yield
    except MubenchError:
        raise
    except Exception as err:  # HTTP errors, connection errors, malformed answers: all end the same way
        raise MubenchError(
            f"{action} failed ({type(err).__name__}: {_first_line(err)}). {hint}".rstrip()
        ) from err


def push_failure_hint(folder: object) -> str:
    """What a failed push leaves behind, and how to recover."""
    return (
        f"Nothing was changed locally ({folder} is untouched) and no commit was made on the Hub "
        "(a push is a single commit: all files or none); run the same command again to retry"
    )


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else "no details"
