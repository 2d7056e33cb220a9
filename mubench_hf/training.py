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
* **The Hub token is never written.** ``Trainer`` pickles its arguments into ``training_args.bin`` of the
  output folder and of every checkpoint, ``hub_token`` included. The trainer takes the token out of its
  own copy of the arguments when it is built (the caller's object is left as given) and keeps it for
  its pushes only, so ``training_args.bin`` is still written (transformers' tools and users read it)
  but with ``hub_token=None``; beside it goes ``training_args.json``, the same arguments as JSON with
  secrets redacted: that is the copy a push uploads, since loading a pickle from the Hub runs code.
* **Pushes go through mubench's allow-listed, token-scanned push** (``mubench_hf.hub.push_model``):
  ``push_to_hub()`` and the pushes during training (``push_to_hub=True``) upload the model files only,
  never checkpoint folders (pickled optimizer and RNG states); ``hub_strategy`` ``checkpoint`` /
  ``all_checkpoints`` are refused before any work.
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel, Trainer, TrainingArguments
from transformers.trainer_utils import HubStrategy
from transformers.utils import logging

from .errors import MubenchError
from .secrets import redact_value, remember_token

logger = logging.get_logger(__name__)
SAFE_WEIGHTS = "model.safetensors"
TRAINING_ARGS_JSON = "training_args.json"  # the token-free, pickle-free copy of the arguments
_PICKLE_PUSH_STRATEGIES = (HubStrategy.CHECKPOINT, HubStrategy.ALL_CHECKPOINTS)


def check_training_numbers(args: TrainingArguments) -> None:
    """Refuse arguments under which ``Trainer`` would silently train nothing (or diverge at once)."""
    lr = float(args.learning_rate)
    if not math.isfinite(lr) or lr <= 0:
        raise MubenchError(f"learning_rate must be a number > 0, got {args.learning_rate}")
    if args.max_steps == 0 or args.max_steps < -1:
        raise MubenchError(
            f"max_steps must be > 0 (or -1 to train for num_train_epochs), got {args.max_steps}"
        )
    epochs = float(args.num_train_epochs)
    if args.max_steps == -1 and not epochs > 0:
        raise MubenchError(
            f"num_train_epochs must be > 0, got {args.num_train_epochs} (or give max_steps > 0 instead)"
        )
    if not (math.isfinite(epochs) and epochs >= 0):
        # max_steps > 0 overrides the epochs, but a negative count is a typo, never a setting
        raise MubenchError(
            f"num_train_epochs must be >= 0, got {args.num_train_epochs} (max_steps {args.max_steps} sets "
            "the length of training here: leave num_train_epochs out or give a positive number)"
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


def check_hub_strategy(args: TrainingArguments | None) -> None:
    """Refuse pushes that would upload checkpoint folders (pickles) before the Hub is contacted."""
    if args is not None and args.push_to_hub and args.hub_strategy in _PICKLE_PUSH_STRATEGIES:
        raise MubenchError(
            f"hub_strategy {HubStrategy(args.hub_strategy).value!r} uploads checkpoint folders, which hold "
            "pickles (optimizer.pt, rng_state.pth, training_args.bin); mubench pushes only the model files: "
            "use --hub_strategy every_save or end"
        )
    if args is not None and args.push_to_hub and args.hub_revision:
        raise MubenchError(
            f"hub_revision {args.hub_revision!r}: mubench pushes to the main branch only; drop --hub_revision"
        )


def write_training_args_json(args: TrainingArguments, output_dir: str | os.PathLike) -> Path:
    """``training_args.json``: the arguments as JSON, every secret redacted (see the module docstring)."""
    path = Path(output_dir) / TRAINING_ARGS_JSON
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(redact_value(args.to_dict()), indent=2, default=str) + "\n")
    partial.replace(path)  # atomic: a reader never sees half a file
    return path


def pinning_helps(device: Any) -> bool:
    """Whether pinned host memory speeds the loader's copies to ``device``: for an accelerator that copies
    from page-locked memory (CUDA, XPU, ...); not for the CPU itself (PyTorch warns once per loader) nor for
    Apple's MPS (not supported there)."""
    return torch.device(device).type not in ("cpu", "mps", "meta")


class SafeTrainingMixin:
    """Mixed in before ``transformers.Trainer`` (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        check_hub_strategy(kwargs.get("args", args[1] if len(args) > 1 else None))
        super().__init__(*args, **kwargs)
        if self.args.dataloader_pin_memory and not pinning_helps(self.args.device):
            self.args.dataloader_pin_memory = False
        self._hub_token: str | None = None
        self._take_hub_token()

    # ------------------------------------------------------------------ the Hub token
    def _take_hub_token(self) -> None:
        """Move ``args.hub_token`` out of the arguments (which get pickled) into the trainer."""
        token = self.args.hub_token
        if token is None:
            return
        remember_token(token)
        self._hub_token = token
        self.args = copy.copy(self.args)  # the caller's arguments object is left as given
        self.args.hub_token = None

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        self._take_hub_token()  # set on the arguments after the trainer was built: still never pickled
        super()._save(output_dir, state_dict=state_dict)
        if self.args.should_save:
            write_training_args_json(
                self.args, output_dir if output_dir is not None else self.args.output_dir
            )

    def init_hf_repo(self, token: str | None = None, private: bool | None = None) -> None:
        if token is None:  # during Trainer.__init__ the token is still in the arguments
            token = getattr(self, "_hub_token", None) or self.args.hub_token
        super().init_hf_repo(token=token, private=private)

    def push_to_hub(
        self,
        commit_message: str | None = "End of training",
        blocking: bool = True,
        token: str | None = None,
        revision: str | None = None,
        private: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Save the model and its card, then publish them with ``mubench_hf.hub.push_model``: the
        allow-listed files only, refused if one holds the token, in one commit on the main branch.

        Returns the ``PushResult`` (``None`` on processes other than the main one). ``blocking`` is
        accepted for ``Trainer`` compatibility; the push has always finished when this returns."""
        from .hub.push import push_model

        self._take_hub_token()
        token = token if token is not None else self._hub_token
        if revision is not None or self.args.hub_revision:
            raise MubenchError("mubench pushes to the main branch only; drop revision= / --hub_revision")
        self.callback_handler.on_push_begin(self.args, self.state, self.control)
        model_name = kwargs.pop("model_name", None)
        if model_name is None and self.args.should_save:
            model_name = (self.args.hub_model_id or Path(self.args.output_dir).name).split("/")[-1]
        if self.hub_model_id is None:
            self.init_hf_repo(token=token, private=private)
        self.save_model(_internal_call=True)
        if not self.is_world_process_zero():
            return None
        model_tags = getattr(self.model, "model_tags", None)
        if model_tags:  # as Trainer does: the model's own tags go into the card
            tags = kwargs.get("tags") or []
            tags = [tags] if isinstance(tags, str) else list(tags)
            kwargs["tags"] = tags + [tag for tag in model_tags if tag not in tags]
        self.create_model_card(model_name=model_name, **kwargs)
        self._finish_current_push()
        return push_model(
            self.args.output_dir,
            self.hub_model_id,
            token=token,
            private=bool(self.args.hub_private_repo if private is None else private),
            commit_message=commit_message,
        )

    def _push_from_checkpoint(self, checkpoint_folder: str) -> None:
        """The pushes during training (``push_to_hub=True``): the checkpoint's model files are copied to
        ``output_dir`` (as ``Trainer`` does) and pushed like any model folder, before its card exists."""
        if not self.is_world_process_zero() or self.args.hub_strategy == HubStrategy.END:
            return
        from .hub.push import CARD_NAME, is_model_file, push_model

        self.callback_handler.on_push_begin(self.args, self.state, self.control)
        output_dir = Path(self.args.output_dir)
        for path in Path(checkpoint_folder).iterdir():
            if path.is_file() and path.name != CARD_NAME and is_model_file(path.name):
                shutil.copy(path, output_dir / path.name)
        if self.processing_class is not None:
            self.processing_class.save_pretrained(str(output_dir))
        if self.args.save_strategy == "steps":
            message = f"Training in progress, step {self.state.global_step}"
        else:
            message = f"Training in progress, epoch {int(self.state.epoch or 0)}"
        push_model(output_dir, self.hub_model_id, token=self._hub_token, commit_message=message,
                   require_card=False)  # fmt: skip

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
