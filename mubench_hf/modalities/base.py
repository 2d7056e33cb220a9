"""The modality interface: everything that depends on what kind of input a task has.

A modality owns its canonical input column and ``datasets`` feature, how its processor is loaded,
the batch transform and collator, the ``AutoModelFor...`` class, the pipeline tag used in cards, its
tiny from-config models and any adjustment of a fresh config to the data. The rest of mubench-hf asks
the task's modality (``modalities.get_modality(task.modality)``) instead of branching on its name, so
a new modality is one module that subclasses ``Modality`` and calls ``register_modality``.

This module sits below ``tasks`` (tasks import it), so it never imports them; torch and transformers
are imported on first use, so that listing tasks stays quick.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, ClassVar

import datasets

from ..errors import MubenchError
from ..plugins import MODALITIES_GROUP, load_plugins, plugin_errors_note

# The task's label column. Defined here, below tasks, so transforms can default to it; tasks re-export it.
LABEL_COLUMN = "label"

# The canonical columns of generation tasks (TRL's prompt-completion convention): the prompt already carries
# its formatting, the completion starts with the separator; ``group`` is the entity a row is about (deletion
# by group); TOFU's paraphrased and perturbed (wrong) answers feed the truth ratio; its paraphrased questions
# (as prompts) are the rephrased probes of the paraphrase attack on the forgetting.
PROMPT_COLUMN = "prompt"
COMPLETION_COLUMN = "completion"
GROUP_COLUMN = "group"
PARAPHRASED_COLUMN = "paraphrased_completion"
PERTURBED_COLUMN = "perturbed_completions"
PARAPHRASED_PROMPT_COLUMN = "paraphrased_prompt"
# multiple-choice rows (WMDP/MMLU-shaped): every choice's continuation text, and the index of the right one
CHOICES_COLUMN = "choices"
ANSWER_COLUMN = "answer"

Transform = Callable[[dict[str, list]], dict[str, list]]
Collator = Callable[[list[dict]], dict]


class Modality(ABC):
    """One kind of input (images, text, ...) and how mubench-hf turns it into model inputs.

    Subclasses set the class attributes and implement ``input_feature``, ``auto_class`` and
    ``transform``; the other methods have defaults that suit a modality without a processor.
    """

    #: the modality's name, as tasks give it (``Task(modality=...)``)
    name: ClassVar[str]
    #: the canonical input column every task of this modality is renamed onto
    input_column: ClassVar[str]
    #: the Hub pipeline tag of a classifier of this modality (model cards, ``model-index``)
    pipeline_tag: ClassVar[str]

    @abstractmethod
    def input_feature(self) -> datasets.features.features.FeatureType:
        """The ``datasets`` feature of the input column in stored splits."""

    @abstractmethod
    def auto_class(self) -> type:
        """The ``AutoModelFor...Classification`` class (anything with ``from_config`` and
        ``from_pretrained``) that builds and loads classifiers of this modality."""

    @abstractmethod
    def transform(
        self,
        model_or_config: Any,
        processor: Any,
        *,
        input_column: str,
        label_column: str = LABEL_COLUMN,
        **options: Any,
    ) -> Transform:
        """A batch transform (for ``with_transform``): rows → the model's inputs and ``labels``."""

    def prepare_split(self, split: datasets.Dataset, transform: Transform) -> datasets.Dataset:
        """``split`` ready for the model: by default ``transform`` attached lazily (``with_transform``).
        Modalities whose inputs are costly to decode (audio) compute them here once per split instead."""
        return split.with_transform(transform)

    def collator(self, processor: Any) -> Collator:
        """The collator of transformed rows; the default stacks equal-shaped tensors."""
        from transformers import default_data_collator

        return default_data_collator

    def processor_class(self) -> type | None:
        """The ``Auto...`` class that loads the processor from a checkpoint (``from_pretrained``);
        ``None`` when the modality needs no processor."""
        return None

    def without_processor(self, source: str | None) -> Any:
        """What stands in for the processor when there is none: ``source`` is the checkpoint that
        offered none, or ``None`` when the model has no checkpoint (``tiny:``, a config). Raise when
        the modality cannot work without one."""
        return None

    def tiny_configs(self) -> Mapping[str, tuple[type, dict[str, Any]]]:
        """The tiny from-config models, for offline tests and demos: architecture → (config class,
        its small fields). The labels and the caller's overrides are added on top."""
        return {}

    def tiny_config(self, architecture: str, **fields: Any) -> Any:
        """A tiny config of ``architecture`` with ``fields`` (labels, overrides) set."""
        known = self.tiny_configs()
        if architecture not in known:
            raise MubenchError(
                f"unknown tiny architecture {architecture!r} for {self.name} tasks; "
                f"known: {', '.join(known) or 'none'}"
            )
        config_class, base = known[architecture]
        return config_class(**{**base, **fields})

    def data_hints(self, sample: Any, input_column: str) -> dict[str, Any]:
        """What a model built from a config must know about the data, read from ``sample`` (any split
        of the task); passed to ``adapt_config``."""
        return {}

    def adapt_config(self, config: Any, **hints: Any) -> None:
        """Adjust a fresh config (a copy, in place) to the data; hints it has no use for are ignored."""
        return None


