"""The unlearning report of a text-to-image task: generate every concept's images, read them with the task's
classifier, and compare feature distributions with real images.

For a model (the unlearned one, and with them at hand the retrain model and the original model θo):

1. ``images_per_concept`` images of every concept, batched and seeded (``sampling.generate``; the same
   seeds for every model, so the three are compared on the same starting noise);
2. the evaluation classifier saved with the base model (``classifier.py``) predicts each image's concept
   and gives its penultimate features;
3. ``unlearning_accuracy``: share of the forgotten concepts' images not recognised (UnlearnCanvas's UA);
   ``in_domain_retain_accuracy``: share of the kept concepts' images recognised (UnlearnCanvas's IRA);
   ``fid_classifier_features`` / ``kid_classifier_features``: FID and KID between the kept concepts' generated
   images and the real test images of those concepts, on the classifier's features (not Inception's:
   offline there are no Inception weights, and the names say so); with ``fid_features`` ``inception`` (or
   ``both``) ``fid_inception`` / ``kid_inception``, the standard ones on the same images through torchmetrics'
   Inception v3 (``inception.py``; its weights are downloaded on first use, and fail before any sampling).

The forgotten concepts are those with no image left in the retain split (a class-wise config
``<task>_class<k>``); under ratio deletion every concept keeps images, so UA is taken over the concepts of
the forget rows and IRA is left out. With a retrain reference the report adds ``retrain_<metric>``,
``gap_<metric>`` and ``gap_to_retrain`` (the mean of the UA and IRA gaps); with the base model,
``original_<metric>`` (before and after in one row). A sample grid (``samples.png``: the first forgotten
and the first kept concept) is written beside ``unlearning_results.json``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...errors import MubenchError
from ...metrics.image_generation import (
    concept_accuracy,
    frechet_distance,
    kernel_distance,
    unlearning_accuracy,
)
from ...splits.layout import task_of_config
from ...tasks import get_task
from ...tasks.text_to_image import ImageGenerationTask
from ..classification.report import RESULTS_FILE, config_name_of
from ..reference_cache import REFERENCE_CACHE, folder_digest, value_key
from .classifier import load_evaluation_classifier, predict_and_features, split_pixels, task_view
from .figures import save_sample_grid
from .inception import InceptionDistances, inception_extractor, uses_classifier, uses_inception
from .model import TextToImageModel
from .sampling import SamplingSettings, capped, concept_prompts, generate, settings_from_args

HEADLINE = (
    "unlearning_accuracy",
    "in_domain_retain_accuracy",
    "fid_classifier_features",
    "kid_classifier_features",
)
GAP_OF = ("unlearning_accuracy", "in_domain_retain_accuracy")
SAMPLES_FILE = "samples.png"


def concepts_of(task: ImageGenerationTask, splits: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """(forgotten concepts, kept concepts): see the module docstring."""
    forget = set(np.asarray(splits["forget"].with_format(None)["label"]).tolist())
    retain = (
        set(np.asarray(splits["retain"].with_format(None)["label"]).tolist()) if "retain" in splits else set()
    )
    gone = sorted(forget - retain)
    if gone:
        return gone, [k for k in range(task.num_labels) if k not in gone]
    return sorted(forget), []


def score_model(
    model: TextToImageModel,
    classifier: torch.nn.Module,
    task: ImageGenerationTask,
    forgotten: list[int],
    kept: list[int],
    real_features: np.ndarray | None,
    settings: SamplingSettings,
    inception: InceptionDistances | None = None,
) -> tuple[dict[str, float], torch.Tensor, np.ndarray]:
    """The headline metrics of one model, its generated images and their concepts (``real_features``: the
    classifier's of the kept concepts' real images, ``None`` for no classifier-feature FID; ``inception``:
    their Inception distances, ``None`` for none)."""
    prompts, concepts = concept_prompts(task.prompts(), [*forgotten, *kept], settings.images_per_concept)
    images = task_view(generate(model, prompts, capped(settings, task.sampling_batch_size)), task)
    predicted, features = predict_and_features(classifier, images)
    labels = np.asarray(concepts)
    metrics = {"unlearning_accuracy": unlearning_accuracy(predicted.numpy(), labels, forgotten)}
    if kept:
        metrics["in_domain_retain_accuracy"] = concept_accuracy(predicted.numpy(), labels, kept)
        if real_features is not None:
            generated = features[np.isin(labels, kept)]
            metrics["fid_classifier_features"] = frechet_distance(generated, real_features)
            metrics["kid_classifier_features"] = kernel_distance(generated, real_features, seed=settings.seed)
        if inception is not None:
            metrics.update(inception(images[torch.from_numpy(np.isin(labels, kept))], settings.seed))
    return metrics, images, labels


def _reference_folder(path: Any) -> Path | None:
    if path is None or isinstance(path, Mapping):
        return None
    folder = Path(path)
    folder = folder if folder.is_dir() else folder.parent
    if not (folder / "model_index.json").is_file():
        raise MubenchError(
            f"retrain reference {str(path)!r}: an image-generation report needs the retrain model's diffusers "
            "folder (model_index.json), not a predictions file"
        )
    return folder


def reference_scores(
    path: Any,
    classifier: torch.nn.Module,
    task: ImageGenerationTask,
    forgotten: list[int],
    kept: list[int],
    real_features: np.ndarray | None,
    settings: SamplingSettings,
    inception: InceptionDistances | None = None,
) -> dict[str, float] | None:
    """The headline metrics of the reference model saved at ``path`` (``None``: no reference)."""
    folder = _reference_folder(path)
    if folder is None:
        return None
    # the process's reference cache (kinds/reference_cache.py), keyed by the folder's content: every cell of
    # a sweep scores the same retrain model, which is sampled once, not once per cell
    described = dataclasses.asdict(settings)
    if described["fid_features"] == "classifier":  # the default: keys written before the setting still hold
        del described["fid_features"]
    key = value_key(folder_digest(folder), described, forgotten, kept, task.name)
    scores = REFERENCE_CACHE.get(
        "image_generation_reference",
        key,
        lambda: score_model(
            TextToImageModel.from_pretrained(folder),
            classifier,
            task,
            forgotten,
            kept,
            real_features,
            settings,
            inception,
        )[0],
        dump=lambda values: {name: np.asarray(value) for name, value in values.items()},
        load=lambda data: {name: float(value) for name, value in data.items()},
    )
    return dict(scores)


def _device_of(trainer: Any) -> Any:
    """The device the trainer computes on (the Inception network is costly on a CPU), else the CPU."""
    return getattr(getattr(trainer, "args", None), "device", None) or "cpu"


def image_generation_report(
    trainer: Any,
    splits: Mapping[str, Any],
    *,
    retrain: Any = None,
    base_model: Any = None,
    unlearn_time_s: float | None = None,
    output_dir: str | os.PathLike | None = None,
    extra: Mapping[str, Any] | None = None,
    log: bool = True,
    settings: SamplingSettings | None = None,
    add_metrics: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Score ``trainer.model`` on a text-to-image task's splits (see the module docstring)."""
    settings = settings or settings_from_args(getattr(trainer, "args", None))
    if "forget" not in splits:
        raise MubenchError("the image-generation report needs the forget split")
    config = config_name_of(splits["forget"])
    task = get_task(task_of_config(config)) if config else None
    if not isinstance(task, ImageGenerationTask):
        raise MubenchError(f"the forget split's config {config!r} is not of a text-to-image task")
    # the Inception network first: a missing package or weights that cannot be downloaded fail before sampling
    extractor = inception_extractor() if uses_inception(settings.fid_features) else None
    classifier = load_evaluation_classifier(base_model)
    forgotten, kept = concepts_of(task, splits)
    real_features, inception = None, None
    if kept and "test" in splits:
        pixels, labels = split_pixels(task, splits["test"])
        real = pixels[np.isin(labels.numpy(), kept)]
        if uses_classifier(settings.fid_features):
            real_features = predict_and_features(classifier, real)[1]
        if extractor is not None:
            inception = InceptionDistances(real, extractor, device=_device_of(trainer))
    model = trainer.accelerator.unwrap_model(trainer.model)
    metrics, images, labels = score_model(
        model, classifier, task, forgotten, kept, real_features, settings, inception
    )
    metrics = {**metrics, "forgotten_concepts": len(forgotten)}
    references = {"retrain": retrain}
    if base_model is not None and not isinstance(base_model, torch.nn.Module):
        references["original"] = base_model
    for prefix, reference in references.items():
        scored = reference_scores(
            reference, classifier, task, forgotten, kept, real_features, settings, inception
        )
        metrics.update({f"{prefix}_{k}": v for k, v in (scored or {}).items()})
    if "retrain_unlearning_accuracy" in metrics:
        gaps = {
            f"gap_{k}": abs(metrics[k] - metrics[f"retrain_{k}"]) for k in GAP_OF if f"retrain_{k}" in metrics
        }
        metrics.update(gaps)
        metrics["gap_to_retrain"] = float(np.mean(list(gaps.values())))
    if unlearn_time_s is not None:
        metrics["unlearn_time_s"] = float(unlearn_time_s)
        results = Path(retrain) / "train_results.json" if isinstance(retrain, (str, os.PathLike)) else None
        if results is not None and results.is_file():
            retrain_time = json.loads(results.read_text()).get("train_runtime")
            if retrain_time:
                metrics["unlearn_time_fraction_of_retrain"] = float(unlearn_time_s) / float(retrain_time)
    if add_metrics is not None:
        metrics.update(add_metrics(metrics))
    if log:
        trainer.log({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
    if output_dir is not None and trainer.is_world_process_zero():
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        shown = [forgotten[0], *kept[:1]]
        save_sample_grid(images, labels, shown, [task.prompt(k) for k in shown], out / SAMPLES_FILE)
        payload = {**metrics, **{k: v for k, v in dict(extra or {}).items() if k not in metrics}}
        payload["sampling_settings"] = dataclasses.asdict(settings)
        tmp = out / (RESULTS_FILE + ".tmp")
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, out / RESULTS_FILE)
    return metrics
