"""The evaluation classifier of a text-to-image task: is a generated image recognisably its concept?

A tiny image classifier of the task's classes (the image modality's ``tiny:resnet``, trained with
``MubenchTrainer`` on the task's real train images, the epoch kept by validation accuracy, never by test).
It is trained once with the base model and saved inside the base model's folder (``classifier/``), so every
report of the sweep (unlearned and retrain models alike) reads images with the same classifier. It also
gives the features of FID and KID: its penultimate layer (the pooled features before the class head),
since Inception weights cannot be downloaded offline; the metrics say so in their names
(``fid_classifier_features``).

Images enter as the diffusion model sees them: ``[N, C, H, W]`` in [-1, 1] (real and generated alike).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ...errors import MubenchError
from ...modalities import get_modality
from ...modalities.text_to_image import image_to_unit_range
from ...rows import RowDataset
from ...tasks.text_to_image import ImageGenerationTask

CLASSIFIER_FOLDER = "classifier"
#: Training of the evaluation classifier (tiny:resnet on digits: validation accuracy ~0.97 within 15 epochs).
CLASSIFIER_EPOCHS = 15
CLASSIFIER_LEARNING_RATE = 3e-3


class _Pixels(torch.utils.data.Dataset):
    def __init__(self, pixels: torch.Tensor, labels: torch.Tensor) -> None:
        self.pixels, self.labels = pixels, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"pixel_values": self.pixels[index], "labels": self.labels[index]}


def split_pixels(task: ImageGenerationTask, split: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """A stored split's images ``[N, C, H, W]`` in [-1, 1] and labels ``[N]``."""
    plain = split.with_format(None)
    images = plain[task.input_column]
    pixels = torch.from_numpy(image_to_unit_range(images, task.channels, task.image_size))
    return pixels, torch.as_tensor(np.asarray(plain["label"], dtype=np.int64))


def task_view(images: torch.Tensor, task: ImageGenerationTask) -> torch.Tensor:
    """Generated images ``[N, C, H, W]`` as the classifier reads the task's real ones: resized to the task's
    ``image_size`` (a Stable Diffusion model draws 512x512 where Tiny-ImageNet's photographs are 64x64),
    grey when the task is."""
    if task.channels == 1 and images.shape[1] == 3:
        images = images.mean(1, keepdim=True)
    size = task.image_size
    if size is not None and tuple(images.shape[-2:]) != (size, size):
        images = torch.nn.functional.interpolate(
            images, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        ).clamp(-1.0, 1.0)
    return images


def _accuracy(prediction: Any) -> dict[str, float]:
    logits = (
        prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    )
    return {"accuracy": float(np.mean(np.asarray(logits).argmax(-1) == np.asarray(prediction.label_ids)))}


def train_evaluation_classifier(
    task: ImageGenerationTask,
    splits: Any,
    output_dir: str | Path,
    *,
    seed: int,
    quiet: bool = True,
    epochs: float = CLASSIFIER_EPOCHS,
) -> dict[str, float]:
    """Train the classifier on ``splits["train"]`` (selected on ``validation``) into ``output_dir`` for
    ``epochs``; returns its validation and test accuracy."""
    from transformers import AutoModelForImageClassification, PrinterCallback, TrainingArguments, set_seed

    from ...training import MubenchTrainer

    set_seed(seed)
    config = get_modality("image").tiny_config(
        "resnet", num_labels=task.num_labels, num_channels=task.channels,
        id2label=task.id2label, label2id=task.label2id,
    )  # fmt: skip
    model = AutoModelForImageClassification.from_config(config)
    train = _Pixels(*split_pixels(task, splits["train"]))
    validation = _Pixels(*split_pixels(task, splits["validation"])) if "validation" in splits else None
    args = TrainingArguments(
        output_dir=str(Path(output_dir) / "checkpoints"), num_train_epochs=epochs,
        learning_rate=CLASSIFIER_LEARNING_RATE, per_device_train_batch_size=64, seed=seed, report_to="none",
        eval_strategy="epoch" if validation else "no", save_strategy="epoch" if validation else "no",
        save_total_limit=1, load_best_model_at_end=validation is not None, metric_for_best_model="accuracy",
        logging_strategy="no", disable_tqdm=quiet, use_cpu=not torch.cuda.is_available(),
    )  # fmt: skip
    trainer = MubenchTrainer(
        model=model,
        args=args,
        train_dataset=RowDataset(train),
        eval_dataset=validation,
        compute_metrics=_accuracy,
    )
    if quiet:
        trainer.remove_callback(PrinterCallback)
    trainer.train()
    trainer.model.save_pretrained(str(output_dir))
    import shutil

    shutil.rmtree(Path(output_dir) / "checkpoints", ignore_errors=True)
    results = {}
    for name in ("validation", "test"):
        if name in splits:
            pixels, labels = split_pixels(task, splits[name])
            results[f"classifier_{name}_accuracy"] = float(
                (predict(trainer.model, pixels) == labels).float().mean()
            )
    return results


def load_evaluation_classifier(base_model: str | Path | None) -> nn.Module:
    """The classifier saved in the base model's folder (``<base>/classifier``)."""
    if base_model is None:
        raise MubenchError(
            "the image-generation report recognises generated images with the classifier saved beside the base "
            "model: pass base_model= (mubench evaluate --base-model BASE_DIR)"
        )
    folder = Path(base_model) / CLASSIFIER_FOLDER
    if not (folder / "config.json").is_file():
        raise MubenchError(
            f"{base_model} has no evaluation classifier ({CLASSIFIER_FOLDER}/): train the base model with mubench"
        )
    from transformers import AutoModelForImageClassification

    return AutoModelForImageClassification.from_pretrained(str(folder)).eval()


@torch.no_grad()
def predict_and_features(
    classifier: nn.Module, pixels: torch.Tensor, batch_size: int = 1024
) -> tuple[torch.Tensor, np.ndarray]:
    """Predicted classes ``[N]`` and penultimate features ``[N, D]`` (float64) of images in [-1, 1]."""
    device = next(classifier.parameters()).device
    predictions, features = [], []
    for start in range(0, len(pixels), batch_size):
        chunk = pixels[start : start + batch_size].to(device)
        pooled = classifier.base_model(chunk).pooler_output.flatten(1)
        predictions.append(classifier.classifier(pooled).argmax(-1).cpu())
        features.append(pooled.double().cpu().numpy())
    return torch.cat(predictions), np.concatenate(features)


def predict(classifier: nn.Module, pixels: torch.Tensor) -> torch.Tensor:
    """Predicted classes of images in [-1, 1]."""
    return predict_and_features(classifier, pixels)[0]
