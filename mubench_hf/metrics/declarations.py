"""The registry of metrics: each metric is declared once, in one ``register_metric`` call.

A declaration (:class:`MetricSpec`) says what every reader of a result needs to know about a metric: its
name, the task kind whose report computes it, the split its value describes and the splits it reads, a
readable label, its direction (higher or lower is better, or neither: values to compare with the
retrained model), its ``evaluate`` module (``evaluate_metrics/<module>/``), the paper or code whose
definition it follows and, for metrics from outside the package, the function that computes it.

The report, the model card (its ``model-index``), the results CSV, the Markdown leaderboards and the HTML
page read these declarations; the built-in metrics are declared in :mod:`.catalog_classification` and
:mod:`.catalog_generation`. Derived keys are not declared one by one: ``retrain_<metric>`` and
``original_<metric>`` are the same metric of the retrained and of the original model, ``gap_<metric>``
its distance to the retrained model's value, ``<metric>_ci_low``/``_ci_high`` its bootstrap interval
(see :func:`derived_of`). A declared name always wins over a derived reading (``gap_to_retrain`` is
declared; ``gap_test_accuracy`` is derived).

A metric from another distribution is a module with an entry point in the group ``mubench_hf.metrics``
whose ``@register_metric(...)`` declarations run when it is imported, on the first lookup (see
:mod:`mubench_hf.plugins`). Its compute function is called by the report of its kind
(:func:`mubench_hf.metrics.plugin_metrics.compute_plugin_metrics`) and its value appears in every
output without edits to mubench-hf.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import MubenchError
from ..plugins import METRICS_GROUP, load_plugins, plugin_source

METRIC_KINDS = ("classification", "generation", "image_generation")
# The modules that declare the built-in metrics; imported on the first lookup, not at package import.
_CATALOGS = (
    "mubench_hf.metrics.catalog_classification",
    "mubench_hf.metrics.catalog_generation",
    "mubench_hf.metrics.catalog_image_generation",
    "mubench_hf.metrics.catalog_muse",
    "mubench_hf.metrics.catalog_attacks",
    "mubench_hf.metrics.catalog_mcq",  # multiple-choice accuracies and lm-eval's results
)
BUILT_IN = "built in"

# Prefixes and suffixes of derived keys: (prefix, how the label reads). Order matters: a key is read
# from the outside in (``retrain_forget_accuracy_ci_low`` = the interval of the retrained model's value).
INTERVAL_SUFFIXES = {"_ci_low": "95 % interval, lower bound", "_ci_high": "95 % interval, upper bound"}
MODEL_PREFIXES = {"retrain_": "of the retrained model", "original_": "of the original model"}
GAP_PREFIX = "gap_"


@dataclass(frozen=True)
class MetricSpec:
    """The one declaration of a metric (see the module docstring).

    Attributes:
        name: the key of the metric in a report (``forget_accuracy``); letters, digits and ``_``.
        kind: the task kind whose report computes it: ``classification`` or ``generation``. One name may
            be declared for both kinds when the two reports compute different things under it.
        split: the split the value describes (a model card's ``dataset.split``); ``None`` for values that
            summarise several splits (scores, gaps).
        reads: every split the value is computed from (defaults to ``(split,)``).
        label: a readable name (model cards, page headers).
        higher_is_better: ``True``/``False``; ``None`` when neither is (accuracies on the forget set, which
            should match the retrained model, and diagnostics).
        module: the ``evaluate`` module that computes it (``evaluate_metrics/<module>/``), or ``None``.
        reference: the paper or code whose definition it follows (``"SalUn (Fan et al., ICLR 2024)"``).
        column: the short title of its column in the leaderboard tables; a metric with a column is one of
            the leaderboards' headline metrics (others are in the CSV and on the HTML page only).
        compute: for metrics outside the package, ``compute(inputs) -> float | None`` (``None``: cannot be
            computed from these inputs, left out); the inputs of each kind are documented in
            :mod:`mubench_hf.metrics.plugin_metrics`. Built-in metrics are computed by their reports.
        source: ``"built in"``, or ``"entry point <distribution>:<name>"`` for a plugin.
    """

    name: str
    kind: str
    split: str | None
    label: str
    higher_is_better: bool | None
    reference: str
    reads: tuple[str, ...] = ()
    module: str | None = None
    column: str | None = None
    compute: Callable[[Any], float | None] | None = field(default=None, compare=False)
    source: str = BUILT_IN

    @property
    def direction(self) -> str:
        """``"↑"`` (higher is better), ``"↓"`` (lower is better) or ``""`` (neither)."""
        return {True: "↑", False: "↓"}.get(self.higher_is_better, "")  # type: ignore[arg-type]

    @property
    def is_plugin(self) -> bool:
        return self.source != BUILT_IN


# name -> kind -> declaration, in the order of declaration (the leaderboards' column order).
_SPECS: dict[str, dict[str, MetricSpec]] = {}
# The entry point being loaded, so that the declarations it makes record where they come from.
_loading_source: list[str] = []
_catalogs_loaded = False


def _check(spec: MetricSpec) -> None:
    # '/' separates the parts of lm-eval's keys (lm_eval/<task>/<metric>)
    if not spec.name or not spec.name.replace("_", "").replace("/", "").isalnum():
        raise MubenchError(f"a metric name is letters, digits, '_' and '/', got {spec.name!r}")
    if spec.kind not in METRIC_KINDS:
        raise MubenchError(
            f"metric {spec.name!r}: kind must be one of {list(METRIC_KINDS)}, not {spec.kind!r}"
        )
    if not spec.label.strip():
        raise MubenchError(f"metric {spec.name!r}: give a readable label (label=...)")
    if not spec.reference.strip():
        raise MubenchError(
            f"metric {spec.name!r}: say which paper or code its definition follows (reference=...)"
        )
    if spec.higher_is_better not in (True, False, None):
        raise MubenchError(
            f"metric {spec.name!r}: higher_is_better is True, False or None (neither), not {spec.higher_is_better!r}"
        )
    if spec.compute is not None and not callable(spec.compute):
        raise MubenchError(
            f"metric {spec.name!r}: compute must be a function, not {type(spec.compute).__name__}"
        )


def declare(spec: MetricSpec, *, replace: bool = False) -> MetricSpec:
    """Add ``spec`` to the registry (``replace=True`` to redefine a metric of the same name and kind)."""
    _load_catalogs()
    if spec.source == BUILT_IN:
        spec = _with(spec, source=_loading_source[-1] if _loading_source else _origin(spec.compute))
    if not spec.reads and spec.split is not None:
        spec = _with(spec, reads=(spec.split,))
    existing = _SPECS.get(spec.name, {}).get(spec.kind)
    if existing is not None and not replace:
        if existing == spec:
            return existing  # the same declaration again (a module imported twice)
        raise MubenchError(
            f"the {spec.kind} metric {spec.name!r} is already declared ({existing.source}); pass replace=True "
            "to redefine it, or choose another name"
        )
    _check(spec)
    _SPECS.setdefault(spec.name, {})[spec.kind] = spec
    return spec


def _origin(compute: Callable[[Any], float | None] | None) -> str:
    """``"module <name>"`` for a compute function defined outside mubench-hf (a plugin module imported
    before its entry point was loaded, e.g. as another group's entry point), else ``"built in"``."""
    module = getattr(compute, "__module__", None) or ""
    if compute is None or module == "mubench_hf" or module.startswith("mubench_hf."):
        return BUILT_IN
    return f"module {module}"


def _with(spec: MetricSpec, **changes: Any) -> MetricSpec:
    from dataclasses import replace

    return replace(spec, **changes)


def register_metric(
    name: str,
    *,
    kind: str = "classification",
    split: str | None,
    label: str,
    higher_is_better: bool | None,
    reference: str,
    reads: tuple[str, ...] = (),
    module: str | None = None,
    column: str | None = None,
    replace: bool = False,
) -> Callable[[Callable[[Any], float | None]], Callable[[Any], float | None]]:
    """Declare the metric ``name`` computed by the decorated function (a plugin metric)::

        @register_metric("forget_margin", split="forget", label="Forget margin", higher_is_better=False,
                         reference="my paper, 2025", column="forget margin ↓")
        def forget_margin(inputs: ClassificationInputs) -> float | None:
            ...

    The function is returned unchanged; its declaration is :func:`metric_spec` ``(name, kind)``.
    """

    def decorate(compute: Callable[[Any], float | None]) -> Callable[[Any], float | None]:
        declare(
            MetricSpec(
                name=name, kind=kind, split=split, label=label, higher_is_better=higher_is_better,
                reference=reference, reads=tuple(reads), module=module, column=column, compute=compute,
            ),
            replace=replace,
        )  # fmt: skip
        return compute

    return decorate


def unregister_metric(name: str, kind: str | None = None) -> None:
    """Remove a metric (of one kind, or of every kind): for tests that declare a throw-away one."""
    if kind is None:
        _SPECS.pop(name, None)
    else:
        _SPECS.get(name, {}).pop(kind, None)
        if not _SPECS.get(name, True):
            _SPECS.pop(name, None)


def _load_metric_plugin(point: Any) -> None:
    _loading_source.append(plugin_source(point))
    try:
        loaded = point.load()
    finally:
        _loading_source.pop()
    if isinstance(loaded, MetricSpec):
        declare(_with(loaded, source=plugin_source(point)) if not loaded.is_plugin else loaded)
    # declarations made when the module was imported earlier (as another group's entry point) name it
    imported_as = f"module {point.module}"
    for kinds in _SPECS.values():
        for kind, spec in kinds.items():
            if spec.source == imported_as:
                kinds[kind] = _with(spec, source=plugin_source(point))


def _load_catalogs() -> None:
    """The built-in declarations, first: they come before any plugin's in the leaderboards' order."""
    global _catalogs_loaded
    if not _catalogs_loaded:
        _catalogs_loaded = True
        for catalog in _CATALOGS:
            importlib.import_module(catalog)


def ensure_loaded() -> None:
    """The built-in declarations and, once, the metric plugins."""
    _load_catalogs()
    load_plugins(METRICS_GROUP, _load_metric_plugin)


def metric_specs(kind: str | None = None) -> list[MetricSpec]:
    """Every declaration (of task kind ``kind`` when given), in the order they were declared."""
    ensure_loaded()
    return [spec for kinds in _SPECS.values() for k, spec in kinds.items() if kind is None or k == kind]


def metric_spec(name: str, kind: str = "classification") -> MetricSpec | None:
    """The declaration of metric ``name`` for task kind ``kind``; a name declared for another kind only
    gives that kind's declaration; ``None`` for an undeclared name (derived keys included)."""
    ensure_loaded()
    kinds = _SPECS.get(name)
    if not kinds:
        return None
    return kinds.get(kind) or next(iter(kinds.values()))


def derived_of(key: str) -> tuple[str, str] | None:
    """How a derived key is built: ``("retrain_", "forget_accuracy")``, ``("_ci_low", "forget_accuracy")``,
    ``("gap_", "test_accuracy")``; ``None`` for a plain key. The interval suffix is read first."""
    for suffix in INTERVAL_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return suffix, key.removesuffix(suffix)
    for prefix in (*MODEL_PREFIXES, GAP_PREFIX):
        if key.startswith(prefix) and len(key) > len(prefix):
            return prefix, key.removeprefix(prefix)
    return None


def metric_label(key: str, kind: str = "classification") -> str:
    """A readable name for any report key: the declared label, ``... of the retrained model``,
    ``Gap to retrain in ...``, ``... (95 % interval, lower bound)``; the key itself when undeclared."""
    spec = metric_spec(key, kind)
    if spec is not None:
        return spec.label
    derived = derived_of(key)
    if derived is None:
        return key
    part, base = derived
    if part in INTERVAL_SUFFIXES:
        return f"{metric_label(base, kind)} ({INTERVAL_SUFFIXES[part]})"
    if part in MODEL_PREFIXES:
        return f"{metric_label(base, kind)} {MODEL_PREFIXES[part]}"
    return f"Gap to retrain in {metric_label(base, kind).lower()}"


def metric_split(key: str, kind: str = "classification") -> str | None:
    """The split a report key describes (``retrain_forget_accuracy`` → ``forget``); ``None`` for summaries
    across splits, gaps and undeclared keys."""
    derived = derived_of(key)
    if derived is not None and derived[0] in INTERVAL_SUFFIXES:
        return metric_split(derived[1], kind)
    base = key
    for prefix in MODEL_PREFIXES:
        base = base.removeprefix(prefix)
    spec = metric_spec(base, kind)
    return spec.split if spec is not None else None


def headline_metrics() -> list[str]:
    """The metrics with a leaderboard column (declared ``column=``), each name once, in declaration order."""
    return [name for name, kinds in _loaded_specs().items() if any(s.column for s in kinds.values())]


def plugin_headline_metrics(kind: str | None = None) -> list[MetricSpec]:
    """The plugin metrics with a leaderboard column (of task kind ``kind`` when given)."""
    return [spec for spec in metric_specs(kind) if spec.is_plugin and spec.column]


def _loaded_specs() -> dict[str, dict[str, MetricSpec]]:
    ensure_loaded()
    return _SPECS
