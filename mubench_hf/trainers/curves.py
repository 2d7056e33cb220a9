"""Unlearning curves and checkpoint selection: the model scored every N optimizer steps while it unlearns.

``UnlearnConfig(eval_during_unlearning=N)`` attaches an :class:`UnlearningCurve` (a ``TrainerCallback``,
no training loop of its own). Every N optimizer steps, and at the last one, it scores the model on
**validation-side data only** (never the test split):

* ``forget_accuracy`` and ``validation_accuracy`` (one prediction pass over each; with several processes
  every process scores its shard and the logits are gathered with ``accelerator.gather_for_metrics``, so
  every process sees the same numbers as one process would);
* with a retrain reference (``retrain_reference``): the retrain model's accuracies on the same two splits
  (measured once, on those two splits only), each gap and ``validation_gap_to_retrain`` =
  ``|Acc_Df − Acc_Df(retrain)| + |Acc_val − Acc_val(retrain)|`` (what ``study hpo`` minimises).

``select_checkpoint="best"`` keeps an in-memory copy of the trainable weights and buffers of the step
with the lowest ``validation_gap_to_retrain`` (the earliest on ties) and loads it back when training ends
(every process keeps its own copy and decides on the same gathered numbers, so DDP replicas stay equal);
``"last"`` keeps the final weights. The curve is written to ``curve.jsonl`` (one line per evaluation) and
``curve.png`` in ``output_dir``; :attr:`UnlearningCurve.selection` (criterion, step, value) goes into
``unlearning_results.json`` and the model card.

On a generation task every point is the generation report's forget quality and model utility on the
forget, retain and utility question sets (never the test split), and ``"best"`` keeps the step with the
highest ½(forget quality + model utility): see ``generation_curve.py``.
The curve lives in memory: a run resumed from a checkpoint starts a new curve.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from ..errors import MubenchError
from .config import SELECT_CHOICES
from .generation_curve import CRITERION as GENERATION_CRITERION
from .generation_curve import GenerationCurveScorer

CURVE_FILE = "curve.jsonl"
CURVE_FIGURE = "curve.png"
# The declared criterion per task kind: (name, lower is better).
CRITERIA: dict[str, tuple[str, bool]] = {
    "classification": ("validation_gap_to_retrain", True),
    "generation": (GENERATION_CRITERION, False),  # ½(forget quality + model utility)
}
CURVE_SPLITS = ("forget", "validation")
CACHE_BYTES = 256 * 2**20  # prepared batches of a split kept between evaluations up to this size


def split_accuracy(
    trainer: Any, dataset: Any, name: str = "the", cache: dict[str, Any] | None = None
) -> float:
    """Share of ``dataset``'s rows whose argmax class is their label, for the trainer's current model.

    The report's loader: every row once, sharded across processes, the hits gathered (the padding the
    last shard gets dropped again), so the value is the same on every process and equal to one
    process's. With ``cache`` (a dict the caller keeps), the prepared batches of the first pass are kept
    under ``name`` when they are small (``CACHE_BYTES``), and later passes only run the model: decoding
    and processing the rows again would cost more than the forward pass itself."""
    from ..evaluation.predictions import prediction_loader
    from ..forward import logits_of

    accelerator = trainer.accelerator
    model = trainer.model
    kept = cache.get(name) if cache is not None else None
    correct = total = 0
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if kept is not None:
                for batch, rows in kept:
                    hits = accelerator.gather(logits_of(model, batch).argmax(-1) == batch["labels"])[:rows]
                    correct, total = correct + int(hits.sum()), total + rows
            else:
                batches, size = [], 0
                for batch in prediction_loader(trainer, dataset):
                    batch = trainer._prepare_inputs(batch)
                    hits = accelerator.gather_for_metrics(
                        logits_of(model, batch).argmax(-1) == batch["labels"]
                    )
                    correct, total = correct + int(hits.sum()), total + int(hits.numel())
                    batches.append((batch, int(hits.numel())))
                    size += sum(v.numel() * v.element_size() for v in batch.values() if torch.is_tensor(v))
                if cache is not None and size <= CACHE_BYTES:
                    cache[name] = batches
    finally:
        model.train(was_training)
    if total != len(dataset):
        raise MubenchError(f"the {name} split has {len(dataset)} rows but {total} were scored")
    return correct / total


def validation_gap(forget: float, validation: float, retrain: tuple[float, float]) -> float:
    """``|Acc_Df − Acc_Df(retrain)| + |Acc_val − Acc_val(retrain)|``."""
    return abs(forget - retrain[0]) + abs(validation - retrain[1])


def retrain_accuracies(trainer: Any, reference: Any) -> tuple[float, float]:
    """The retrain reference's forget and validation accuracy (a predictions file, or its model run on
    those two splits only: the test split is not read)."""
    from ..evaluation.report import _load_reference

    splits = {"forget": trainer.forget_dataset, "validation": trainer.eval_dataset_raw}
    loaded, _ = _load_reference(trainer, splits, reference, list(CURVE_SPLITS))
    missing = [name for name in CURVE_SPLITS if name not in loaded]
    if missing:
        raise MubenchError(
            f"the retrain reference has no {', '.join(missing)} predictions: checkpoint selection compares "
            "forget and validation accuracy with it (pass the retrain model's folder, or a predictions.npz "
            "written with a validation split)"
        )
    return loaded["forget"].accuracy, loaded["validation"].accuracy


def check_curve_inputs(trainer: Any) -> None:
    """Refuse, before any work, a curve that cannot be measured or a selection without its criterion."""
    args = trainer.args
    kind = trainer.objective.kind
    if kind not in CRITERIA:
        raise MubenchError(
            f"eval_during_unlearning is implemented for {', '.join(CRITERIA)} tasks, not {kind} ones (forget "
            "quality and model utility during training are not measured yet); set eval_during_unlearning=0"
        )
    if not getattr(trainer, "makes_gradient_steps", True):
        raise MubenchError(
            f"eval_during_unlearning: {trainer.method} makes no optimizer steps (it edits the weights directly), "
            "so there is no curve to measure; set eval_during_unlearning=0"
        )
    if kind == "classification" and trainer.eval_dataset_raw is None:
        raise MubenchError(
            "eval_during_unlearning needs a validation split (splits= with 'validation', or eval_dataset=): "
            "the curve never reads the test split"
        )
    if args.select_checkpoint == "best" and args.retrain_reference is None:
        raise MubenchError(
            f"select_checkpoint='best' chooses by {CRITERIA[kind][0]}, which needs retrain_reference= "
            "(the retrain model's folder or predictions.npz); or use select_checkpoint='last'"
        )


def _trained_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A CPU copy of what training can change: trainable parameters and buffers (batch-norm statistics).
    Frozen weights are left out, so a LoRA run copies only its adapters."""
    state = {n: p.detach().to("cpu", copy=True) for n, p in model.named_parameters() if p.requires_grad}
    # persistent buffers only: a language model's rotary frequencies are buffers outside the state dict
    persistent = set(model.state_dict())
    state.update({n: b.detach().to("cpu", copy=True) for n, b in model.named_buffers() if n in persistent})
    return state


