"""Plugins from other distributions: entry points loaded once, on first use, each failure a warning.

mubench-hf is extended without editing it: a distribution declares entry points in the groups

* ``mubench_hf.methods``    — a module that calls ``register_method`` (unlearning methods);
* ``mubench_hf.tasks``      — a ``Task``, a callable that registers (or returns) tasks, or a module that
  registers them on import;
* ``mubench_hf.metrics``    — a module whose ``@register_metric`` declarations run on import (or a
  ``MetricSpec``);
* ``mubench_hf.modalities`` — a ``Modality`` instance or subclass, or a module that registers one,

and each registry calls :func:`load_plugins` for its group the first time it is asked for a name. A
plugin that fails (its import raises, its object is of the wrong type) is skipped with a warning that
names the entry point and the error, and is remembered in :data:`PLUGIN_ERRORS`, so that an error about
an unknown name can say which plugin might have provided it; the built-ins keep working.

This module sits at the bottom of the package (it imports nothing from it), so every layer may use it.
Listing entry points reads every installed distribution's metadata, so nothing here runs at import
time: ``mubench --help`` never pays for it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

METHODS_GROUP = "mubench_hf.methods"
TASKS_GROUP = "mubench_hf.tasks"
METRICS_GROUP = "mubench_hf.metrics"
MODALITIES_GROUP = "mubench_hf.modalities"
GROUPS = (METHODS_GROUP, TASKS_GROUP, METRICS_GROUP, MODALITIES_GROUP)

#: group -> entry point name -> why it failed to load ("TypeError: ...")
PLUGIN_ERRORS: dict[str, dict[str, str]] = {}
_LOADED: set[str] = set()


def plugin_source(point: EntryPoint) -> str:
    """Where a plugin comes from, for listings and errors: ``entry point my-dist:my_task``."""
    dist = getattr(point, "dist", None)
    dist_name = getattr(dist, "name", None) or "unknown distribution"
    return f"entry point {dist_name}:{point.name}"


def _default_handler(point: EntryPoint) -> None:
    point.load()


def load_plugins(group: str, handle: Callable[[EntryPoint], None] | None = None) -> None:
    """Load every entry point of ``group`` once per process (later calls return at once).

    ``handle(point)`` loads one entry point and registers what it provides; the default only imports it
    (``point.load()``), which suits modules that register themselves. Whatever ``handle`` raises is
    turned into a warning naming the entry point, recorded in ``PLUGIN_ERRORS[group]``, and the next
    entry point is loaded. The group counts as loaded before its first entry point runs, so a plugin
    that asks its own registry for a name while loading does not load the group again.
    """
    if group in _LOADED:
        return
    _LOADED.add(group)
    handle = handle or _default_handler
    for point in entry_points(group=group):
        try:
            handle(point)
        except Exception as err:  # a broken plugin must not take the built-ins down with it
            message = f"{type(err).__name__}: {err}"
            PLUGIN_ERRORS.setdefault(group, {})[point.name] = message
            warnings.warn(
                f"mubench-hf: the plugin {point.name!r} ({point.value}, {plugin_source(point)}) of the group "
                f"{group} failed to load and is skipped: {message}",
                stacklevel=3,
            )


def plugin_errors_note(group: str) -> str:
    """``"; plugin 'x' failed to load (ImportError: ...)"`` for each broken plugin of ``group``, to
    append to an unknown-name error (empty when none failed)."""
    return "".join(
        f"; plugin {name!r} failed to load ({why})" for name, why in PLUGIN_ERRORS.get(group, {}).items()
    )


def reset_plugins(group: str) -> None:
    """Forget that ``group`` was loaded (and its errors), so the next lookup loads it again (tests)."""
    _LOADED.discard(group)
    PLUGIN_ERRORS.pop(group, None)
