"""Repo ids of mubench models on the Hub, and their validation.

Conventions (overridable with ``template=``):

- base model: ``{org}/mubench-{task}-{backbone}``
- reference (retrain) and unlearned models: ``{org}/mubench-{task}-{backbone}-{method}-{deletion}-seed{seed}``
  where ``deletion`` is ``del<p>`` for a ratio (``del5``, ``del2.5``) or ``class<k>`` for class-wise forgetting.

Templates are ``str.format`` strings with the fields above; parts are cleaned (``microsoft/resnet-18`` →
``resnet-18``) and the final id is checked with huggingface_hub's own validator, so an invalid id is
refused before anything touches the network.
"""

from __future__ import annotations

import re
import string
from fractions import Fraction

from huggingface_hub.utils import HFValidationError, validate_repo_id

from ..errors import MubenchError
from ..splits.ratios import format_ratio, parse_ratio

BASE_MODEL_TEMPLATE = "{org}/mubench-{task}-{backbone}"
UNLEARNED_MODEL_TEMPLATE = "{org}/mubench-{task}-{backbone}-{method}-{deletion}-seed{seed}"
BASE_FIELDS = frozenset({"org", "task", "backbone"})
UNLEARNED_FIELDS = BASE_FIELDS | {"method", "deletion", "seed"}

_INVALID_CHARS = re.compile(r"[^\w.-]+")


def check_repo_id(repo_id: str) -> str:
    """Return ``repo_id`` if it is a valid ``namespace/name`` Hub repo id, else raise a clear ``MubenchError``.

    A namespace is required: mubench repos belong to a user or an organisation, and a bare name would
    silently land in whichever account the token belongs to.
    """
    if not isinstance(repo_id, str) or repo_id.count("/") != 1:
        raise MubenchError(
            f"invalid repo id {repo_id!r}: give it as 'namespace/name', e.g. 'my-org/mubench-digits-resnet'"
        )
    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise MubenchError(
            f"invalid repo id {repo_id!r}: {err} Use letters, digits, '-', '_' and '.', "
            "at most 96 characters per part, no '--' or '..', e.g. 'my-org/mubench-digits-resnet'"
        ) from None
    return repo_id


def clean_part(value: object, *, lower: bool = True) -> str:
    """One name part: the last path component (``microsoft/resnet-18`` → ``resnet-18``), lower case
    unless ``lower=False`` (namespaces are case-sensitive), characters the Hub refuses replaced by ``-``."""
    text = str(value).strip().rstrip("/").split("/")[-1]
    text = text.lower() if lower else text
    text = _INVALID_CHARS.sub("-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-.")
    if not text:
        raise MubenchError(f"cannot build a repo name part from {value!r}: it has no letters or digits")
    return text


def deletion_label(deletion: object, task: str | None = None) -> str:
    """``del5`` for ratio 5 (or ``"5"``, ``"del5"``, ``"digits_del5"``), ``class3`` for ``"class3"``."""
    text = str(deletion)
    if task and text.startswith(f"{task}_"):
        text = text[len(task) + 1 :]
    if re.fullmatch(r"class\d+", text):
        return text
    if text.startswith("del"):
        text = text[3:]
    try:
        ratio: Fraction = parse_ratio(text)
    except MubenchError:
        raise MubenchError(
            f"deletion {deletion!r} is neither a ratio (5, 'del5', '{task or 'task'}_del5') "
            "nor a class-wise config ('class3')"
        ) from None
    return f"del{format_ratio(ratio)}"


def _format(template: str, allowed: frozenset[str], **fields: str) -> str:
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    unknown = sorted(names - allowed)
    if unknown:
        raise MubenchError(
            f"repo id template {template!r} uses unknown field(s) {unknown}; known fields: {sorted(allowed)}"
        )
    return check_repo_id(template.format(**fields))


def base_model_repo_id(org: str, task: str, backbone: str, *, template: str = BASE_MODEL_TEMPLATE) -> str:
    """``{org}/mubench-{task}-{backbone}``: where a task's base (original) model lives."""
    return _format(
        template,
        BASE_FIELDS,
        org=clean_part(org, lower=False),
        task=clean_part(task),
        backbone=clean_part(backbone),
    )


def unlearned_model_repo_id(
    org: str,
    task: str,
    backbone: str,
    method: str,
    deletion: object,
    seed: int,
    *,
    template: str = UNLEARNED_MODEL_TEMPLATE,
) -> str:
    """``{org}/mubench-{task}-{backbone}-{method}-del{p}-seed{s}``: an unlearned or retrained model.

    ``deletion`` is a ratio (``5``), a config name (``"digits_del5"``, ``"digits_class3"``) or its suffix.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise MubenchError(f"seed must be an integer, got {seed!r}")
    return _format(
        template,
        UNLEARNED_FIELDS,
        org=clean_part(org, lower=False),
        task=clean_part(task),
        backbone=clean_part(backbone),
        method=clean_part(method),
        deletion=deletion_label(deletion, task),
        seed=str(seed),
    )
