"""What every mubench ``Trainer`` adds to ``transformers.Trainer`` (base models, retrain references and
unlearning methods alike), and the checks of the numbers in their arguments.

* **No one-row batch under batch norm.** PyTorch's batch norm cannot train on a batch of one row
  (``Expected more than 1 value per channel``). When the last training batch of an epoch would hold a
  single row, that row is dropped from training, for training only, and the log says so; evaluation and
  the unlearning report never drop rows.
* **Checkpoints load exactly.** ``Trainer`` reloads the best checkpoint (and resumes) with
  ``load_state_dict(strict=False)`` on the raw file, but ``save_pretrained`` writes some architectures
  under older key names (ViT's attention since transformers 5), so whole layers were silently skipped and
  the "best epoch" was a mix of two epochs. Checkpoints of Hugging Face models are loaded here through
  ``from_pretrained`` (which converts the names) and copied in strictly; any other load that misses or
  adds keys is an error.
* **pin_memory follows the device**: on a CPU-only run it is off (PyTorch warns once per loader).
* **Numbers that would make a run a silent no-op are refused** before any work: epochs, steps, batch
  sizes or a learning rate ≤ 0.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel, Trainer, TrainingArguments
from transformers.utils import logging

from .errors import MubenchError

logger = logging.get_logger(__name__)
SAFE_WEIGHTS = "model.safetensors"


def check_training_numbers(args: TrainingArguments) -> None:
    """Refuse arguments under which ``Trainer`` would silently train nothing (or diverge at once)."""
    lr = float(args.learning_rate)
    if not math.isfinite(lr) or lr <= 0:
        raise MubenchError(f"learning_rate must be a number > 0, got {args.learning_rate}")
    if args.max_steps == 0 or args.max_steps < -1:
        raise MubenchError(
            f"max_steps must be > 0 (or -1 to train for num_train_epochs), got {args.max_steps}"
        )
    if args.max_steps == -1 and not float(args.num_train_epochs) > 0:
        raise MubenchError(
            f"num_train_epochs must be > 0, got {args.num_train_epochs} (or give max_steps > 0 instead)"
        )
    for name in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps"):
        if int(getattr(args, name)) <= 0:
            raise MubenchError(f"{name} must be > 0, got {getattr(args, name)}")


@contextmanager
def _temporarily(args: TrainingArguments, **values: Any):
    old = {name: getattr(args, name) for name in values}
    for name, value in values.items():
        setattr(args, name, value)
    try:
        yield
    finally:
        for name, value in old.items():
            setattr(args, name, value)


def has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def last_batch_has_one_row(num_rows: int, batch_size: int, world_size: int) -> bool:
    """Whether the last training batch of an epoch holds a single row on some process."""
    remainder = num_rows % (batch_size * world_size)
    # accelerate spreads the last global batch over the processes (padding it to an even split)
    return remainder > 0 and math.ceil(remainder / world_size) == 1


class SafeTrainingMixin:
    """Mixed in before ``transformers.Trainer`` (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.args.dataloader_pin_memory and self.args.device.type != "cuda":
            self.args.dataloader_pin_memory = False  # pinned memory only helps copies to a GPU

    # ------------------------------------------------------------------ one-row batches
    def drops_one_row_batch(self) -> bool:
        """Whether training drops a last batch of one row (see the module docstring)."""
        dataset = self.train_dataset
        if dataset is None or self.args.dataloader_drop_last or not hasattr(dataset, "__len__"):
            return False
        model = self.accelerator.unwrap_model(self.model)
        return has_batch_norm(model) and last_batch_has_one_row(
            len(dataset), self._train_batch_size, self.args.world_size
        )

    def get_train_dataloader(self) -> torch.utils.data.DataLoader:
        if not self.drops_one_row_batch():
            return super().get_train_dataloader()
        logger.warning(
            f"{len(self.train_dataset)} training rows in batches of {self._train_batch_size}: the last batch of "
            "each epoch would hold one row, which batch norm cannot train on, so that row is left out of "
            "training (evaluation and the report use every row). Pass another batch size to keep it."
        )
        with _temporarily(self.args, dataloader_drop_last=True):
            return super().get_train_dataloader()

    # ------------------------------------------------------------------ exact checkpoint loading
    def _load_from_checkpoint(self, resume_from_checkpoint: str, model: nn.Module | None = None) -> None:
        if not self._load_pretrained_weights(resume_from_checkpoint, model):
            super()._load_from_checkpoint(resume_from_checkpoint, model)

    def _load_best_model(self) -> None:
        if not self._load_pretrained_weights(self.state.best_model_checkpoint, None):
            super()._load_best_model()

    def _load_pretrained_weights(self, checkpoint: str | None, model: nn.Module | None) -> bool:
        """Load a Hugging Face model's checkpoint through ``from_pretrained``; False if it is not one."""
        target = self.accelerator.unwrap_model(model if model is not None else self.model)
        if (
            checkpoint is None
            or not isinstance(target, PreTrainedModel)
            or self.is_fsdp_enabled
            or self.is_deepspeed_enabled
            or not os.path.isfile(os.path.join(checkpoint, SAFE_WEIGHTS))
        ):
            return False
        loaded, info = type(target).from_pretrained(checkpoint, dtype=target.dtype, output_loading_info=True)
        # from_pretrained fills weights missing from the file with fresh ones: count them as missing
        missing = set(info.get("missing_keys") or ()) | {k for k, *_ in info.get("mismatched_keys") or ()}
        result = target.load_state_dict(loaded.state_dict(), strict=False)
        self._issue_warnings_after_load(
            SimpleNamespace(
                missing_keys=sorted(missing | set(result.missing_keys)),
                unexpected_keys=sorted(set(info.get("unexpected_keys") or ()) | set(result.unexpected_keys)),
            )
        )
        return True

    def _issue_warnings_after_load(self, load_result: Any) -> None:
        missing, unexpected = list(load_result.missing_keys), list(load_result.unexpected_keys)
        ignored = set(getattr(self.model, "_keys_to_ignore_on_save", None) or ())
        if missing and ignored and set(missing) == ignored:  # tied weights, which Trainer re-ties
            missing = []
        if missing or unexpected:
            raise MubenchError(
                f"the checkpoint does not match the model: {len(missing)} missing weights "
                f"(e.g. {missing[:3]}) and {len(unexpected)} unexpected ones (e.g. {unexpected[:3]}); "
                "loading it would mix weights of two training steps"
            )
        super()._issue_warnings_after_load(load_result)


class MubenchTrainer(SafeTrainingMixin, Trainer):
    """``transformers.Trainer`` with the fixes above: what trains the base and retrain models."""
