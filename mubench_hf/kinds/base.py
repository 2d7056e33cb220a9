"""The task-kind interface and its registry: everything that differs between a classification task and a
generation task lives in one ``TaskKind`` object per kind, found by ``kind_of(task)``.

A ``Task`` is data (name, modality, kind, source, columns, class names, splits). What a kind decides:

* how a processor is loaded and a model is built for a task (``load_processor``, ``build_model``), and how
  its splits become model inputs (``process_splits``, ``collator``);
* what a loss means (``objective``: the per-sample quantities the unlearning methods ask for);
* how base and retrain models are trained (``base_recipe``: ``"trainer"`` for ``transformers.Trainer``,
  ``"sft"`` for TRL's ``SFTTrainer``; the training code above this layer reads it);
* the unlearning report and its settings (``report``, ``report_settings``), and the ranking rule of a
  leaderboard (``rank``, ``ranking_rule``).

This layer sits above ``tasks``, ``modalities`` and ``objectives`` and below the trainers, the evaluation
and the pipeline: nothing it imports reaches up, and nothing below it imports it. A new kind is one module
that subclasses ``TaskKind`` and calls ``register_kind``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from ..errors import MubenchError
from ..objectives.base import TaskObjective
from ..tasks import Task, get_task
from ..tasks.base import TASK_KINDS

Row = TypeVar("Row")
#: A report's hook for metrics computed above this layer (the relearn time): called with the metrics so far
#: before they are logged and written, it returns the keys to add.
AddMetrics = Callable[[dict[str, Any]], Mapping[str, Any]]


class TaskKind(ABC):
    """One kind of task (see the module docstring). Subclasses set the class attributes and implement the
    abstract methods."""

    #: the kind's name, as tasks give it (``Task(kind=...)``)
    name: ClassVar[str]
    #: how base and retrain models are trained: "trainer" (transformers.Trainer) or "sft" (TRL's SFTTrainer)
    base_recipe: ClassVar[str]
    #: whether LoRA trains the output layer in full too (a classifier's head: yes; a language model's output
    #: layer is its often tied embedding matrix: adapters only)
    lora_trains_head: ClassVar[bool] = True
    #: whether the relearn time (steps until the original forget accuracy is back) applies
    measures_relearn: ClassVar[bool] = False
    #: how a leaderboard of this kind's tasks is ranked, in words (sweep summaries, leaderboards)
    ranking_rule: ClassVar[str] = ""
    #: the forget metrics an attack on the model is scored with (``<metric>_after_<attack>``), headline first:
    #: what one scoring pass of an attacked model over forget rows gives (``forget_scores``)
    attack_metrics: ClassVar[tuple[str, ...]] = ()
    #: the attack metrics the leaderboard's robustness tables show, one table each where cells hold it
    #: (empty: the headline, ``attack_metrics[0]``)
    robustness_metrics: ClassVar[tuple[str, ...]] = ()
    #: what the paraphrase attack (the forget set asked again in other words) reports, ``probe_scores``;
    #: empty for a kind whose inputs cannot be re-asked (classification: see ``probe_scores``)
    probe_metrics: ClassVar[tuple[str, ...]] = ()

    # ------------------------------------------------------------------ models and inputs
    @abstractmethod
    def objective(self) -> TaskObjective:
        """A fresh objective (what "the loss of a sample" means) for tasks of this kind."""

    @abstractmethod
    def load_processor(
        self,
        task: Task,
        source: str | None,
        splits: Mapping[str, Any],
        *,
        trust_remote_code: bool | None = None,
    ) -> Any:
        """The processor of checkpoint ``source`` for ``task`` (``None``: a model built from a config)."""

    @abstractmethod
    def build_model(
        self,
        task: Task,
        model: Any,
        splits: Mapping[str, Any],
        processor: Any,
        *,
        trust_remote_code: bool | None = None,
        allow_pickle: bool | None = None,
    ) -> Any:
        """A model for ``task`` from a spec (``tiny:<arch>``, a config, ``.json``) or a checkpoint."""

    @abstractmethod
    def process_splits(self, task: Task, splits: Any, model: Any, processor: Any) -> Any:
        """``splits`` made ready for the model (a lazy transform, or encoded columns)."""

    @abstractmethod
    def collator(self, task: Task, processor: Any) -> Callable[[list[dict]], dict]:
        """The batch collator of ``task``'s processed rows."""

    # ------------------------------------------------------------------ scoring and ranking
    def report_settings(self, task: Task, given: Any) -> Any:
        """The report settings ``given`` asks for (``None``: the report's defaults); a kind whose report takes
        none refuses any."""
        if given is None:
            return None
        raise MubenchError(
            f"generation settings apply to generation tasks; {task.name!r} is a {self.name} task "
            "(its report generates nothing)"
        )

    @abstractmethod
    def report(
        self,
        trainer: Any,
        splits: Mapping[str, Any],
        *,
        retrain: Any = None,
        original_test_accuracy: float | None = None,
        base_model: Any = None,
        unlearn_time_s: float | None = None,
        output_dir: Any = None,
        extra: Mapping[str, Any] | None = None,
        log: bool = True,
        settings: Any = None,
        add_metrics: AddMetrics | None = None,
    ) -> dict[str, Any]:
        """Every unlearning metric of ``trainer.model`` on ``splits``, as one flat dict (logged through the
        trainer when ``log``, written into ``output_dir`` when given)."""

    def forget_scores(
        self, trainer: Any, model: Any, forget: Any, settings: Any = None, *,
        splits: Mapping[str, Any] | None = None,
    ) -> dict[str, float]:  # fmt: skip
        """``attack_metrics`` of ``model`` (an attacked copy of the trainer's model) on the forget rows
        ``forget`` (the report's forget split or a part of it), one scoring pass per split scored;
        ``settings`` are the report's (how a generation task generates), ``splits`` the report's splits (a
        MUSE-shaped task's VerbMem / KnowMem probes of ``forget``'s documents come from them)."""
        raise MubenchError(f"the {self.name} kind does not score attacks on the forgetting")

    def relearn_groups(self, forget: Any, splits: Mapping[str, Any] | None = None) -> Sequence[int] | None:
        """The unit the relearning attack splits ``forget`` by: one id per row (rows of one id are relearned
        on together or scored together), or ``None`` to split row by row."""
        return None

    def probe_scores(
        self, trainer: Any, model: Any, splits: Mapping[str, Any], settings: Any = None, *, seed: int,
        source: str = "auto", original: Any = None,
    ) -> dict[str, float]:  # fmt: skip
        """``probe_metrics`` of ``model`` on the report's ``splits`` asked again in other words (the forget
        rows' prompts reworded, seeded by ``seed``; ``source`` says whether a row's own paraphrase is used);
        with ``original`` (the original model, a module) its values on the same probes too, as
        ``original_<metric>``.

        Not for classification: a classifier is not asked anything, and a perturbed input (an augmented
        image, a reworded review) is a new sample of Df's distribution, which the retrained model classifies
        as well as the original does (random deletion: Df accuracy stays near test accuracy), so such a probe
        cannot tell hidden knowledge from removed knowledge; the weight attacks (rounding, relearning) apply."""
        raise MubenchError(
            f"the paraphrase attack re-asks a generation task's prompts in other words; {self.name} tasks have "
            "no prompt to reword (their attacks: quant8, quant4, relearn)"
        )

    @abstractmethod
    def rank(
        self,
        rows: Sequence[Row],
        *,
        name: Callable[[Row], str],
        is_reference: Callable[[Row], bool],
        **metrics: Any,
    ) -> tuple[str, list[tuple[Row, int | str | None]]]:
        """One group of leaderboard rows ranked by this kind's rule: the metric ranked on and each row's rank
        (an int, ``"ref"`` for the retrain row, ``None`` when unranked). ``metrics`` are accessors of the
        metrics the rule may read (``gap``, ``score``, ``forget_quality`` ...); a rule ignores the others."""


