"""``TextToImageModel``: the parts of a text-to-image model as one ``nn.Module`` that ``Trainer`` trains.

A ``UNet2DConditionModel`` (trained), a text encoder (``CLIPTextModel``, trained with it for the tiny
models), their tokenizer and the noise scheduler of training (``DDPMScheduler``). ``forward`` is one step
of diffusers' standard noise-prediction training: x_t = scheduler.add_noise(x_0, ε, t), then
ε_θ(x_t, t, text_encoder(prompt)). It is saved and loaded as a diffusers folder through
``MubenchTextToImagePipeline`` (``model_index.json`` + one subfolder per part): each part loads with its own
diffusers or transformers class (``UNet2DConditionModel.from_pretrained(folder, subfolder="unet")`` …), the
folder as a whole through mubench_hf; ``DiffusionPipeline.from_pretrained`` refuses it, because its
``model_index.json`` names that class, which diffusers does not know (no stock pipeline samples a pixel-space
UNet with a text encoder).

A **latent** model (Stable Diffusion 1.x) also holds its ``AutoencoderKL`` (``vae``, frozen: no method and
no recipe trains it). Its UNet denoises VAE latents, so the kind hands it latents where a pixel model gets
pixels: ``to_latents`` (images in [-1, 1] → the VAE posterior's mode × the VAE's scaling factor, the
deterministic choice where diffusers' training script samples the posterior) runs in the split transform,
and ``decode`` turns sampled latents back into images. ``image_resolution`` is the side its images have.

``config`` is a small ``PretrainedConfig`` the rest of the product reads like a classifier's: ``num_labels``
(the task's concepts) and ``_name_or_path`` (the folder it was loaded from: the original model θo).
``init`` is the pretrained pipeline the model was first fine-tuned from (``None``: built from a config); it
is saved with the model, so a retrain model starts from the same pipeline as the base did.
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
        self,
        unet: nn.Module,
        text_encoder: nn.Module,
        tokenizer: Any,
        scheduler: Any,
        *,
        num_labels: int,
        vae: nn.Module | None = None,
        init: str | None = None,
    ) -> None:
        super().__init__()
        self.unet = unet
        self.text_encoder = text_encoder
        self.tokenizer = tokenizer
        self.scheduler = scheduler
        self.vae = vae
        if vae is not None:
            vae.requires_grad_(False)  # a fixed image codec: Trainer's optimiser takes trainable weights only
        self.init = init
        self.config = PretrainedConfig(num_labels=int(num_labels))
        self.config.model_type = "mubench_text_to_image"

    # ------------------------------------------------------------------ pixels and latents
    @property
    def is_latent(self) -> bool:
        return self.vae is not None

    @property
    def image_resolution(self) -> int:
        """The side of the images the model makes (and is trained on)."""
        side = int(self.unet.config.sample_size)
        if self.vae is None:
            return side
        return side * 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def image_channels(self) -> int:
        return int((self.vae if self.vae is not None else self.unet).config.in_channels)

    @torch.no_grad()
    def to_latents(self, pixels: torch.Tensor) -> torch.Tensor:
        """The UNet's clean sample x_0 of images ``[N, C, H, W]`` in [-1, 1] (see the module docstring)."""
        if self.vae is None:
            return pixels
        weight = next(self.vae.parameters())
        posterior = self.vae.encode(pixels.to(weight.device, weight.dtype)).latent_dist
        return (posterior.mode() * float(self.vae.config.scaling_factor)).to(pixels.device, pixels.dtype)

    @torch.no_grad()
    def decode(self, sample: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] of a sampled x_0 (the latents decoded by the VAE; pixels as they are)."""
        if self.vae is None:
            return sample
        weight = next(self.vae.parameters())
        latents = (sample / float(self.vae.config.scaling_factor)).to(weight.device, weight.dtype)
        return self.vae.decode(latents).sample.to(sample.dtype)

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
        noised: bool = False,
    ) -> torch.Tensor:
        """ε_θ(x_t, t, c): the noise prediction on ``pixel_values`` noised with ``noise`` at ``timesteps``;
        with ``noised``, ``pixel_values`` is x_t itself (a sample drawn at ``timesteps``, as ESD draws it)
        and ``noise`` is not used. Going through ``forward`` keeps a wrapped (DDP, PEFT) model's hooks."""
        if noised and input_ids is not None and timesteps is not None:
            return self.unet(pixel_values, timesteps, encoder_hidden_states=self.encode(input_ids)).sample
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
        return next(self.unet.parameters()).device

    # ------------------------------------------------------------------ diffusers folders
    def pipeline(self) -> Any:
        """The parts as a ``MubenchTextToImagePipeline`` (the same modules, not copies)."""
        return pipeline_class()(
            unet=self.unet, text_encoder=self.text_encoder, tokenizer=self.tokenizer, scheduler=self.scheduler,
            vae=self.vae,
        )  # fmt: skip

    def save_pretrained(self, folder: str | Path, **_: Any) -> None:
        """Write the model as a diffusers folder (plus its number of concepts and the pipeline it started from)."""
        self.pipeline().save_pretrained(str(folder))
        info = {"num_labels": self.config.num_labels, **({"init": self.init} if self.init else {})}
        (Path(folder) / MUBENCH_CONFIG).write_text(json.dumps(info) + "\n")

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> TextToImageModel:
        """A model saved by :meth:`save_pretrained` (a diffusers folder with ``model_index.json``)."""
        folder = Path(folder)
        if not (folder / "model_index.json").is_file():
            raise MubenchError(
                f"{folder} is not a diffusers folder (no model_index.json); give a text-to-image model saved by "
                "mubench (train-base), a Stable Diffusion 1.x pipeline, or tiny:unet"
            )
        info = (
            json.loads((folder / MUBENCH_CONFIG).read_text()) if (folder / MUBENCH_CONFIG).is_file() else {}
        )
        if "num_labels" not in info:
            raise MubenchError(f"{folder} has no {MUBENCH_CONFIG}: it was not saved by mubench")
        pipe = pipeline_class().from_pretrained(str(folder))
        model = cls(
            pipe.unet, pipe.text_encoder, pipe.tokenizer, pipe.scheduler, num_labels=info["num_labels"],
            vae=getattr(pipe, "vae", None), init=info.get("init"),
        )  # fmt: skip
        model.config._name_or_path = str(folder)
        return model

    def fresh_copy(self, seed: int) -> TextToImageModel:
        """The same architecture with fresh weights drawn under ``seed`` (a retrain model's start)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            unet = type(self.unet).from_config(self.unet.config)
            text_encoder = type(self.text_encoder)(copy.deepcopy(self.text_encoder.config))
        # the VAE is shared, not redrawn: it is a fixed codec, never trained
        return TextToImageModel(
            unet,
            text_encoder,
            self.tokenizer,
            copy.deepcopy(self.scheduler),
            num_labels=self.config.num_labels,
            vae=self.vae,
            init=self.init,
        ).to(self.device)
