"""The denoising objective of text-to-image tasks: outputs are a diffusion model's noise predictions.

A batch holds ``pixel_values`` (clean images in [-1, 1]), ``input_ids`` (the tokenized prompt of each
row's concept), and the draws of the forward process: ``noise`` (ε, shaped like the images) and
``timesteps`` (t). The collator draws them (seeded through torch's generator), so the same batch gives the
same noised images to the student, θo and any teacher: a per-sample comparison between two models (NPO)
is then a comparison on identical x_t.

The quantities follow diffusers' standard noise-prediction training (DDPM, Ho et al. 2020):

* ``outputs``: ``(prediction, target)`` with prediction = ε_θ(x_t, c, t) and target = ε;
* ``per_sample_loss``: the mean squared error of each sample over its pixels (the denoising loss);
* ``log_likelihood``: its negative (a per-sample ELBO surrogate up to constants and weights), |y| = 1;
* ``noise_prediction``: ε_θ(x_t, c', t) for other prompts on the same x_t (the unconditional prompt of
  classifier-free guidance, a concept's anchor): what guidance-based methods (ESD, CA) read.

There is no output distribution: ``output_log_probs`` and the KL terms refuse with the methods that
need them named, so a method written for class or token distributions fails before training.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import torch
from torch import nn

from ..errors import MubenchError
from .base import TaskObjective


class DenoisingOutputs(NamedTuple):
    """The model's noise prediction and the noise it should predict, both ``[B, C, H, W]``."""

    prediction: torch.Tensor
    target: torch.Tensor


def _unwrap(model: nn.Module) -> nn.Module:
    while hasattr(model, "module") and isinstance(model.module, nn.Module):
        model = model.module
    return model


class DenoisingObjective(TaskObjective):
    """Per-sample denoising losses of a text-to-image model (see the module docstring)."""

    kind = "image_generation"

    def outputs(self, model: nn.Module, batch: Mapping[str, Any]) -> DenoisingOutputs:  # type: ignore[override]
        prediction = model(
            pixel_values=batch["pixel_values"],
            input_ids=batch["input_ids"],
            noise=batch["noise"],
            timesteps=batch["timesteps"],
        )
        return DenoisingOutputs(prediction, batch["noise"])

    def pair_outputs(  # type: ignore[override]
        self, model: nn.Module, paired: Mapping[str, Mapping[str, Any]]
    ) -> tuple[DenoisingOutputs, DenoisingOutputs]:
        """Outputs on the forget and the retain half of a paired batch, from one forward pass."""
        forget, retain = paired["forget"], paired["retain"]
        keys = ("pixel_values", "input_ids", "noise", "timesteps")
        joined = {key: torch.cat([forget[key], retain[key]]) for key in keys}
        both = self.outputs(model, joined)
        n = forget["pixel_values"].shape[0]
        return (
            DenoisingOutputs(both.prediction[:n], both.target[:n]),
            DenoisingOutputs(both.prediction[n:], both.target[n:]),
        )

    def noise_prediction(
        self, model: nn.Module, batch: Mapping[str, Any], input_ids: torch.Tensor
    ) -> torch.Tensor:
        """ε(x_t, c', t) of ``model`` on the batch's noised images with prompts ``input_ids`` instead."""
        return model(
            pixel_values=batch["pixel_values"],
            input_ids=input_ids,
            noise=batch["noise"],
            timesteps=batch["timesteps"],
        )

    def noise_prediction_at(
        self, model: nn.Module, sample: torch.Tensor, timesteps: torch.Tensor, input_ids: torch.Tensor
    ) -> torch.Tensor:
        """ε(x_t, c, t) of ``model`` on an x_t drawn elsewhere (``sample``, at ``timesteps``), not noised here."""
        return model(pixel_values=sample, input_ids=input_ids, timesteps=timesteps, noised=True)

    def unconditional_ids(self, model: nn.Module, batch: Mapping[str, Any]) -> torch.Tensor:
        """The empty prompt's token ids, one row per sample of ``batch`` (classifier-free guidance's ∅)."""
        return _unwrap(model).prompt_ids([""] * batch["input_ids"].shape[0]).to(batch["input_ids"].device)

    def per_sample_loss(self, outputs: Any, batch: Mapping[str, Any]) -> torch.Tensor:
        prediction, target = outputs
        return (prediction.float() - target.float()).pow(2).flatten(1).mean(1)

    def log_likelihood(self, outputs: Any, batch: Mapping[str, Any]) -> torch.Tensor:
        return -self.per_sample_loss(outputs, batch)

    def target_length(self, batch: Mapping[str, Any]) -> torch.Tensor:
        return torch.ones(batch["pixel_values"].shape[0], device=batch["pixel_values"].device)

    def output_log_probs(
        self, outputs: Any, batch: Mapping[str, Any], temperature: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise MubenchError(
            "the denoising objective of image-generation tasks has no output distribution: methods built on "
            "KL divergences or class distributions (scrub, bad_teaching, delete ...) do not apply; "
            "see `mubench_hf.trainers.list_methods('image_generation')`"
        )

    def target_one_hot(self, outputs: Any, batch: Mapping[str, Any]) -> torch.Tensor:
        return self.output_log_probs(outputs, batch)  # refuses, naming the methods that do apply
