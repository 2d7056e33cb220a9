"""``UnlearnTrainer``: the base class of every method and the single entry point.

``UnlearnTrainer(model=..., args=UnlearnConfig(method="salun", ...), forget_dataset=...,
retain_dataset=...)`` returns the registered subclass for ``args.method`` (here ``SalUnTrainer``);
each subclass can also be built directly. A method is declared once with ``register_method`` (what
data it consumes, which frozen models it needs, its paper) and usually overrides only
``compute_loss``; everything else (accelerate, gradient accumulation, checkpoints, logging,
``push_to_hub``) is ``transformers.Trainer``'s own.

What the base adds around ``Trainer``:

* builds the training data from Df and Dr according to the declared data use (``data.py``), after
  checking the inputs: a missing/empty set, missing labels, a model whose ``num_labels`` differs from
  the data's class count, a retrain reference that does not exist are errors before any work;
* builds the frozen models the method declares: ``self.original_model`` (θo) and
  ``self.incompetent_teacher`` (randomly initialised), placed by the accelerator;
* ``self.objective``: the task objective methods compute their losses through (per-sample
  log-likelihood, loss, output distributions), so a method is written once for every task kind;
* ``log_term(name, value)``: a loss term averaged over the logging window and logged beside ``loss``;
* ``before_unlearning()``: a hook run once at the start of ``train()`` on the original weights θo;
* the guards of ``guards.py`` (non-finite loss) and ``training.py`` (one-row batches under batch
  norm, exact checkpoint loading); evaluation reports the model's plain task loss, whatever the
  method optimises; the unlearning report (``reporting.py``) and model card (``card.py``);
* the unlearning curve and checkpoint selection (``curves.py``: ``eval_during_unlearning``,
  ``select_checkpoint``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from typing import Any, ClassVar

import datasets
import torch
from torch import nn
from transformers import Trainer, TrainingArguments
from transformers.trainer_utils import TrainOutput

from ..errors import MubenchError
from ..objectives import ClassificationObjective, TaskObjective
from ..rows import RowDataset
from ..training import SafeTrainingMixin
from .card import ModelCardMixin
from .checks import check_num_labels
from .config import UnlearnConfig
from .curves import attach_curve
from .data import DataUse, PairedCollator, build_training_data, check_datasets
from .guards import FiniteTrainingMixin
from .registry import MethodSpec, get_spec, list_methods
from .reporting import ReportingMixin, timed_train
from .teachers import frozen_copy, random_teacher

RANDOM_TEACHER_SEED_OFFSET = 104_729  # any constant works; it only has to differ from 0


def _wrap_for_trainer(dataset: Any) -> Any:
    # See RowDataset: keeps Trainer from dropping the raw columns a with_transform() formatter reads.
    if isinstance(dataset, datasets.Dataset):
        return RowDataset(dataset)
    if isinstance(dataset, Mapping):
        return {name: _wrap_for_trainer(part) for name, part in dataset.items()}
    return dataset


class UnlearnTrainer(ReportingMixin, ModelCardMixin, FiniteTrainingMixin, SafeTrainingMixin, Trainer):
    """Base class and entry point of the unlearning methods (see the module docstring)."""

    # Filled in by register_method from the method's declaration; never set by hand.
    method: ClassVar[str] = ""
    data_use: ClassVar[DataUse] = DataUse.RETAIN
    config_class: ClassVar[type[UnlearnConfig]] = UnlearnConfig
    # Method losses are per-batch means; Trainer divides them by the accumulation steps.
    loss_is_scaled_for_ga = False
    # False for a method that edits weights without optimizer steps (SSD): LoRA adapters, which only
    # gradient steps move, would stay untrained, so the command line refuses the two together.
    makes_gradient_steps: ClassVar[bool] = True

    def __new__(cls, *args: Any, **kwargs: Any) -> UnlearnTrainer:
        if cls is UnlearnTrainer:
            config = kwargs.get("args", args[1] if len(args) > 1 else None)
            name = getattr(config, "method", None)
            if not name:
                raise MubenchError(
                    "UnlearnTrainer needs args=UnlearnConfig(method=...) to know which method to run; "
                    f"known methods: {', '.join(list_methods())}"
                )
            cls = get_spec(name).trainer
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
        objective: TaskObjective | None = None,
        dataset_repo: str | None = None,
        **trainer_kwargs: Any,
    ) -> None:
        if not self.method:
            raise MubenchError(f"{type(self).__name__} is not registered: declare it with register_method()")
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
        self.objective = objective if objective is not None else ClassificationObjective()
        if self.objective.kind not in self.spec.kinds:
            known = ", ".join(list_methods(self.objective.kind)) or "none"
            raise MubenchError(
                f"method {self.method!r} does not apply to {self.objective.kind} tasks; methods that do: {known}"
            )
        self.data_use = self.data_use_for(self.objective.kind)
        check_datasets(self.method, self.data_use, forget_dataset, retain_dataset)
        num_labels = check_num_labels(model, forget_dataset, retain_dataset)
        self.check_before_work(args)
        self.forget_dataset, self.retain_dataset = forget_dataset, retain_dataset
        self.eval_dataset_raw = eval_dataset  # unwrapped, for the unlearning report
        self._report_source = splits
        self.dataset_repo = dataset_repo  # the deletion-splits repo, named in the model card
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
        self._terms: dict[str, list[float]] = defaultdict(list)
        self.original_model = self.frozen_original() if self.spec.needs_original else None
        self.incompetent_teacher = self.random_teacher() if self.spec.needs_random_teacher else None
        # eval_during_unlearning: scored every N steps on validation-side data; select_checkpoint
        self.unlearning_curve = attach_curve(self)

    def data_use_for(self, kind: str) -> DataUse:
        """The training data this method reads on tasks of ``kind`` (default: its declared ``data_use``; a
        method whose definition differs by kind overrides this)."""
        return self.data_use

    @property
    def spec(self) -> MethodSpec:
        """The method's declaration (``register_method``)."""
        return get_spec(self.method)

    # ------------------------------------------------------------------ checks and hooks
    def check_before_work(self, args: UnlearnConfig) -> None:
        """Inputs that would only fail after training are checked here, before any work."""
        if args.retrain_reference is not None:
            from ..evaluation.report import check_reference_source

            check_reference_source(args.retrain_reference)

    def prepare_student(self, model: nn.Module, args: UnlearnConfig) -> nn.Module:
        """The model to train, from the one given (``retrain`` replaces it by its starting point)."""
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

    # ------------------------------------------------------------------ loss terms in the logs
    def log_term(self, name: str, value: torch.Tensor | float) -> None:
        """Record one loss term of this micro-batch; its mean is logged with the next ``loss``."""
        self._terms[name].append(float(value.detach()) if isinstance(value, torch.Tensor) else float(value))

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._terms:  # a training log: add the terms of the same window
            logs = {**logs, **{k: sum(v) / len(v) for k, v in self._terms.items() if v}}
            self._terms.clear()
        super().log(logs, start_time)

    def planned_steps(self) -> int:
        """The optimisation steps ``train()`` will take, computed as ``Trainer`` does (``max_steps``, else
        epochs x updates per epoch over this process's share of the training rows); 0 for a method that
        edits the weights without steps (it overrides this)."""
        args = self.args
        if args.max_steps > 0:
            return int(args.max_steps)
        rows = math.ceil(len(self.train_dataset) / max(int(args.world_size), 1))
        batch = int(self._train_batch_size)
        batches = rows // batch if args.dataloader_drop_last else math.ceil(rows / batch)
        per_epoch = max(math.ceil(batches / args.gradient_accumulation_steps), 1)
        return math.ceil(args.num_train_epochs * per_epoch)

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
        """The task loss on the batch's own targets (what finetune and retrain minimise)."""
        logits = self.objective.outputs(model, inputs)
        loss = self.objective.loss(logits, inputs)
        return (loss, {"logits": logits}) if return_outputs else loss

    def prediction_step(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        prediction_loss_only: bool,
        ignore_keys: list[str] | None = None,
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
        # Evaluation batches are ordinary labelled rows: report the model's own task loss there,
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
