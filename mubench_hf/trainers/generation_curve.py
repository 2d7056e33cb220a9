"""The points of an unlearning curve on a generation task: forget quality and model utility while it unlearns.

Each point runs the generation report (:func:`mubench_hf.kinds.generation.report.generation_report`) on the
validation-side question sets only: the forget questions, a fixed subset of the retain questions (as the
final report takes it) and the task's utility sets (``validation``, ``real_authors``, ``world_facts``)
when it has them. The test split is never read: it is the holdout the final report's membership attacks
use, and choosing a checkpoint on it would leak it into the result.

* ``forget_quality``: TOFU's KS-test p-value of the forget truth ratios against the retrain model's (the
  retrain model is loaded once, from ``retrain_reference``, and only scored on the forget questions);
* ``model_utility``: TOFU's harmonic mean over the utility sets (answer probability, ROUGE-L, truth ratio);
* ``forget_quality_utility_mean`` = ½(forget quality + model utility): the declared criterion of
  ``select_checkpoint="best"`` on generation tasks (higher is better), which needs the retrain model.

Greedy decoding draws nothing, so with several processes every process computes the same point on the whole
sets (no gathering): slower than sharding, and the same numbers everywhere.
"""

from __future__ import annotations

from typing import Any

CRITERION = "forget_quality_utility_mean"
CURVE_SPLITS = ("forget", "retain", "validation", "real_authors", "world_facts")  # never "test"
POINT_KEYS = ("forget_quality", "model_utility", "forget_rouge_l", "retain_rouge_l")


class GenerationCurveScorer:
    """Scores the trainer's current model for one point of a generation curve."""

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer
        self._retrain: Any = None
        self._splits: dict[str, Any] | None = None

    def splits(self) -> dict[str, Any]:
        """The question sets of every point (strings, the retain set cut as the final report cuts it)."""
        from ..kinds.generation.unlearning_report import report_splits

        if self._splits is None:
            given = {k: v for k, v in self.trainer.report_splits().items() if k in CURVE_SPLITS}
            self._splits = report_splits(given)
        return self._splits

    def retrain_model(self) -> Any:
        """The retrain model (loaded once), or ``None`` without ``retrain_reference``."""
        from ..kinds.generation.unlearning_report import _retrain_folder
        from ..modeling import load_like

        reference = self.trainer.args.retrain_reference
        if reference is None:
            return None
        if self._retrain is None:
            model = self.trainer.accelerator.unwrap_model(self.trainer.model)
            self._retrain = load_like(model, _retrain_folder(reference), self.trainer.args.device)
        return self._retrain

    def __call__(self) -> dict[str, Any]:
        from ..kinds.generation.report import generation_report
        from ..kinds.generation.unlearning_report import CHAT_TEMPLATE_MODES, MAX_BATCH_SIZE, settings_of

        trainer = self.trainer
        settings = settings_of(trainer)
        model = trainer.accelerator.unwrap_model(trainer.model)
        was_training = model.training
        model.eval()
        try:
            metrics = generation_report(
                model,
                trainer.processing_class,
                self.splits(),
                retrain_model=self.retrain_model(),
                holdout_split=None,  # the test split is not read while choosing
                batch_size=settings.batch_size
                or max(1, min(MAX_BATCH_SIZE, int(trainer.args.per_device_eval_batch_size))),
                max_new_tokens=settings.max_new_tokens,
                chat_template=CHAT_TEMPLATE_MODES[settings.chat_template],
                max_length=settings.max_length,
                k=settings.k,
                seed=int(trainer.args.seed),
                progress=False,
            )
        finally:
            model.train(was_training)
        point = {key: metrics.get(key) for key in POINT_KEYS if metrics.get(key) is not None}
        quality, utility = point.get("forget_quality"), point.get("model_utility")
        if quality is not None and utility is not None:
            point[CRITERION] = (float(quality) + float(utility)) / 2
        return point
