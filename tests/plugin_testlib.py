"""A distribution outside mubench-hf that adds a method, a task, a metric and a modality through entry
points: written into a folder (a module file and its ``.dist-info``), which then goes on ``sys.path`` or
``PYTHONPATH``. Shared by the plugin tests."""

from __future__ import annotations

from pathlib import Path

MODULE = "mubench_quads_plugin"
DISTRIBUTION = "mubench-quads-plugin"
METRIC = "forget_test_confidence_gap"
METRIC_LABEL = "Forget minus test true-class confidence"
METRIC_COLUMN = "conf gap"
METHOD = "half_ascent"
TASK = "digit_quads"
MODALITY = "small_image"

SOURCE = '''
"""mubench-hf plugins: the half-strength gradient ascent method, the digit_quads task (sklearn digits 0-3),
the forget-minus-test confidence metric and the small_image modality (images with a smaller tiny ResNet)."""
import datasets
import numpy as np
from PIL import Image

from mubench_hf.metrics import ClassificationInputs, register_metric
from mubench_hf.modalities.image import ImageModality
from mubench_hf.trainers import DataUse, UnlearnTrainer, register_method


class SmallImageModality(ImageModality):
    """Images, whose tiny from-config model is a one-stage ResNet."""

    name = "small_image"

    def tiny_configs(self):
        from transformers import ResNetConfig

        return {"resnet": (ResNetConfig, dict(num_channels=1, embedding_size=8, hidden_sizes=[16],
                                              depths=[1], layer_type="basic"))}


def load_quads():
    """sklearn's digits of classes 0-3 (720 rows): train 480, validation 80, test 160, seeded."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    keep = np.flatnonzero(bunch.target < 4)
    order = np.random.default_rng(0).permutation(keep)
    pixels = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    features = datasets.Features({"image": datasets.Image(),
                                  "label": datasets.ClassLabel(names=["0", "1", "2", "3"])})

    def make(rows):
        rows = np.sort(rows)
        return datasets.Dataset.from_dict(
            {"image": [Image.fromarray(pixels[i], mode="L") for i in rows],
             "label": bunch.target[rows].astype(np.int64).tolist()}, features=features)

    return datasets.DatasetDict({"train": make(order[:480]), "validation": make(order[480:560]),
                                 "test": make(order[560:720])})


def register_tasks():
    from mubench_hf.tasks import Task, register_task

    register_task(Task(name="digit_quads", modality="small_image", class_names=("0", "1", "2", "3"),
                       description="sklearn digits 0-3, a plugin task", loader=load_quads,
                       validation_split="validation", license="cc-by-4.0"))


@register_metric("forget_test_confidence_gap", split="forget", reads=("forget", "test"),
                 label="Forget minus test true-class confidence", higher_is_better=None,
                 reference="a test plugin, 2025", column="conf gap")
def forget_test_confidence_gap(inputs: ClassificationInputs):
    forget, test = inputs.outputs["forget"], inputs.outputs["test"]
    return float(forget.true_class_probability.mean() - test.true_class_probability.mean())


class HalfAscentTrainer(UnlearnTrainer):
    """Loss = -CE(Df) / 2."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        logits = self.objective.outputs(model, inputs)
        loss = -0.5 * self.objective.loss(logits, inputs)
        return (loss, {"logits": logits}) if return_outputs else loss


register_method("half_ascent", trainer=HalfAscentTrainer, data_use=DataUse.FORGET,
                citation="A test plugin, 2025", quick_settings={"max_steps": 2})
'''

ENTRY_POINTS = f"""[mubench_hf.methods]
{METHOD} = {MODULE}

[mubench_hf.tasks]
{TASK} = {MODULE}:register_tasks

[mubench_hf.metrics]
{METRIC} = {MODULE}

[mubench_hf.modalities]
{MODALITY} = {MODULE}:SmallImageModality
"""

BROKEN_ENTRY_POINTS = """[mubench_hf.tasks]
broken_task = mubench_broken_plugin:no_such_function

[mubench_hf.metrics]
broken_metric = mubench_broken_plugin

[mubench_hf.modalities]
broken_modality = mubench_broken_plugin:nothing
"""


def _dist_info(root: Path, name: str, entry_points: str) -> None:
    info = root / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)


def write_distribution(root: Path) -> Path:
    """The working distribution in ``root`` (made if missing); returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{MODULE}.py").write_text(SOURCE)
    _dist_info(root, DISTRIBUTION, ENTRY_POINTS)
    return root


def write_broken_distribution(root: Path) -> Path:
    """A distribution whose every entry point fails: its module raises on import."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "mubench_broken_plugin.py").write_text(
        "raise ImportError('needs the missing package frobnicate')\n"
    )
    _dist_info(root, "mubench-broken-plugin", BROKEN_ENTRY_POINTS)
    return root
