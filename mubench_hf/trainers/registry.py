"""The registry of unlearning methods: one place that maps a method name to its trainer class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import UnknownMethodError

if TYPE_CHECKING:
    from .base import UnlearnTrainer

METHODS: dict[str, type[UnlearnTrainer]] = {}


def register_method(cls: type[UnlearnTrainer]) -> type[UnlearnTrainer]:
    """Class decorator: make ``cls`` reachable as ``UnlearnConfig(method=cls.method)``."""
    name = cls.method
    if not name:
        raise ValueError(f"{cls.__name__} has no `method` name to register")
    if name in METHODS and METHODS[name] is not cls:
        raise ValueError(f"method {name!r} is already registered by {METHODS[name].__name__}")
    METHODS[name] = cls
    return cls


def get_method(name: str) -> type[UnlearnTrainer]:
    """The trainer class registered as ``name``.

    The built-in methods register themselves when ``mubench_hf.trainers`` is imported, which happens
    before any of its submodules (this one included) can be used.
    """
    try:
        return METHODS[name]
    except KeyError:
        raise UnknownMethodError(
            f"unknown unlearning method {name!r}; known methods: {', '.join(list_methods())}"
        ) from None


def list_methods() -> list[str]:
    """Names of the registered methods."""
    return sorted(METHODS)
