"""The base recipe of image-generation tasks: diffusers' standard noise-prediction loss through
``transformers.Trainer`` (``MubenchTrainer``, with mubench's safety fixes).

* **base**: the model as built (``tiny:unet``) trained on the full train split;
* **retrain**: fresh weights of the same architecture, seeded by the recipe's seed (the base's own
  starting point for a model built from a config), trained on the retain split with the same recipe; for a
  base fine-tuned from a pretrained pipeline (Stable Diffusion), that pipeline fine-tuned on the retain split
  (it saw the forgotten concept in its own pretraining, which no retrain model here can undo).
* A latent model (Stable Diffusion) trains its UNet only, as diffusers' fine-tuning script does: the text
  encoder and the VAE stay frozen.

``Trainer`` serves as it is: the model is an ``nn.Module`` whose ``forward`` is one noise-prediction step
and the loss is the objective's mean per-sample denoising MSE (``compute_loss``), so accelerate, gradient
accumulation, mixed precision and logging are ``Trainer``'s own. Prompts are dropped with probability
``CONDITION_DROPOUT`` (Stable Diffusion's 10 %) so the model also learns the unconditional prediction
that classifier-free guidance and guidance-based unlearning methods (ESD) read. No model selection: the
denoising loss on validation says little about sample quality, so the last epoch is kept.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import TrainingArguments

from ...objectives.denoising import DenoisingObjective
from ...rows import RowDataset
from ...training import MubenchTrainer
from .collator import denoising_collator
from .model import TextToImageModel
from .pretrained import load_pipeline_parts

CONDITION_DROPOUT = 0.1


class DenoisingTrainer(MubenchTrainer):
    """``MubenchTrainer`` whose loss is the denoising objective's (the mean per-sample noise MSE)."""

    objective = DenoisingObjective()

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        outputs = self.objective.outputs(model, inputs)
        loss = self.objective.loss(outputs, inputs)
        return (loss, {"prediction": outputs.prediction}) if return_outputs else loss


def diffusion_trainer(kind: str, prepared: Any, args: TrainingArguments) -> tuple[DenoisingTrainer, str]:
    """The trainer of the base (``kind="base"``) or retrain model of ``prepared``, and how its start is
    described in the card."""
    model: TextToImageModel = prepared.model
    if kind == "retrain" and model.init:
        # the base was fine-tuned from a pretrained pipeline: the reference is that pipeline fine-tuned on the
        # retain split with the same recipe (never the base's weights)
        start = f"{model.init} (the pretrained pipeline the base was fine-tuned from), fine-tuned on retain"
        model = load_pipeline_parts(model.init, model.config.num_labels).to(model.device)
        train = prepared.splits["retain"]
    elif kind == "retrain":
        start = (
            f"fresh weights (seed {args.seed}), architecture of {model.config._name_or_path or 'tiny:unet'}"
        )
        model = model.fresh_copy(int(args.seed))
        train = prepared.splits["retain"]
    else:
        start = ""
        train = prepared.splits["train"]
    if (
        model.is_latent
    ):  # Stable Diffusion's fine-tuning recipe trains the UNet; the text encoder stays frozen
        model.text_encoder.requires_grad_(False)
    # the last epoch is kept: no evaluation, no checkpoint selection (see the module docstring)
    args.eval_strategy, args.load_best_model_at_end, args.metric_for_best_model = "no", False, None
    args.save_strategy = "no"
    args.remove_unused_columns = False  # the collator reads the concept (label) and adds the draws
    collator = denoising_collator(
        prepared.processor, prepared.task.prompts(), condition_dropout=CONDITION_DROPOUT,
        num_train_timesteps=model.scheduler.config.num_train_timesteps,
    )  # fmt: skip
    trainer = DenoisingTrainer(
        model=model, args=args, train_dataset=RowDataset(train), data_collator=collator
    )
    return trainer, start
