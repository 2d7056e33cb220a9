"""``GenerationTask``: a task whose rows are prompt–completion pairs (TRL's convention) instead of labelled
inputs, and the one place where a generation task differs from a classification one.

Rows have ``prompt`` and ``completion`` strings (the prompt already carries its formatting, e.g.
``"Question: ...\\nAnswer:"``; the completion starts with the separator, so ``prompt + completion`` is the
training text), ``sample_id``, and where the task says so:

* ``group`` (int): the entity a row is about. Deletion is then by group: ``<task>_del<p>`` forgets p % of
  the groups with all their rows, and the deletion order lists groups (TOFU forgets whole authors).
* ``paraphrased_completion`` (str) and ``perturbed_completions`` (list of str): TOFU's paraphrased and
  wrong answers, for the truth ratio; ``""`` / ``[]`` on rows that have none.
* ``paraphrased_prompt`` (str): the prompt with its question in other words (TOFU's paraphrased questions),
  which the paraphrase attack on the forgetting re-asks; ``""`` on rows that have none.

The task is data: its columns and features, its modality object (tokenisation into ``input_ids`` /
``attention_mask`` / ``labels`` with ``-100`` on the prompt, the ``AutoModelFor...`` class, the pipeline
tag), its deletion units and the recipe its base and retrain models train with. How a tokenizer and a model
are built, how they are trained (TRL's ``SFTTrainer``) and scored is the generation kind's business
(``mubench_hf.kinds.generation``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import datasets
import numpy as np

from ..columns import column_numpy
from ..errors import MubenchError
from ..modalities.base import (
    ANSWER_COLUMN,
    CHOICES_COLUMN,
    COMPLETION_COLUMN,
    GROUP_COLUMN,
    PARAPHRASED_COLUMN,
    PARAPHRASED_PROMPT_COLUMN,
    PERTURBED_COLUMN,
    PROMPT_COLUMN,
)
from ..modalities.text_generation import generation_modality
from .base import SAMPLE_ID_COLUMN, SAMPLE_ID_FEATURE, Task, canonical_dataset, source_columns
from .sources import SourceLike, load_source

ARCHITECTURES = ("causal", "seq2seq")

#: Columns a generation task may add beside prompt/completion, with their features.
OPTIONAL_FEATURES: dict[str, Any] = {
    GROUP_COLUMN: datasets.Value("int64"),
    PARAPHRASED_COLUMN: datasets.Value("string"),
    PERTURBED_COLUMN: datasets.List(datasets.Value("string")),
    PARAPHRASED_PROMPT_COLUMN: datasets.Value("string"),
    # multiple-choice rows (tasks/mcq.py): the choices' continuations and the right one's index (-1: none)
    CHOICES_COLUMN: datasets.List(datasets.Value("string")),
    ANSWER_COLUMN: datasets.Value("int64"),
}

#: What base and retrain models of a generation task train with unless told otherwise: a tiny LM built from
#: a config (tiny:llama) memorises fictitious_authors' 2,000 QA pairs with it (measured on the del5 forget
#: set: ROUGE-L recall 0.998, retain 0.996, mean training loss 0.47). Pretrained checkpoints want their own
#: recipe (TOFU: lr 1e-5, 5 epochs), which the tasks of real data declare.
GENERATION_RECIPE: dict[str, Any] = dict(
    num_train_epochs=20.0,
    learning_rate=5e-3,
    per_device_train_batch_size=32,
    warmup_steps=20,
    lr_scheduler_type="linear",
)


@dataclass(frozen=True)
class GenerationTask(Task):
    """A prompt–completion task (see the module docstring).

    ``build`` (offline tasks and Hub tasks that need several upstream configs) returns the canonical
    splits from a ``source`` override or ``None`` (the task's own data). ``architecture`` is the kind of
    language model the task is meant for: ``"causal"`` (``AutoModelForCausalLM``) or ``"seq2seq"``
    (``AutoModelForSeq2SeqLM``); a model of the other kind is refused.
    """

    class_names: tuple[str, ...] = ()
    kind: str = "generation"
    architecture: str = "causal"
    group_column: str | None = None
    extra_columns: tuple[str, ...] = ()
    eval_splits: tuple[str, ...] = ("test",)
    build: Callable[[SourceLike], datasets.DatasetDict] | None = None
    #: the deletion order (of groups) under which the configs are the source's own forget sets
    upstream: Callable[[SourceLike], list[int]] | None = None
    #: the upstream order lists exactly the source's forget set (MUSE): it is then the deletion order's
    #: length, so ``del10`` with ``--order upstream`` forgets that set and smaller ratios nested parts of it
    upstream_forget_set: bool = False
    recipe: Mapping[str, Any] = field(default_factory=lambda: dict(GENERATION_RECIPE))
    #: the longest prompt + completion, in tokens, a training row keeps (longer prompts lose their start)
    max_length: int = 256

    def __post_init__(self) -> None:
        if self.build is not None and self.loader is None and self.hub is None:
            object.__setattr__(self, "loader", lambda: self.build(None))
        super().__post_init__()
        if self.architecture not in ARCHITECTURES:
            raise MubenchError(
                f"task {self.name!r}: architecture must be one of {list(ARCHITECTURES)}, not {self.architecture!r}"
            )
        unknown = [c for c in self.extra_columns if c not in OPTIONAL_FEATURES or c == GROUP_COLUMN]
        if unknown:
            raise MubenchError(
                f"task {self.name!r}: unknown extra columns {unknown}; known: "
                f"{[c for c in OPTIONAL_FEATURES if c != GROUP_COLUMN]}"
            )

    # ------------------------------------------------------------------ columns
    @property
    def modality_spec(self) -> Any:
        """The text-generation modality object for this task's architecture (tokenisation, model class)."""
        return generation_modality(self.architecture)

    @property
    def input_column(self) -> str:
        return PROMPT_COLUMN

    @property
    def columns(self) -> tuple[str, ...]:
        group = (GROUP_COLUMN,) if self.group_column else ()
        return (PROMPT_COLUMN, COMPLETION_COLUMN, *group, *self.extra_columns)

    @property
    def features(self) -> datasets.Features:
        feats = {PROMPT_COLUMN: datasets.Value("string"), COMPLETION_COLUMN: datasets.Value("string")}
        feats.update({c: OPTIONAL_FEATURES[c] for c in self.columns[2:]})
        feats[SAMPLE_ID_COLUMN] = SAMPLE_ID_FEATURE
        return datasets.Features(feats)

    # ------------------------------------------------------------------ deletion units
    def row_labels(self, train: datasets.Dataset) -> np.ndarray:
        """Generation rows have no class: every row is 0 (class-wise configs do not apply)."""
        return np.zeros(len(train), dtype=np.int64)

    def deletion_groups(self, train: datasets.Dataset) -> np.ndarray | None:
        """The group of every train row when deletion is by group, else ``None``."""
        if not self.group_column:
            return None
        return column_numpy(train, GROUP_COLUMN).astype(np.int64)

    def recipe_defaults(self) -> dict[str, Any]:
        return dict(self.recipe)

    def upstream_order(self, source: SourceLike = None) -> list[int]:
        if self.upstream is None:
            return super().upstream_order(source)
        return self.upstream(source)

    # ------------------------------------------------------------------ loading
    def load(self, source: SourceLike = None, ood_source: SourceLike | bool = None) -> datasets.DatasetDict:
        """The canonical splits: ``train`` and the task's evaluation splits (``eval_splits``), each with
        ``sample_id`` (the row's index in its split of the source)."""
        if self.build is not None:
            raw = self.build(source)
        elif source is not None:
            raw = load_source(source, what=f"source for task {self.name!r}")
        else:
            raw = self._load_raw(None)
        wanted = {"train": self.train_split, **{s: s for s in self.eval_splits}}
        if self.build is None:
            wanted["test"] = self.test_split
            if self.validation_split:
                wanted["validation"] = self.validation_split
        out = {}
        for canonical, upstream in wanted.items():
            if upstream not in raw:
                raise MubenchError(
                    f"task {self.name!r}: the source has no {upstream!r} split (it has {sorted(raw)}); "
                    f"the task reads {canonical} from {upstream!r}"
                )
            out[canonical] = self.canonicalise(raw[upstream], f"split {upstream!r}")
        return datasets.DatasetDict(out)

    def canonicalise(self, ds: datasets.Dataset, where: str) -> datasets.Dataset:
        """Rename onto the canonical columns, check them, add ``sample_id`` (unless given), drop the rest."""
        mapping = dict(self.hub.column_mapping) if self.hub else {}
        columns = source_columns(self.name, ds, mapping, [(c, "") for c in self.columns], where)
        ids = (
            column_numpy(ds, SAMPLE_ID_COLUMN)
            if SAMPLE_ID_COLUMN in ds.column_names
            else np.arange(len(ds), dtype=np.int64)
        )
        out = canonical_dataset(self.name, ds, columns, ids, where, features=False)
        for column in (PROMPT_COLUMN, COMPLETION_COLUMN):
            nulls = out.data.column(column).null_count
            if nulls:
                raise MubenchError(f"task {self.name!r}: {where} has {nulls} empty {column}s")
        return out.cast(self.features)