#: The column ``serve_prepared_rows`` adds to a split: each row's position when it was prepared.
PREPARED_ROW_COLUMN = "__prepared_row__"


class _ByPosition:
    """The ``with_transform`` formatter of ``serve_prepared_rows``: positions → ``rows(positions)``.

    ``datasets`` deep-copies a split's formatter on every ``with_format``/``select``; the rows it
    reads are prepared once and never change, so a copy is the same object (no copy of the arrays)."""

    def __init__(self, rows: Callable[[list[int]], dict[str, list]]) -> None:
        self.rows = rows

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        return self.rows([int(i) for i in batch[PREPARED_ROW_COLUMN]])

    def __deepcopy__(self, memo: dict) -> _ByPosition:
        return self


def serve_prepared_rows(
    split: datasets.Dataset, rows: Callable[[list[int]], dict[str, list]]
) -> datasets.Dataset:
    """``split`` whose rows are the model inputs ``rows(positions)`` returns for their positions.

    For ``prepare_split`` hooks that compute every row's inputs once: a column of positions
    (``PREPARED_ROW_COLUMN``) is added and it alone is formatted, so reading a row costs one Arrow
    integer and ``rows``' own lookup (an array view), not ``datasets``' per-row formatting of stored
    arrays (1-3 ms a row for a 40x100 float array, more than a tiny model's step on it). The split's
    other columns stay readable with ``with_format(None)``; ``select``/``shuffle`` keep the positions."""
    import numpy as np

    positioned = split.add_column(PREPARED_ROW_COLUMN, np.arange(len(split), dtype=np.int64))
    return positioned.with_transform(_ByPosition(rows), columns=[PREPARED_ROW_COLUMN])


class UnknownModalityError(MubenchError):
    """A modality name that is not registered."""


_MODALITIES: dict[str, Modality] = {}


def register_modality(modality: Modality, *, replace: bool = False) -> Modality:
    """Add a modality to the registry (``replace=True`` to redefine one)."""
    if not isinstance(modality, Modality):
        raise MubenchError(f"register_modality needs a Modality instance, not {type(modality).__name__}")
    if modality.name in _MODALITIES and not replace:
        raise MubenchError(
            f"modality {modality.name!r} is already registered; pass replace=True to redefine it"
        )
    _MODALITIES[modality.name] = modality
    return modality


def unregister_modality(name: str) -> None:
    """Remove a modality (tests that register a throw-away one)."""
    _MODALITIES.pop(name, None)


def get_modality(name: str) -> Modality:
    """The registered modality called ``name`` (a name not registered yet loads the modality plugins)."""
    if isinstance(name, str) and name not in _MODALITIES:
        load_modality_plugins()
    try:
        return _MODALITIES[name]
    except (KeyError, TypeError):
        raise UnknownModalityError(
            f"unknown modality {name!r}; known modalities: {', '.join(list_modalities())}"
            f"{plugin_errors_note(MODALITIES_GROUP)}"
        ) from None


def list_modalities() -> list[str]:
    """Names of the registered modalities: the built-in ones, and the plugins' once they were loaded
    (:func:`load_modality_plugins`; ``get_modality`` and the task plugins load them). Listing does not load
    them itself: the built-in tasks ask for this list while ``mubench_hf.tasks`` is being imported, and a
    plugin module that imports ``mubench_hf.tasks`` must not be loaded then."""
    return sorted(_MODALITIES)


def load_modality_plugins() -> None:
    """Register the modalities of the ``mubench_hf.modalities`` entry points, once per process."""
    load_plugins(MODALITIES_GROUP, _load_modality_plugin)


def _load_modality_plugin(point: Any) -> None:
    """An entry point's object: a ``Modality`` instance or subclass (registered here), or a module that
    registered its modalities on import."""
    loaded = point.load()
    if isinstance(loaded, type) and issubclass(loaded, Modality):
        known = _MODALITIES.get(getattr(loaded, "name", ""))
        loaded = known if type(known) is loaded else loaded()
    if isinstance(loaded, Modality):
        if _MODALITIES.get(loaded.name) is not loaded:
            register_modality(loaded)
    elif not isinstance(loaded, ModuleType):
        raise MubenchError(
            f"a mubench_hf.modalities entry point names a Modality (instance or subclass) or a module that "
            f"registers one, not a {type(loaded).__name__}"
        )
