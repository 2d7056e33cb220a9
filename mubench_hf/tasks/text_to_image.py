"""``ImageGenerationTask``: a text-to-image task. Rows are stored as a classification task's are (an
``image``, its class ``label``, ``sample_id``), so deletion configs by ratio (``<task>_del<p>``) and by
class (``<task>_class<k>``: every image of one concept) are built unchanged; the prompt of a row is its
class rendered into the task's template (``"a picture of the digit three"``).

What the task declares beyond a classification task: the words each class reads as in a prompt
(``concepts``), the template, a generic prompt of the task's domain (concept ablation's anchor), the image
size and channels models are built for (for a latent model such as Stable Diffusion: the size the evaluation
classifier reads its generated images at, the model keeping its own resolution), the recipe its base and
retrain models train with, and for a Hub task the pretrained pipeline its base starts from. How models
are built, trained with the denoising loss and scored (generated images recognised by a classifier) is the
``image_generation`` kind's business (``mubench_hf.kinds.image_generation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import MubenchError
from ..modalities.text_to_image import text_to_image_modality
from .base import Task

#: Base and retrain models of a tiny text-to-image task train with this unless the task says otherwise.
IMAGE_GENERATION_RECIPE: dict[str, Any] = dict(
    num_train_epochs=40.0,
    learning_rate=2e-3,
    per_device_train_batch_size=64,
    warmup_steps=20,
    lr_scheduler_type="cosine",
)


@dataclass(frozen=True)
class ImageGenerationTask(Task):
    """A text-to-image task (see the module docstring)."""

    kind: str = "image_generation"
    #: how each class reads inside a prompt (default: its class name)
    concepts: tuple[str, ...] = ()
    #: the prompt of a row: ``template.format(concept)``
    prompt_template: str = "a picture of {}"
    #: a prompt of the domain naming no class (concept ablation's default anchor)
    generic_prompt: str = "a picture"
    #: square image side models are built for (``None``: the stored images' own)
    image_size: int | None = None
    channels: int = 1
    recipe: Mapping[str, Any] = field(default_factory=lambda: dict(IMAGE_GENERATION_RECIPE))
    #: the most images one sampling batch holds (``None``: the settings' own; a Stable Diffusion task caps
    #: it so a report's batches fit a GPU; the images do not depend on it)
    sampling_batch_size: int | None = None
    #: the pretrained pipeline a base model starts from (a Hub task's default ``--model``); ``None``: tiny:unet
    default_model: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.concepts and len(self.concepts) != len(self.class_names):
            raise MubenchError(
                f"task {self.name!r}: {len(self.concepts)} concepts for {len(self.class_names)} classes; "
                "give one prompt word per class"
            )
        if "{}" not in self.prompt_template:
            raise MubenchError(
                f"task {self.name!r}: prompt_template must hold '{{}}' where the concept goes, got "
                f"{self.prompt_template!r}"
            )
        if self.channels not in (1, 3):
            raise MubenchError(f"task {self.name!r}: channels is 1 (grey) or 3 (RGB), not {self.channels}")

    @property
    def modality_spec(self) -> Any:
        """The text-to-image modality object (pipeline tag, diffusers folders, tiny models)."""
        return text_to_image_modality()

    def prompt(self, label: int) -> str:
        """The prompt of class ``label``."""
        words = self.concepts or self.class_names
        if not 0 <= int(label) < len(words):
            raise MubenchError(f"task {self.name!r} has classes 0..{len(words) - 1}, not {label}")
        return self.prompt_template.format(words[int(label)])

    def prompts(self) -> list[str]:
        """Every class's prompt, in label order."""
        return [self.prompt(k) for k in range(self.num_labels)]

    def recipe_defaults(self) -> dict[str, Any]:
        return dict(self.recipe)