class UnlearningCurve(TrainerCallback):
    """Score the model every ``every`` optimizer steps; keep and restore the selected step's weights."""

    def __init__(self, trainer: Any, every: int, select: str = "last") -> None:
        if select not in SELECT_CHOICES:
            raise MubenchError(f"select_checkpoint must be one of {list(SELECT_CHOICES)}, got {select!r}")
        self.trainer, self.every, self.select = trainer, int(every), select
        self.criterion, self.lower_is_better = CRITERIA[trainer.objective.kind]
        self.points: list[dict[str, Any]] = []
        self.selection: dict[str, Any] | None = None
        self._retrain: tuple[float, float] | None = None
        self._best: tuple[float, int, dict[str, torch.Tensor]] | None = None
        self._batches: dict[str, Any] = {}  # the prepared forget/validation batches (split_accuracy)
        generation = trainer.objective.kind == "generation"
        self._generation = GenerationCurveScorer(trainer) if generation else None

    # ------------------------------------------------------------------ scoring
    def score(self, step: int, epoch: float | None) -> dict[str, Any]:
        """One point of the curve for the current weights."""
        trainer = self.trainer
        point: dict[str, Any] = {"step": step, "epoch": epoch}
        if self._generation is not None:
            return {**point, **self._generation()}
        point["forget_accuracy"] = split_accuracy(trainer, trainer.forget_dataset, "forget", self._batches)
        point["validation_accuracy"] = split_accuracy(
            trainer, trainer.eval_dataset_raw, "validation", self._batches
        )
        if trainer.args.retrain_reference is not None:
            if self._retrain is None:
                self._retrain = retrain_accuracies(trainer, trainer.args.retrain_reference)
            point["retrain_forget_accuracy"], point["retrain_validation_accuracy"] = self._retrain
            point["forget_gap_to_retrain"] = abs(point["forget_accuracy"] - self._retrain[0])
            point["validation_accuracy_gap_to_retrain"] = abs(point["validation_accuracy"] - self._retrain[1])
            point[self.criterion] = validation_gap(
                point["forget_accuracy"], point["validation_accuracy"], self._retrain
            )
        return point

    def _record(self, state: Any) -> None:
        step = int(state.global_step)
        if self.points and self.points[-1]["step"] == step:
            return
        point = self.score(step, state.epoch)
        self.points.append(point)
        value = point.get(self.criterion)
        if self.select == "best" and value is not None:
            better = self._best is None or (
                value < self._best[0] if self.lower_is_better else value > self._best[0]
            )
            if better:
                model = self.trainer.accelerator.unwrap_model(self.trainer.model)
                self._best = (value, step, _trained_state(model))

    # ------------------------------------------------------------------ callback events
    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step % self.every == 0 or state.global_step >= state.max_steps:
            self._record(state)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step > 0:
            self._record(state)  # the final weights are always on the curve (no-op when just scored)
        last = self.points[-1] if self.points else {"step": int(state.global_step)}
        if self.select == "best" and self._best is not None:
            value, step, weights = self._best
            model = self.trainer.accelerator.unwrap_model(self.trainer.model)
            missing = model.load_state_dict(weights, strict=False)
            if missing.unexpected_keys:
                raise MubenchError(f"the kept weights do not fit the model: {missing.unexpected_keys[:3]}")
            self._best = None  # the copy is in the model now
        else:
            step, value = last["step"], last.get(self.criterion)
        self._batches.clear()
        self.selection = {
            "select": self.select,
            "criterion": self.criterion,
            "step": step,
            "value": value,
            "every": self.every,
        }
        if self.trainer.is_world_process_zero():
            write_curve(Path(args.output_dir), self.points, self.selection, self.trainer.method)


