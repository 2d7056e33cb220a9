"""The generation kind: prompt–completion rows (TRL's convention) for a causal or a seq2seq language model.

Tokenizers are a checkpoint's own or, for a model built from a config, one trained on the task's text
(``tokenizer.py``); models are ``AutoModelForCausalLM`` / ``AutoModelForSeq2SeqLM`` of the task's
architecture (``models.py``); rows are tokenized once by the shared prompt encoder
(``mubench_hf.modalities.prompt_encoding``), which training and scoring both use; base and retrain models
train with TRL's ``SFTTrainer`` (``sft.py``); the report generates greedily (``decode.py``), scores answers
teacher-forced (``score.py``) and computes the generative metrics (``metrics.py``, ``report.py``,
``unlearning_report.py``); the leaderboard ranks by forget quality (``ranking.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import datasets

from ...modalities.text_generation import GenerationCollator, encode_split
from ...objectives.base import TaskObjective
from ...objectives.generation import GenerationObjective
from ...tasks import Task
from ..base import AddMetrics, Row, TaskKind, register_kind
from .attack_scores import (
    ATTACK_METRICS,
    PROBE_METRICS,
    ROBUSTNESS_METRICS,
    document_groups,
    generation_forget_scores,
    generation_probe_scores,
)
from .models import build_generation_model
from .ranking import GENERATION_RANKING_RULE, rank_generation
from .tokenizer import load_tokenizer
from .unlearning_report import GenerationSettings, generation_unlearning_report


def _absent(row: Any) -> None:
    return None


class GenerationKind(TaskKind):
    """Tasks whose target is a completion of a prompt (``tasks.generation.GenerationTask``)."""

    name = "generation"
    base_recipe = "sft"
    # a language model's output layer is its (often tied) embedding matrix: LoRA trains adapters only
    lora_trains_head = False
    measures_relearn = False
    ranking_rule = GENERATION_RANKING_RULE
    attack_metrics = ATTACK_METRICS
    robustness_metrics = ROBUSTNESS_METRICS
    probe_metrics = PROBE_METRICS

    def objective(self) -> TaskObjective:
        return GenerationObjective()

    def load_processor(
        self,
        task: Task,
        source: str | None,
        splits: Mapping[str, Any],
        *,
        trust_remote_code: bool | None = None,
    ) -> Any:
        """The tokenizer of checkpoint ``source`` (a pad token set when it has none, with a warning), or for a
        model built from a config a byte-level BPE tokenizer trained on the train split's text."""
        return load_tokenizer(source, splits, trust_remote_code=trust_remote_code)

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
        """A causal or seq2seq LM (per ``task.architecture``) from ``tiny:<arch>``, a config or a
        checkpoint."""
        return build_generation_model(
            task, model, processor, trust_remote_code=trust_remote_code, allow_pickle=allow_pickle
        )

    def process_splits(self, task: Task, splits: Any, model: Any, processor: Any) -> datasets.DatasetDict:
        """Every split with ``input_ids`` / ``attention_mask`` / ``labels`` added beside its string columns
        (tokenized once, in memory): the methods read the labels, the report reads the strings."""
        seq2seq = task.architecture == "seq2seq"
        return datasets.DatasetDict(
            {
                name: encode_split(split, processor, seq2seq=seq2seq, max_length=task.max_length)
                for name, split in splits.items()
            }  # fmt: skip
        )

    def collator(self, task: Task, processor: Any) -> Callable[[list[dict]], dict]:
        return GenerationCollator(pad_token_id=int(processor.pad_token_id))

    def report_settings(self, task: Task, given: Any) -> GenerationSettings | None:
        """A ``GenerationSettings`` from ``given`` (itself, or a dict of its fields); ``None`` stays
        ``None``."""
        if given is None or isinstance(given, GenerationSettings):
            return given
        return GenerationSettings(**given)

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
        return generation_unlearning_report(
            trainer,
            splits,
            retrain=retrain,
            base_model=base_model,
            unlearn_time_s=unlearn_time_s,
            output_dir=output_dir,
            extra=extra,
            log=log,
            generation=settings,
            add_metrics=add_metrics,
        )

    def forget_scores(
        self, trainer: Any, model: Any, forget: Any, settings: Any = None, *,
        splits: Mapping[str, Any] | None = None,
    ) -> dict[str, float]:  # fmt: skip
        """The forget metrics on ``forget``; on a MUSE-shaped task VerbMem and KnowMem on the probes of
        ``forget``'s documents instead of forget ROUGE-L, as the report scores it."""
        return generation_forget_scores(trainer, model, forget, settings, splits=splits)

    def relearn_groups(self, forget: Any, splits: Mapping[str, Any] | None = None) -> Sequence[int] | None:
        """A MUSE-shaped task's documents: its VerbMem probes are passages of the forget rows themselves, so
        relearning on one passage of a document and scoring the document's probe would score the training
        text; the attack relearns on some documents and scores the others. Row by row elsewhere."""
        return document_groups(forget, splits)

    def probe_scores(
        self,
        trainer: Any,
        model: Any,
        splits: Mapping[str, Any],
        settings: Any = None,
        *,
        seed: int,
        source: str = "auto",
        original: Any = None,
    ) -> dict[str, float]:
        """The forget metrics on the forget rows reworded (``probes.py``), or a MUSE-shaped task's VerbMem and
        KnowMem on its reworded probes; the original model's on the same probes as ``original_<metric>``."""
        return generation_probe_scores(
            trainer, model, splits, settings, seed=seed, source=source, original=original
        )

    def rank(
        self,
        rows: Sequence[Row],
        *,
        name: Callable[[Row], str],
        is_reference: Callable[[Row], bool],
        forget_quality: Callable[[Row], Any] = _absent,
        model_utility: Callable[[Row], Any] = _absent,
        forget_rouge: Callable[[Row], Any] = _absent,
        retain_rouge: Callable[[Row], Any] = _absent,
        **_: Any,
    ) -> tuple[str, list[tuple[Row, int | str | None]]]:
        return rank_generation(
            rows,
            forget_quality=forget_quality,
            model_utility=model_utility,
            name=name,
            is_reference=is_reference,
            forget_rouge=forget_rouge,
            retain_rouge=retain_rouge,
        )


GENERATION = register_kind(GenerationKind())
