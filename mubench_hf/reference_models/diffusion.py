"""Training the base and retrain models of a text-to-image task (base recipe ``"diffusion"``): the trainer
comes from the kind (``mubench_hf.kinds.image_generation.training``: diffusers' noise-prediction loss through
``Trainer``); this writes the Hub-ready diffusers folder, ``train_results.json`` and a model card.

The base model's folder also gets the task's evaluation classifier (``classifier/``, trained here on the
real train images) and, in its results, how recognisable its own samples are: the classifier's accuracy on
``images_per_concept`` generated images of every concept (``sample_accuracy``). Unlearning means little
before the base generates recognisable concepts; the card says how well it does.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from transformers import TrainingArguments
from transformers.trainer_callback import PrinterCallback

from ..hub.cards import render_model_card
from ..kinds.image_generation.classifier import (
    CLASSIFIER_EPOCHS,
    CLASSIFIER_FOLDER,
    load_evaluation_classifier,
    predict,
    task_view,
    train_evaluation_classifier,
)
from ..kinds.image_generation.sampling import SamplingSettings, capped, concept_prompts, generate
from ..kinds.image_generation.training import diffusion_trainer
from .outputs import TRAIN_RESULTS_FILE, backbone_of, check_output_dir, dataset_hash
from .recipe import recipe_of

#: How the base model's own samples are generated for its ``sample_accuracy`` (the report's defaults).
BASE_SAMPLING = SamplingSettings()


def sample_accuracy(model: Any, task: Any, classifier: Any, settings: SamplingSettings) -> dict[str, float]:
    """The classifier's accuracy on the model's own samples: overall and per concept."""
    labels = list(range(task.num_labels))
    prompts, concepts = concept_prompts(task.prompts(), labels, settings.images_per_concept)
    images = task_view(generate(model, prompts, capped(settings, task.sampling_batch_size)), task)
    predicted = predict(classifier, images).numpy()
    concepts = np.asarray(concepts)
    per_concept = {f"sample_accuracy_{k}": float(np.mean(predicted[concepts == k] == k)) for k in labels}
    return {"sample_accuracy": float(np.mean(predicted == concepts)), **per_concept}


def fit_diffusion(
    kind: str, prepared: Any, args: TrainingArguments, *, init: str | None, quiet: bool
) -> dict[str, Any]:
    """Train the base or retrain model of ``prepared`` into ``args.output_dir`` (see the module docstring)."""
    output_dir = Path(args.output_dir)
    check_output_dir(output_dir)
    created = not output_dir.exists()
    results: dict[str, Any] = {}
    try:
        trainer, start = diffusion_trainer(kind, prepared, args)
        if quiet:
            trainer.remove_callback(PrinterCallback)
        begin = time.perf_counter()
        output = trainer.train()
        train_time = time.perf_counter() - begin
        trained = trainer.model
        trained.save_pretrained(output_dir)
        results["train_loss"] = float(output.training_loss)
        classifier_source = output_dir if kind == "base" else None
        if kind == "base":  # the evaluation classifier of every report of this base's sweep
            results.update(train_evaluation_classifier(
                prepared.task, prepared.raw, output_dir / CLASSIFIER_FOLDER, seed=int(args.seed), quiet=quiet,
                epochs=CLASSIFIER_EPOCHS,
            ))  # fmt: skip
        if classifier_source is not None:
            classifier = load_evaluation_classifier(classifier_source)
            results.update(sample_accuracy(trained, prepared.task, classifier, BASE_SAMPLING))
    except BaseException:
        shutil.rmtree(output_dir if created else output_dir / "checkpoints", ignore_errors=True)
        raise
    shutil.rmtree(output_dir / "checkpoints", ignore_errors=True)
    summary = {"train_runtime": train_time, "kind": kind, "config": prepared.config, **results}
    (output_dir / TRAIN_RESULTS_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    dataset = prepared.dataset
    card_results = {k: v for k, v in results.items() if k in ("sample_accuracy", "classifier_test_accuracy")}
    card = render_model_card(
        kind,
        task=prepared.task,
        config=prepared.config if kind == "retrain" else None,
        dataset_repo=dataset if not Path(dataset).exists() else Path(dataset).name,
        dataset_hash=dataset_hash(dataset),
        backbone=backbone_of(trained.unet),
        recipe={**recipe_of(args), "init": init or start},
        seed=int(args.seed),
        results=card_results,
        model_name=output_dir.name,
    )
    card.save(str(output_dir / "README.md"))
    return {**results, "train_time_s": train_time, "output_dir": str(output_dir)}
