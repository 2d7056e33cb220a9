"""Checking a grid's settings against the field types of the argument dataclasses they will build.

``TrainingArguments`` and its subclasses take what they are given: ``num_train_epochs: "eight"`` is
stored as is and fails minutes later inside training, or only after the base models were trained. A
grid's ``base_recipe``, ``unlearn_args`` and ``hyperparameters`` are checked here against the type
hints (and the ``choices`` metadata) of ``RecipeArguments`` and each method's config when the grid is
read, before any work.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from typing import Any

from ..errors import MubenchError


@functools.cache
def field_types(cls: type) -> dict[str, tuple[Any, tuple[Any, ...] | None]]:
    """Field name -> (type hint, allowed values from the field's ``choices`` metadata or ``None``)."""
    hints = typing.get_type_hints(cls)
    out = {}
    for item in dataclasses.fields(cls):
        choices = item.metadata.get("choices") if item.metadata else None
        out[item.name] = (hints.get(item.name, Any), tuple(choices) if choices else None)
    return out


def _arms(hint: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(hint)
    return (hint,)


def _enum_values(hint: Any) -> list[str] | None:
    """The allowed strings of a ``SomeEnum | str`` field: transformers turns the string into the enum,
    so any other string fails later; ``None`` when the field takes free text."""
    arms = _arms(hint)
    enums = [a for a in arms if isinstance(a, type) and issubclass(a, enum.Enum)]
    if not enums:
        return None
    return [str(member.value) for e in enums for member in e]


def conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` (as read from YAML/JSON) is a valid value of a field typed ``hint``."""
    if hint is Any or hint is object:
        return True
    arms = _arms(hint)
    if len(arms) > 1:
        allowed = _enum_values(hint)
        if isinstance(value, str) and allowed is not None:
            return value in allowed
        return any(conforms(value, arm) for arm in arms)
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return any(value is v or (value == v and type(value) is type(v)) for v in typing.get_args(hint))
    if origin in (list, tuple, set):
        (item,) = typing.get_args(hint)[:1] or (Any,)
        return isinstance(value, list) and all(conforms(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return value in [member.value for member in hint]
    if hint in (list, tuple):
        return isinstance(value, list)
    if hint is dict:
        return isinstance(value, dict)
    # Other classes (accelerate's ParallelismConfig ...) cannot come from a YAML file as such.
    return isinstance(hint, type) and isinstance(value, hint)


def describe(hint: Any) -> str:
    """``hint`` in words, for an error message: 'a number', 'one of 'no', 'steps', 'epoch''..."""
    allowed = _enum_values(hint)
    if allowed is not None:
        return "one of " + ", ".join(repr(v) for v in allowed)
    words: list[str] = []
    for arm in _arms(hint):
        origin = typing.get_origin(arm)
        if origin is typing.Literal:
            text = "one of " + ", ".join(repr(v) for v in typing.get_args(arm))
        elif origin in (list, tuple, set) or arm in (list, tuple):
            item = (typing.get_args(arm) or (Any,))[0]
            text = "a list" if item is Any else f"a list of {_plural(describe(item))}"
        elif origin is dict or arm is dict:
            text = "a mapping"
        else:
            text = {
                type(None): "null",
                bool: "true or false",
                int: "an integer",
                float: "a number",
                str: "a string",
            }.get(arm, getattr(arm, "__name__", str(arm)))
        if text not in words:
            words.append(text)
    return " or ".join(words)


def _plural(text: str) -> str:
    return {"a string": "strings", "an integer": "integers", "a number": "numbers"}.get(text, text)


def check_types(key: str, values: dict[str, Any], cls: type) -> None:
    """Raise :class:`MubenchError` naming ``key.<field>`` for the first value of the wrong type."""
    types_ = field_types(cls)
    for name, value in values.items():
        if name not in types_:
            continue  # unknown names are reported by the caller, with the list of known ones
        hint, choices = types_[name]
        if choices is not None and value not in choices:
            raise MubenchError(
                f"grid key '{key}.{name}': expected one of {', '.join(repr(c) for c in choices)}, got {value!r}"
            )
        if not conforms(value, hint):
            raise MubenchError(
                f"grid key '{key}.{name}': expected {describe(hint)}, got {type(value).__name__} {value!r}"
            )
