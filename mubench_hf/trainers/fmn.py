"""FMN: Forget-Me-Not's attention re-steering (Zhang, Wang, Xu, Wang & Shi, "Forget-Me-Not: Learning to
Forget in Text-to-Image Diffusion Models", CVPR Workshops 2024, arXiv:2303.17591).

The concept's tokens should stop steering the image: on forget images noised to x_t, the cross-attention
maps of every ``attn2`` layer from the image positions to the concept's prompt tokens are driven to zero,

    L = Σ_layers mean_{batch, heads, positions} ‖A_layer[..., concept tokens]‖²

The concept's tokens are the prompt positions where the task's class prompts differ (the words naming a
concept in a template such as "a picture of the digit {}"), read from the collator's prompt table. To
read the attention maps the ``attn2`` layers run diffusers' plain ``AttnProcessor`` (which computes them
explicitly) during training, with their ``get_attention_scores`` recorded; both are restored afterwards.
FMN fine-tunes the UNet with the text encoder frozen (``fmn_parameters``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from transformers.trainer_utils import TrainOutput

from ..errors import MubenchError
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .diffusion_parts import PARAMETER_GROUPS, select_trainable, unwrap
from .registry import register_method


@dataclass
class FMNConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the part of the model FMN trains."""

    fmn_parameters: str = field(
        default="unet",
        metadata={"help": "Weights FMN trains (the paper: the UNet).", "choices": list(PARAMETER_GROUPS)},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.fmn_parameters not in PARAMETER_GROUPS:
            raise MubenchError(
                f"fmn_parameters must be one of {list(PARAMETER_GROUPS)}, got {self.fmn_parameters!r}"
            )


def concept_positions(prompt_ids: torch.Tensor) -> torch.Tensor:
    """``[L]`` bool: the prompt positions where the class prompts ``[K, L]`` differ (the concept's words)."""
    return (prompt_ids != prompt_ids[:1]).any(0)


class AttentionRecorder:
    """Makes the cross-attention layers of a UNet compute their attention maps explicitly and keeps them."""

    def __init__(self, unet: nn.Module) -> None:
        from diffusers.models.attention_processor import AttnProcessor

        self.maps: list[torch.Tensor] = []
        self.layers = [m for n, m in unet.named_modules() if n.endswith("attn2")]
        if not self.layers:
            raise MubenchError("FMN reads cross-attention maps: the UNet has no attn2 layer")
        self._saved = [layer.processor for layer in self.layers]
        for layer in self.layers:
            layer.set_processor(AttnProcessor())
            original = layer.get_attention_scores

            def record(
                query: Any, key: Any, attention_mask: Any = None, original: Any = original
            ) -> torch.Tensor:
                probs = original(query, key, attention_mask)
                self.maps.append(probs)
                return probs

            layer.get_attention_scores = record

    def close(self) -> None:
        for layer, processor in zip(self.layers, self._saved):
            del layer.get_attention_scores  # the instance attribute: the method is the class's again
            layer.set_processor(processor)


def resteering_loss(maps: list[torch.Tensor], concept: torch.Tensor) -> torch.Tensor:
    """Σ over layers of the mean squared attention to the concept positions ``concept`` ``[B, L]``."""
    total = torch.zeros((), device=concept.device)
    batch = concept.shape[0]
    for probs in maps:  # [B * heads, Q, L]
        heads = probs.shape[0] // batch
        mask = concept.repeat_interleave(heads, 0)[:, None, :].to(probs.dtype)
        total = total + (probs * mask).pow(2).sum(-1).mean()
    return total


class FMNTrainer(UnlearnTrainer):
    """Loss = attention re-steering on the forget batch."""

    def prepare_student(self, model: nn.Module, args: UnlearnConfig) -> nn.Module:
        select_trainable(model, args.fmn_parameters, self.method)
        return model

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        table = getattr(self.data_collator, "prompt_ids", None)
        if table is None:
            raise MubenchError(
                "FMN needs the image_generation kind's collator (its prompt table names the concept)"
            )
        self._recorder.maps.clear()
        outputs = self.objective.outputs(model, inputs)
        concept = concept_positions(table.to(inputs["input_ids"].device))[None, :] & (
            inputs["input_ids"] == table.to(inputs["input_ids"].device)[inputs["labels"]]
        )
        loss = resteering_loss(self._recorder.maps, concept)
        self._recorder.maps.clear()
        return (loss, {"prediction": outputs.prediction}) if return_outputs else loss

    def train(
        self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any
    ) -> TrainOutput:
        self._recorder = AttentionRecorder(unwrap(self.accelerator.unwrap_model(self.model)).unet)
        try:
            return super().train(resume_from_checkpoint=resume_from_checkpoint, trial=trial, **kwargs)
        finally:
            self._recorder.close()


register_method(
    "fmn",
    trainer=FMNTrainer,
    config=FMNConfig,
    data_use=DataUse.FORGET,
    kinds=("image_generation",),
    citation='Zhang et al., "Forget-Me-Not: Learning to Forget in Text-to-Image Diffusion Models", CVPRW 2024',
    quick_settings=dict(learning_rate=1e-3, num_train_epochs=5),
)