KINDS: dict[str, TaskKind] = {}


def register_kind(kind: TaskKind, *, replace: bool = False) -> TaskKind:
    """Make ``kind`` the kind of tasks with ``Task(kind=kind.name)`` (``replace=True`` to redefine one)."""
    if kind.name in KINDS and not replace:
        raise ValueError(f"task kind {kind.name!r} is already registered; pass replace=True to redefine it")
    KINDS[kind.name] = kind
    if kind.name not in TASK_KINDS:
        TASK_KINDS.append(kind.name)  # tasks of the new kind may now be declared
    return kind


def get_kind(name: str) -> TaskKind:
    """The registered kind called ``name``; an unknown name lists the known ones."""
    try:
        return KINDS[name]
    except KeyError:
        raise MubenchError(f"unknown task kind {name!r}; known kinds: {sorted(KINDS)}") from None


def kind_of(task: str | Task) -> TaskKind:
    """The kind object of ``task`` (a name or a ``Task``)."""
    return get_kind(get_task(task).kind)


def list_kinds() -> list[str]:
    """Names of the registered kinds."""
    return sorted(KINDS)


def objective_for(kind: str = "classification") -> TaskObjective:
    """A fresh objective for task kind ``kind``; an unknown kind lists the known ones."""
    if kind not in KINDS:
        raise MubenchError(f"no task objective for kind {kind!r}; known kinds: {sorted(KINDS)}")
    return KINDS[kind].objective()