def write_curve(
    output_dir: Path, points: list[dict[str, Any]], selection: Mapping[str, Any], method: str
) -> tuple[Path, Path | None]:
    """``curve.jsonl`` (one line per evaluation) and ``curve.png`` (accuracies and the criterion against
    the step, the selected step marked in the title)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / CURVE_FILE
    path.write_text("".join(json.dumps(point, sort_keys=True) + "\n" for point in points), encoding="utf-8")
    if not points:
        return path, None
    shown = (
        "forget_accuracy",
        "validation_accuracy",
        "forget_quality",
        "model_utility",
        selection["criterion"],
    )
    panels = [k for k in shown if any(k in point for point in points)]
    title = f"{method}: {selection['select']} checkpoint, step {selection['step']} ({selection['criterion']})"
    figure = _figure(points, panels, output_dir / CURVE_FIGURE, title, selection["step"])
    return path, figure


def _figure(points: list[dict[str, Any]], panels: list[str], path: Path, title: str, chosen: int) -> Path:
    """One panel per metric against the step; the selected step marked with a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    steps = [p["step"] for p in points]
    for ax, metric in zip(axes[0], panels):
        ax.plot(steps, [p.get(metric) for p in points], marker="o")
        ax.axvline(chosen, color="grey", linestyle="--", linewidth=1)
        ax.set_xlabel("optimizer step")
        ax.set_title(metric.replace("_", " "))
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def attach_curve(trainer: Any) -> UnlearningCurve | None:
    """Add an :class:`UnlearningCurve` to ``trainer`` when ``args.eval_during_unlearning`` asks for one."""
    every = int(getattr(trainer.args, "eval_during_unlearning", 0) or 0)
    if every <= 0:
        return None
    check_curve_inputs(trainer)
    curve = UnlearningCurve(trainer, every, trainer.args.select_checkpoint)
    trainer.add_callback(curve)
    return curve


def selection_text(selection: Mapping[str, Any]) -> str:
    """The model card's sentence on which step's weights these are."""
    value = selection.get("value")
    scored = f" ({selection['criterion']} = {value:.4f})" if isinstance(value, (int, float)) else ""
    lower = next((low for name, low in CRITERIA.values() if name == selection["criterion"]), True)
    if selection["select"] == "best":
        extreme = "lowest" if lower else "highest"
        how = f"the step with the {extreme} {selection['criterion']} on validation-side data{scored}"
    else:
        how = f"the last step{scored}"
    return (
        f"These are the weights of optimizer step {selection['step']}: {how}, out of evaluations every "
        f"{selection['every']} steps (validation-side splits only; the test split was never read to "
        "choose). The curve is in curve.jsonl."
    )
