"""The image-generation kind: text-to-image tasks (``tasks.text_to_image.ImageGenerationTask``) whose models
are ``diffusers`` pipelines (a ``UNet2DConditionModel``, a text encoder, its tokenizer, a noise scheduler).

Tokenizers are a folder's own or, for a model built from a config, a word-level one trained on the task's
prompts (``tokenizer.py``); models are ``tiny:unet``, a diffusers folder saved by mubench, or a pretrained
Stable Diffusion 1.x pipeline (folder or Hub id; ``build.py``, ``model.py``, ``pretrained.py``); rows become
the UNet's clean sample with their concept (images in [-1, 1] for a pixel-space model, the VAE latents of the
images for a latent one), and the collator adds each prompt's tokens and the noise draws (``collator.py``); the objective is the per-sample denoising loss (``mubench_hf.objectives.denoising``);
base and retrain models train with diffusers' noise-prediction loss through ``Trainer`` (``training.py``);
the report generates every concept's images in large seeded batches (``sampling.py``) and reads them with a
classifier of the task (``classifier.py``, ``report.py``); the leaderboard ranks by the gap to retrain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ...errors import MubenchError
from ...modalities.text_to_image import text_to_image_modality
from ...objectives.base import TaskObjective
from ...objectives.denoising import DenoisingObjective
from ...tasks import Task
from ...tasks.text_to_image import ImageGenerationTask
from ..base import AddMetrics, Row, TaskKind, register_kind
from ..classification.ranking import rank as rank_by_gap
from .build import build_text_to_image_model
from .collator import denoising_collator
from .report import image_generation_report
from .sampling import SamplingSettings
from .tokenizer import load_prompt_tokenizer

IMAGE_GENERATION_RANKING_RULE = (
    "Ranking (text-to-image): within each task and config, by the gap to retrain (the mean of |unlearning "
    "accuracy - retrain's| and |in-domain retain accuracy - retrain's|, lower is better); the retrain model is "
    "the reference row (ref), not ranked; rows without a gap are listed last without a rank. Ranks start at 1."
)


class LatentTransform:
    """Rows → the VAE latents of their images (resized to the model's resolution) and ``label``.

    A class rather than a closure for one reason: ``datasets`` fingerprints a split's transform by pickling
    it, and a closure over the model would pickle every weight of the VAE and the UNet (20 s for the tiny
    test pipeline, gigabytes for Stable Diffusion). Its pickled state is the model's identity instead; it is
    never unpickled (the dataloader reads it in the training process), and a copy is the same object."""

    def __init__(self, model: Any, processor: Any, input_column: str) -> None:
        self.model = model
        self.pixels = text_to_image_modality().transform(
            model, processor, input_column=input_column, channels=model.image_channels,
            size=model.image_resolution,
        )  # fmt: skip

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        import torch

        out = self.pixels(batch)
        latents = self.model.to_latents(torch.stack(out["pixel_values"]))
        return {"pixel_values": list(latents), "label": out["label"]}

    def __deepcopy__(self, memo: dict) -> LatentTransform:
        return self  # datasets copies a split's format on every with_format/select: the model is shared

    def __getstate__(self) -> dict[str, str]:
        return {"model": f"{self.model.config._name_or_path}|{self.model.init}|{id(self.model)}"}

    def __setstate__(self, state: dict[str, str]) -> None:
        raise MubenchError(
            "a latent model's split transform holds the model and is not unpickled: keep dataloader workers "
            "in the training process (dataloader_num_workers=0)"
        )


def _absent(row: Any) -> None:
    return None


def _checked(task: Task) -> ImageGenerationTask:
    if not isinstance(task, ImageGenerationTask):
        raise MubenchError(f"task {task.name!r} is not a text-to-image task (ImageGenerationTask)")
    return task


class ImageGenerationKind(TaskKind):
    """Tasks whose target is an image generated from a prompt (see the module docstring)."""

    name = "image_generation"
    base_recipe = "diffusion"
    lora_trains_head = False
    measures_relearn = False
    ranking_rule = IMAGE_GENERATION_RANKING_RULE

    def objective(self) -> TaskObjective:
        return DenoisingObjective()

    def load_processor(
        self,
        task: Task,
        source: str | None,
        splits: Mapping[str, Any],
        *,
        trust_remote_code: bool | None = None,
    ) -> Any:
        """The tokenizer of the diffusers folder ``source``, or a word-level one trained on the task's prompts."""
        return load_prompt_tokenizer(_checked(task), source)

    def build_model(
        self,
        task: Task,
        model: Any,
        splits: Mapping[str, Any],
        processor: Any,
        *,
        trust_remote_code: bool | None = None,
        allow_pickle: bool | None = None,
    ) -> Any:
        return build_text_to_image_model(_checked(task), model, splits, processor)

    def process_splits(self, task: Task, splits: Any, model: Any, processor: Any) -> Any:
        """Every split with its images turned into ``pixel_values`` (lazily) beside ``label``: the UNet's clean
        sample x_0, i.e. the images in [-1, 1] at the task's size for a pixel-space model, and for a latent
        model (Stable Diffusion) the VAE latents of the images at the model's own resolution."""
        import datasets

        task = _checked(task)
        if getattr(model, "is_latent", False):
            transform = LatentTransform(model, processor, task.input_column)
        else:
            transform = text_to_image_modality().transform(
                model, processor, input_column=task.input_column, channels=task.channels, size=task.image_size
            )
        return datasets.DatasetDict({name: split.with_transform(transform) for name, split in splits.items()})

    def collator(self, task: Task, processor: Any) -> Callable[[list[dict]], dict]:
        return denoising_collator(processor, _checked(task).prompts())

    def report_settings(self, task: Task, given: Any) -> SamplingSettings | None:
        """A ``SamplingSettings`` from ``given`` (itself, or a dict of its fields); ``None`` stays ``None``."""
        if given is None or isinstance(given, SamplingSettings):
            return given
        return SamplingSettings(**given)

    def report(
        self,
        trainer: Any,
        splits: Mapping[str, Any],
        *,
        retrain: Any = None,
        original_test_accuracy: float | None = None,
        base_model: Any = None,
        unlearn_time_s: float | None = None,
        output_dir: Any = None,
        extra: Mapping[str, Any] | None = None,
        log: bool = True,
        settings: Any = None,
        add_metrics: AddMetrics | None = None,
    ) -> dict[str, Any]:
        return image_generation_report(
            trainer, splits, retrain=retrain, base_model=base_model, unlearn_time_s=unlearn_time_s,
            output_dir=output_dir, extra=extra, log=log, settings=settings, add_metrics=add_metrics,
        )  # fmt: skip

    def rank(
        self,
        rows: Sequence[Row],
        *,
        name: Callable[[Row], str],
        is_reference: Callable[[Row], bool],
        gap: Callable[[Row], Any] = _absent,
        **_: Any,
    ) -> tuple[str, list[tuple[Row, int | str | None]]]:
        return rank_by_gap(rows, gap=gap, score=_absent, name=name, is_reference=is_reference)


IMAGE_GENERATION = register_kind(ImageGenerationKind())
