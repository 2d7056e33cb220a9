"""The registry of unlearning methods: each method is declared once, in one ``register_method`` call.

A declaration (``MethodSpec``) says everything the rest of the product needs to know about a method:
its name, trainer and config classes, what data it consumes, the paper it comes from, which frozen
models it needs (the original model θo, a randomly initialised "incompetent" teacher), the task kinds
it applies to, settings that make it forget quickly on a small model (the digits demo and tests), and
the hyper-parameters ``mubench study hpo`` searches (``search_space``: see ``mubench_hf.search_space``).
The trainer's ``method``/``data_use``/``config_class`` attributes, the config's default ``method``, the
CLI's ``--method`` choices, the sweep's method list and defaults, and the model card's citation are
all read from here.

Methods outside the package are distributions with an entry point in the group ``mubench_hf.methods``
whose value is the module that defines and registers them (``my_pkg.my_method``). They are imported
on the first lookup. A plugin that fails to import is reported by name (a warning, and in the error
for an unknown method) while the built-in methods keep working.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..errors import MubenchError
from ..plugins import METHODS_GROUP, load_plugins, plugin_errors_note
from .data import DataUse
from .errors import UnknownMethodError

# The registry sits below the trainers and their configs (both read it), so it names their classes without
# importing them: a trainer class is an ``UnlearnTrainer`` subclass, a config class an ``UnlearnConfig`` one.
TrainerClass = type
ConfigClass = type

PLUGIN_GROUP = METHODS_GROUP

# Which forget set a method unlearns at step i of a request schedule (sequential unlearning): the rows
# request i adds (Df_i, the default: earlier requests were unlearned by the earlier steps), or every row
# requested so far (Df_≤i), for a method whose definition is about the whole removed set.
SEQUENTIAL_NEW = "new"
SEQUENTIAL_CUMULATIVE = "cumulative"
SEQUENTIAL_FORGET = (SEQUENTIAL_NEW, SEQUENTIAL_CUMULATIVE)


class Needs(str, Enum):
    """Frozen models a method reads during training; the base trainer builds them."""

    ORIGINAL = "original"  # a frozen copy of θo, as ``self.original_model``
    RANDOM_TEACHER = "random_teacher"  # a randomly initialised copy, as ``self.incompetent_teacher``


@dataclass(frozen=True)
class MethodSpec:
    """The one declaration of an unlearning method (see the module docstring)."""

    name: str
    trainer: TrainerClass
    config: ConfigClass
    data_use: DataUse
    citation: str
    needs: tuple[Needs, ...] = ()
    kinds: tuple[str, ...] = ("classification",)
    quick_settings: Mapping[str, Any] = field(default_factory=dict)
    # field -> mubench_hf.search_space.Range; empty: the search's default space (learning rate, length)
    search_space: Mapping[str, Any] = field(default_factory=dict)
    sequential_forget: str = SEQUENTIAL_NEW  # see SEQUENTIAL_FORGET

    @property
    def needs_original(self) -> bool:
        return Needs.ORIGINAL in self.needs

    @property
    def needs_random_teacher(self) -> bool:
        return Needs.RANDOM_TEACHER in self.needs


METHODS: dict[str, TrainerClass] = {}  # name -> trainer class (kept for existing callers)
SPECS: dict[str, MethodSpec] = {}


def register_method(
    name: str,
    *,
    trainer: TrainerClass,
    data_use: DataUse,
    citation: str,
    config: ConfigClass | None = None,
    needs: tuple[Needs | str, ...] = (),
    kinds: tuple[str, ...] = ("classification",),
    quick_settings: Mapping[str, Any] | None = None,
    search_space: Mapping[str, Any] | None = None,
    sequential_forget: str = SEQUENTIAL_NEW,
) -> MethodSpec:
    """Declare the method ``name`` (the only place its facts are written down) and return its spec.

    ``config`` defaults to the trainer's inherited ``config_class``: ``UnlearnConfig`` for a direct
    ``UnlearnTrainer`` subclass (a method without hyper-parameters of its own), the parent method's config
    for a subclass of another method's trainer (whose loss reads the parent's fields).
    ``search_space`` maps config fields to ``mubench_hf.search_space.Range`` (what ``mubench study hpo``
    varies); left out, the search varies the learning rate and the training length.
    ``sequential_forget``: what the method unlearns at step i of a request schedule, ``"new"`` (the rows
    of request i) or ``"cumulative"`` (every row requested up to step i).
    """
    import dataclasses

    from ..search_space import check_space

    if not name or not name.replace("_", "").isalnum():
        raise MubenchError(f"a method name is letters, digits and '_', got {name!r}")
    if name in SPECS and SPECS[name].trainer is not trainer:
        raise MubenchError(f"method {name!r} is already registered by {SPECS[name].trainer.__name__}")
    if not citation.strip():
        raise MubenchError(f"method {name!r}: say which paper it comes from (citation=...)")
    if sequential_forget not in SEQUENTIAL_FORGET:
        raise MubenchError(
            f"method {name!r}: sequential_forget must be one of {', '.join(SEQUENTIAL_FORGET)}, "
            f"got {sequential_forget!r}"
        )
    config = config or _inherited_config(name, trainer)
    space = check_space(name, search_space or {}, {f.name for f in dataclasses.fields(config)})
    spec = MethodSpec(
        name=name,
        trainer=trainer,
        config=config,
        data_use=DataUse(data_use),
        citation=citation.strip(),
        needs=tuple(Needs(n) for n in needs),
        kinds=tuple(kinds),
        quick_settings=dict(quick_settings or {}),
        search_space=space,
        sequential_forget=sequential_forget,
    )
    # The class attributes the trainer reads are filled in from the declaration, never written twice.
    trainer.method, trainer.data_use, trainer.config_class = name, spec.data_use, spec.config
    SPECS[name] = spec
    METHODS[name] = trainer
    return spec


def _inherited_config(name: str, trainer: type) -> ConfigClass:
    config = getattr(trainer, "config_class", None)
    if not isinstance(config, type):
        raise MubenchError(
            f"method {name!r}: trainer {trainer.__name__} is not an UnlearnTrainer subclass (it has no "
            "config_class); subclass mubench_hf.trainers.UnlearnTrainer or pass config=..."
        )
    return config


def _ensure_loaded() -> None:
    """The built-in methods (``mubench_hf.trainers``) and, once, the plugins (each entry point's module
    registers its methods on import; see :mod:`mubench_hf.plugins`)."""
    importlib.import_module("mubench_hf.trainers")
    load_plugins(PLUGIN_GROUP)


def get_spec(name: str) -> MethodSpec:
    """The declaration of the method ``name``; an unknown name lists the known ones."""
    _ensure_loaded()
    try:
        return SPECS[name]
    except KeyError:
        raise UnknownMethodError(
            f"unknown unlearning method {name!r}; known methods: {', '.join(list_methods())}"
            f"{plugin_errors_note(PLUGIN_GROUP)}"
        ) from None


def get_method(name: str) -> TrainerClass:
    """The trainer class registered as ``name``."""
    return get_spec(name).trainer


def list_methods(kind: str | None = None) -> list[str]:
    """Names of the registered methods (those that apply to task kind ``kind`` when given)."""
    _ensure_loaded()
    return sorted(name for name, spec in SPECS.items() if kind is None or kind in spec.kinds)


def method_specs() -> list[MethodSpec]:
    """Every declaration, sorted by name."""
    _ensure_loaded()
    return [SPECS[name] for name in sorted(SPECS)]


def spec_for_config(config_class: type) -> MethodSpec | None:
    """The method whose own config class is ``config_class`` (None when several or none share it)."""
    found = [spec for spec in SPECS.values() if spec.config is config_class]
    return found[0] if len(found) == 1 else None
