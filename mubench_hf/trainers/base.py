"""``UnlearnTrainer``: the base class of every method and the single entry point.

``UnlearnTrainer(model=..., args=UnlearnConfig(method="salun", ...), forget_dataset=...,
retain_dataset=...)`` returns the registered subclass for ``args.method`` (here ``SalUnTrainer``);
each subclass can also be built directly. A subclass declares what data it consumes
(``data_use``) and overrides ``compute_loss``; everything else (accelerate, gradient accumulation,
checkpoints, logging, ``push_to_hub``) is ``transformers.Trainer``'s own.

What the base adds around ``Trainer``:

* builds the training data from Df and Dr according to ``data_use`` (see ``data.py``) and checks
  the inputs first: a missing/empty set, missing labels, a model whose ``num_labels`` differs from
  the data's class count are errors that say what was wrong;
* ``before_unlearning()``: a hook run once at the start of ``train()``, on the original weights θo,
  before a checkpoint is loaded (SalUn's saliency mask);
* a non-finite loss or gradient stops training with ``NonFiniteLossError`` *before* the optimizer
  step, so the model keeps the last finite weights; ``save_model`` refuses non-finite weights;
* evaluation reports the model's plain cross-entropy, whatever the method optimises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import datasets
import torch
from torch import nn
from transformers import Trainer, TrainingArguments
from transformers.trainer_utils import TrainOutput

from ..errors import MubenchError
from .config import UnlearnConfig
from .data import (
    DataUse,
    PairedCollator,
    RowDataset,
    build_training_data,
    check_datasets,
    declared_class_count,
)
from .errors import NonFiniteLossError
from .forward import logits_of
from .guards import FiniteGuard
from .registry import get_method, list_methods
from .reporting import ReportingMixin, timed_train
from .teachers import frozen_copy, random_teacher

RANDOM_TEACHER_SEED_OFFSET = 104_729  # any constant works; it only has to differ from 0


def model_num_labels(model: nn.Module) -> int | None:
    """``num_labels`` of a Hugging Face (or PEFT) classifier, or of any module defining it."""
    config = getattr(model, "config", None)
    value = getattr(config, "num_labels", None) if config is not None else None
    if value is None:
        value = getattr(model, "num_labels", None)
    return int(value) if value is not None else None


def _wrap_for_trainer(dataset: Any) -> Any:
    # See RowDataset: keeps Trainer from dropping the raw columns a with_transform() formatter reads.
    if isinstance(dataset, datasets.Dataset):
        return RowDataset(dataset)
    if isinstance(dataset, Mapping):
        return {name: _wrap_for_trainer(part) for name, part in dataset.items()}
    return dataset


class UnlearnTrainer(ReportingMixin, Trainer):
    """Base class and entry point of the unlearning methods (see the module docstring)."""

    #: registry name, e.g. "salun"
    method: ClassVar[str] = ""
    #: what the method trains on
    data_use: ClassVar[DataUse] = DataUse.RETAIN
    #: the arguments class holding the method's hyper-parameters
    config_class: ClassVar[type[UnlearnConfig]] = UnlearnConfig
    # Method losses are per-batch means; Trainer divides them by the accumulation steps.
    loss_is_scaled_for_ga = False

    def __new__(cls, *args: Any, **kwargs: Any) -> UnlearnTrainer:
        if cls is UnlearnTrainer:
            config = kwargs.get("args", args[1] if len(args) > 1 else None)
            name = getattr(config, "method", None)
            if not name:
                raise MubenchError(
                    "UnlearnTrainer needs args=UnlearnConfig(method=...) to know which method to run; "
                    f"known methods: {', '.join(list_methods())}"
                )
            cls = get_method(name)
        return super().__new__(cls)

    def __init__(
        self,
        model: nn.Module | None = None,
        args: TrainingArguments | None = None,
        forget_dataset: Any = None,
        retain_dataset: Any = None,
        eval_dataset: Any = None,
        processing_class: Any = None,
        data_collator: Any = None,
        splits: Mapping[str, Any] | None = None,
        **trainer_kwargs: Any,
    ) -> None:
        if model is None:
            raise MubenchError(f"method {self.method!r} needs model=... (the trained model to unlearn from)")
        if "train_dataset" in trainer_kwargs:
            raise MubenchError(
                "UnlearnTrainer builds its training data from forget_dataset and retain_dataset "
                "(or splits=); do not pass train_dataset"
            )
        args = self.config_class.for_method(args, self.method)
        if splits is not None:
            forget_dataset = forget_dataset if forget_dataset is not None else splits.get("forget")
            retain_dataset = retain_dataset if retain_dataset is not None else splits.get("retain")
            eval_dataset = eval_dataset if eval_dataset is not None else splits.get("validation")
        check_datasets(self.method, self.data_use, forget_dataset, retain_dataset)
        num_labels = self._check_num_labels(model, forget_dataset, retain_dataset)
        self.forget_dataset, self.retain_dataset = forget_dataset, retain_dataset
        self.eval_dataset_raw = eval_dataset  # unwrapped, for the unlearning report
        self._report_source = splits
        self.num_labels = num_labels

        model = self.prepare_student(model, args)
        train_dataset = build_training_data(
            self.data_use,
            forget_dataset,
            retain_dataset,
            num_labels=num_labels,
            seed=args.seed,
            anchor=args.pair_anchor,
        )
        super().__init__(
            model=model,
            args=args,
            train_dataset=train_dataset,
            eval_dataset=_wrap_for_trainer(eval_dataset),
            processing_class=processing_class,
            data_collator=data_collator,
            **trainer_kwargs,
        )
        if self.data_use is DataUse.PAIRED:
            self._set_signature_columns_if_needed()
            keep = self._signature_columns if self.args.remove_unused_columns else None
            self.data_collator = PairedCollator(self.data_collator, keep)
        self._unlearning_prepared = False
        self._guard: FiniteGuard | None = None  # built at the first training step
        self._guard_step = -1

    # ------------------------------------------------------------------ checks and hooks
    def _check_num_labels(self, model: nn.Module, forget: Any, retain: Any) -> int:
        num_labels = model_num_labels(model)
        for name, dataset in (("forget", forget), ("retain", retain)):
            declared = declared_class_count(dataset) if dataset is not None else None
            if declared is not None and num_labels is not None and declared != num_labels:
                raise MubenchError(
                    f"the model has num_labels={num_labels} but the {name} set's ClassLabel has {declared} "
                    "classes; unlearn a model trained on this task (or build it with the task's labels)"
                )
            if num_labels is None:
                num_labels = declared
        if num_labels is None:
            raise MubenchError(
                f"cannot tell how many classes {type(model).__name__} predicts: give it config.num_labels "
                "or use datasets with a ClassLabel label column"
            )
        return num_labels

    def prepare_student(self, model: nn.Module, args: UnlearnConfig) -> nn.Module:
        """The model to train, from the one given (``retrain`` replaces it by a fresh initialisation)."""
        return model

    def before_unlearning(self) -> None:
        """Work a method does once on the original weights, before training starts (default: none)."""

    def frozen_original(self) -> nn.Module:
        """A frozen copy of the model as given (θo), placed by the accelerator."""
        return frozen_copy(self.model, self.accelerator)

    def random_teacher(self) -> nn.Module:
        """A frozen, randomly initialised model of the same architecture.

        Seeded by ``args.seed`` shifted by a constant: models are often initialised with the same seed
        as the unlearning run, and the teacher must not be their initial weights.
        """
        return random_teacher(self.model, self.accelerator, self.args.seed + RANDOM_TEACHER_SEED_OFFSET)

    # ------------------------------------------------------------------ Trainer overrides
    @timed_train
    def train(
        self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any
    ) -> TrainOutput:
        if not self._unlearning_prepared:
            # Runs on θo: when resuming, the checkpoint's weights are loaded only inside super().train().
            self.before_unlearning()
            self._unlearning_prepared = True
        return super().train(resume_from_checkpoint=resume_from_checkpoint, trial=trial, **kwargs)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        """Cross-entropy on the batch labels (what finetune and retrain minimise)."""
        logits = logits_of(model, inputs)
        loss = nn.functional.cross_entropy(logits, inputs["labels"])
        return (loss, {"logits": logits}) if return_outputs else loss

    def training_step(
        self, model: nn.Module, inputs: dict[str, Any], num_items_in_batch: torch.Tensor | int | None = None
    ) -> torch.Tensor:
        if self._guard is None:
            self._guard = FiniteGuard(self.accelerator.unwrap_model(model))
        if self._guard_step != self.state.global_step:  # first micro-batch of an optimizer step
            self._guard.snapshot()
            self._guard_step = self.state.global_step
        loss = super().training_step(model, inputs, num_items_in_batch)
        self._stop_if_not_finite(loss)
        return loss

    def _stop_if_not_finite(self, loss: torch.Tensor) -> None:
        # On the last micro-batch the gradients are complete (and reduced across processes); a
        # non-finite one would poison the weights at the coming optimizer step. Under fp16 loss
        # scaling, inf gradients are expected and the scaler skips the step itself.
        check_gradients = self.accelerator.sync_gradients and self.accelerator.scaler is None
        finite = self._guard.all_finite(loss, check_gradients)
        if self.accelerator.num_processes > 1:  # every process must stop, or the others would hang
            finite = self.accelerator.gather(finite.float().reshape(1)).min() > 0
        if bool(finite):
            return
        self._guard.restore()  # undo this step's batch-norm statistics updates
        step = self.state.global_step + 1
        raise NonFiniteLossError(
            f"method {self.method!r}: non-finite loss or gradient at optimizer step {step} "
            f"(loss {loss.item():.4g}); training stopped before that step, so the model keeps the "
            f"weights of step {step - 1}. Lower learning_rate or max_steps.",
            step=step,
        )

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        weights = self.accelerator.unwrap_model(self.model).state_dict()  # buffers included
        bad = [name for name, t in weights.items() if t.is_floating_point() and not t.isfinite().all()]
        if bad:
            raise NonFiniteLossError(
                f"refusing to save non-finite weights ({len(bad)} tensors, e.g. {bad[0]!r})",
                step=self.state.global_step,
            )
        super().save_model(output_dir, _internal_call)

    def prediction_step(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        prediction_loss_only: bool,
        ignore_keys: list[str] | None = None,
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
        # Evaluation batches are ordinary labelled rows: report the model's own cross-entropy there,
        # not the method's training objective (which may need paired batches or teachers).
        self.compute_loss = super().compute_loss  # instance attribute shadows the method's override
        try:
            return super().prediction_step(model, inputs, prediction_loss_only, ignore_keys=ignore_keys)
        finally:
            del self.compute_loss

    def get_eval_dataloader(self, eval_dataset: Any = None) -> torch.utils.data.DataLoader:
        return super().get_eval_dataloader(
            _wrap_for_trainer(eval_dataset) if eval_dataset is not None else None
        )

    def get_test_dataloader(self, test_dataset: Any) -> torch.utils.data.DataLoader:
        return super().get_test_dataloader(_wrap_for_trainer(test_dataset))
