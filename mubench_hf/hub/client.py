"""The one door to the Hub: a token check done before any work, and Hub failures turned into clear errors.

Every Hub call of mubench-hf goes through ``huggingface_hub`` (``HfApi``); this module only decides which
token to use and how a failure is reported. A Hub error can echo a request back, token included: every
message made here is redacted (``mubench_hf.secrets``), and an original error that held a token is not
chained, so no traceback prints it either.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from huggingface_hub import HfApi, get_token

from ..errors import MubenchError
from ..secrets import active_tokens, redact, remember_token


def require_token(token: str | None, repo_id: str) -> str:
    """The token to write with: ``token`` if given, else the logged-in one (``HF_TOKEN`` or ``hf auth login``).

    Raises before anything is read, built or uploaded, so a missing login costs nothing.
    """
    remember_token(token)
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
        tokens = active_tokens()
        text = str(err)
        message = redact(
            f"{action} failed ({type(err).__name__}: {_first_line(text)}). {hint}".rstrip(), tokens
        )
        if redact(text, tokens) != text:
            raise MubenchError(message) from None  # the original would print the token in a traceback
        raise MubenchError(message) from err


def push_failure_hint(folder: object) -> str:
    """What a failed push leaves behind, and how to recover."""
    return (
        f"Nothing was changed locally ({folder} is untouched) and no commit was made on the Hub "
        "(a push is a single commit: all files or none); run the same command again to retry"
    )


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else "no details"
