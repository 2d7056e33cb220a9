"""``TextToImageModel``: the parts of a text-to-image model as one ``nn.Module`` that ``Trainer`` trains.

A ``UNet2DConditionModel`` (trained), a text encoder (``CLIPTextModel``, trained with it for the tiny
models), their tokenizer and the noise scheduler of training (``DDPMScheduler``). ``forward`` is one step
of diffusers' standard noise-prediction training: x_t = scheduler.add_noise(x_0, ε, t), then
ε_θ(x_t, t, text_encoder(prompt)). It is saved and loaded as a diffusers folder through
``MubenchTextToImagePipeline`` (``model_index.json`` + one subfolder per part), so a saved model is also an
ordinary diffusers pipeline folder on the Hub.

``config`` is a small ``PretrainedConfig`` the rest of the product reads like a classifier's: ``num_labels``
(the task's concepts) and ``_name_or_path`` (the folder it was loaded from: the original model θo).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import PretrainedConfig

from ...errors import MubenchError
from ...modalities.text_to_image import pipeline_class

#: What ``config.json`` beside ``model_index.json`` records (the task's concepts, for the checks).
MUBENCH_CONFIG = "mubench_t2i.json"


class TextToImageModel(nn.Module):
    """See the module docstring."""

    def __init__(
        self, unet: nn.Module, text_encoder: nn.Module, tokenizer: Any, scheduler: Any, *, num_labels: int
    ) -> None:
        super().__init__()
        self.unet = unet
        self.text_encoder = text_encoder
        self.tokenizer = tokenizer
        self.scheduler = scheduler
        self.config = PretrainedConfig(num_labels=int(num_labels))
        self.config.model_type = "mubench_text_to_image"

    # ------------------------------------------------------------------ prompts
    @property
    def max_prompt_length(self) -> int:
        return int(self.text_encoder.config.max_position_embeddings)

    def prompt_ids(self, prompts: list[str]) -> torch.Tensor:
        """Token ids ``[N, L]`` of ``prompts``, padded to the text encoder's length (as Stable Diffusion pads)."""
        encoded = self.tokenizer(
            prompts,
            padding="max_length",
            max_length=self.max_prompt_length,
            truncation=True,
            return_tensors="pt",
        )
        return encoded["input_ids"].to(self.unet.device)

    def encode(self, input_ids: torch.Tensor) -> torch.Tensor:
        """The text encoder's hidden states ``[N, L, D]``: what the UNet's cross-attention reads."""
        return self.text_encoder(input_ids=input_ids).last_hidden_state

    # ------------------------------------------------------------------ the training step
    def forward(
        self,
        pixel_values: torch.Tensor,
        input_ids: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        timesteps: torch.Tensor | None = None,
        label: Any = None,
        labels: Any = None,
    ) -> torch.Tensor:
        """ε_θ(x_t, t, c): the noise prediction on ``pixel_values`` noised with ``noise`` at ``timesteps``."""
        if input_ids is None or noise is None or timesteps is None:
            raise MubenchError(
                "a text-to-image model's forward needs input_ids, noise and timesteps (the image_generation "
                "kind's collator adds them to every batch)"
            )
        noisy = self.scheduler.add_noise(pixel_values, noise, timesteps)
        return self.unet(noisy, timesteps, encoder_hidden_states=self.encode(input_ids)).sample

    def predict_noise(
        self, sample: torch.Tensor, timesteps: torch.Tensor, hidden: torch.Tensor
    ) -> torch.Tensor:
        """ε_θ(x_t, t, c) for already noised ``sample`` and encoded prompts ``hidden`` (sampling)."""
        return self.unet(sample, timesteps, encoder_hidden_states=hidden).sample

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # ------------------------------------------------------------------ diffusers folders
    def pipeline(self) -> Any:
        """The parts as a ``MubenchTextToImagePipeline`` (the same modules, not copies)."""
        return pipeline_class()(
            unet=self.unet, text_encoder=self.text_encoder, tokenizer=self.tokenizer, scheduler=self.scheduler
        )

    def save_pretrained(self, folder: str | Path, **_: Any) -> None:
        """Write the model as a diffusers folder (plus the number of concepts it was trained on)."""
        self.pipeline().save_pretrained(str(folder))
        (Path(folder) / MUBENCH_CONFIG).write_text(json.dumps({"num_labels": self.config.num_labels}) + "\n")

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> TextToImageModel:
        """A model saved by :meth:`save_pretrained` (a diffusers folder with ``model_index.json``)."""
        folder = Path(folder)
        if not (folder / "model_index.json").is_file():
            raise MubenchError(
                f"{folder} is not a diffusers folder (no model_index.json); give a text-to-image model saved by "
                "mubench (train-base) or tiny:unet"
            )
        info = (
            json.loads((folder / MUBENCH_CONFIG).read_text()) if (folder / MUBENCH_CONFIG).is_file() else {}
        )
        pipe = pipeline_class().from_pretrained(str(folder))
        if "num_labels" not in info:
            raise MubenchError(f"{folder} has no {MUBENCH_CONFIG}: it was not saved by mubench")
        model = cls(
            pipe.unet, pipe.text_encoder, pipe.tokenizer, pipe.scheduler, num_labels=info["num_labels"]
        )
        model.config._name_or_path = str(folder)
        return model

    def fresh_copy(self, seed: int) -> TextToImageModel:
        """The same architecture with fresh weights drawn under ``seed`` (a retrain model's start)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            unet = type(self.unet).from_config(self.unet.config)
            text_encoder = type(self.text_encoder)(copy.deepcopy(self.text_encoder.config))
        return TextToImageModel(
            unet,
            text_encoder,
            self.tokenizer,
            copy.deepcopy(self.scheduler),
            num_labels=self.config.num_labels,
        ).to(self.device)
