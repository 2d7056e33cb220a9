"""FID and KID of the text-to-image report against torchmetrics, and the opt-in Inception FID's wiring.

The cross-check gives torchmetrics' metrics our evaluation classifier's penultimate layer as their feature
module (peer files: ``torchmetrics/image/fid.py`` and ``torchmetrics/image/kid.py`` of torchmetrics 1.9.0,
read in the venv). What they say about inputs: a custom ``feature=`` module receives ``update``'s images
untouched (``normalize`` only converts [0, 1] floats to uint8 for the built-in Inception, and types the dummy
image used to infer the width when the module has no ``num_features``); FID accumulates the features in
float64 and returns the result in the features' dtype, its matrix square root from
``torch.linalg.eigvals(Σ1 Σ2)`` where ours is ``scipy.linalg.sqrtm``; KID computes in the features' dtype over
``subsets`` random ``subset_size`` subsets drawn with ``torch.randperm``. So KID matches exactly when every
subset is the whole set (both sets of the same size: the unbiased MMD² does not depend on the order), and
only statistically otherwise. Measured over 8 seeds (tiny UNet samples and a seeded tiny:resnet, 72 real vs
72 generated kept-concept images, 64 features): float64 features, FID relative difference ≤ 6.7e-10 and KID
≤ 1.3e-13; float32 features (torchmetrics' own arithmetic in float32), FID ≤ 4.1e-8 and KID ≤ 9.8e-5 (the
MMD² is a difference of large kernel sums); 323 real vs 72 generated with 100 random subsets each, the two
KIDs differ by 0.01 to 0.34 of torchmetrics' standard deviation over subsets.

The Inception path itself cannot run here (torch-fidelity is not installed and its weights come from
GitHub): its refusals are tested, and its wiring with a fake feature extractor in place of Inception v3.
"""

from __future__ import annotations

import sys
import types
import urllib.error
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from t2i_testlib import TASK, small_splits, tiny_parts

from mubench_hf.errors import MubenchError
from mubench_hf.kinds.image_generation import report as report_module
from mubench_hf.kinds.image_generation.classifier import CLASSIFIER_FOLDER, predict_and_features, split_pixels
from mubench_hf.kinds.image_generation.inception import (
    FID_FEATURES,
    INSTALL_HINT,
    inception_extractor,
    torchmetrics_distances,
    uint8_rgb,
)
from mubench_hf.kinds.image_generation.report import concepts_of, image_generation_report, score_model
from mubench_hf.kinds.image_generation.sampling import SamplingSettings, settings_from_args
from mubench_hf.metrics.image_generation import frechet_distance, kernel_distance
from mubench_hf.tasks import get_task

pytest.importorskip("torchmetrics")


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models and small matrices: one thread is ~20x less CPU time than many on the loaded 2 cores."""


def _classifier(seed: int = 0) -> torch.nn.Module:
    """The evaluation classifier's architecture (tiny:resnet, 64 pooled features), weights drawn under seed."""
    from transformers import AutoModelForImageClassification

    from mubench_hf.modalities import get_modality

    torch.manual_seed(seed)
    config = get_modality("image").tiny_config("resnet", num_labels=10, num_channels=1)
    return AutoModelForImageClassification.from_config(config).eval()


class PenultimateFeatures(torch.nn.Module):
    """The classifier's pooled features, what ``predict_and_features`` reads, as torchmetrics' ``feature=``."""

    num_features = 64  # tiny:resnet's last hidden size: torchmetrics reads it instead of a dummy forward

    def __init__(self, classifier: torch.nn.Module, dtype: torch.dtype) -> None:
        super().__init__()
        self.classifier, self.dtype = classifier, dtype

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier.base_model(images).pooler_output.flatten(1).to(self.dtype)


@pytest.mark.filterwarnings("ignore:Metric `Kernel Inception Distance` will save:UserWarning")
def test_torchmetrics_fid_and_kid_on_our_classifier_features_match_the_report(t2i_class3):
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    task, classifier = get_task(TASK), _classifier()
    _, _, model = tiny_parts(t2i_class3)
    forgotten, kept = concepts_of(task, t2i_class3)
    pixels, labels = split_pixels(task, t2i_class3["test"])
    every_real = pixels[np.isin(labels.numpy(), kept)]
    real = every_real[:72]  # as many as the generated kept images: every KID subset is the whole set
    settings = SamplingSettings(images_per_concept=8, inference_steps=2)
    ours, images, concepts = score_model(
        model, classifier, task, forgotten, kept, predict_and_features(classifier, real)[1], settings
    )
    generated = images[torch.from_numpy(np.isin(concepts, kept))]
    assert len(generated) == len(real) == 72

    for dtype, fid_bound, kid_bound in ((torch.float64, 1e-8, 1e-10), (torch.float32, 1e-6, 1e-3)):
        features = PenultimateFeatures(classifier, dtype)
        fid = FrechetInceptionDistance(feature=features)
        kid = KernelInceptionDistance(feature=features, subsets=3, subset_size=72)
        for metric in (fid, kid):
            metric.update(real, real=True)
            metric.update(generated, real=False)
        assert float(fid.compute()) == pytest.approx(ours["fid_classifier_features"], rel=fid_bound), dtype
        assert float(kid.compute()[0]) == pytest.approx(ours["kid_classifier_features"], rel=kid_bound), dtype

    # every real image (323) against the 72 generated: random subsets on both sides, so only close
    kid = KernelInceptionDistance(feature=PenultimateFeatures(classifier, torch.float64), subset_size=72)
    kid.update(every_real, real=True)
    kid.update(generated, real=False)
    torch.manual_seed(0)
    theirs, spread = (float(value) for value in kid.compute())
    generated_features = predict_and_features(classifier, generated)[1]
    every_real_features = predict_and_features(classifier, every_real)[1]
    assert abs(kernel_distance(generated_features, every_real_features, seed=0) - theirs) < spread


def test_torchmetrics_distances_are_seeded_and_leave_the_global_generator_alone():
    rng = np.random.default_rng(0)
    real, generated = (
        torch.from_numpy(rng.normal(size=(40, 6))),
        torch.from_numpy(rng.normal(size=(30, 6)) + 0.5),
    )
    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    first = torchmetrics_distances(generated, real, seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torchmetrics_distances(generated, real, seed=5) == first
    assert first[0] == pytest.approx(frechet_distance(generated.numpy(), real.numpy()), rel=1e-8)


def test_images_become_uint8_rgb_with_grey_replicated():
    images = torch.tensor([-1.0, 0.0, 1.0, 2.0]).reshape(1, 1, 2, 2)
    rgb = uint8_rgb(images)
    assert rgb.dtype == torch.uint8 and rgb.shape == (1, 3, 2, 2)
    assert rgb[0, 0].flatten().tolist() == [0, 128, 255, 255]  # 127.5 rounds to even; 2.0 is clamped
    assert torch.equal(rgb[0, 0], rgb[0, 2])
    with pytest.raises(MubenchError, match="1- or 3-channel"):
        uint8_rgb(torch.zeros(1, 2, 2, 2))


def test_the_inception_fid_is_refused_with_the_install_hint_without_torch_fidelity(monkeypatch, tmp_path):
    from mubench_hf.cli.evaluate import main as evaluate
    from mubench_hf.trainers import UnlearnConfig

    monkeypatch.setitem(sys.modules, "torch_fidelity", None)  # an import of it raises ImportError

    def no_sampling(*args, **kwargs):
        raise AssertionError("the report sampled before refusing")

    monkeypatch.setattr(report_module, "generate", no_sampling)
    for refused in (
        inception_extractor,
        lambda: UnlearnConfig(method="esd", output_dir=str(tmp_path), t2i_fid_features="inception"),
        lambda: evaluate(
            [
                "--model",
                str(tmp_path / "m"),
                "--dataset",
                str(tmp_path / "d"),
                "--config",
                "digits_t2i_class3",
                "--fid-features",
                "both",
            ]
        ),  # fmt: skip
        lambda: image_generation_report(
            SimpleNamespace(args=None),
            {"forget": _forget_split()},
            settings=SamplingSettings(fid_features="both"),
        ),
    ):
        with pytest.raises(MubenchError) as error:
            refused()
        assert INSTALL_HINT in str(error.value) and "from GitHub on first use" in str(error.value)
    UnlearnConfig(method="esd", output_dir=str(tmp_path), t2i_fid_features="classifier")  # needs nothing


def _forget_split():
    """A forget split whose config names digits_t2i (all the report reads before the Inception network)."""
    return SimpleNamespace(
        info=SimpleNamespace(config_name="digits_t2i_class3"), config_name="digits_t2i_class3"
    )


def test_weights_that_cannot_be_downloaded_are_refused_with_the_reason(monkeypatch):
    import torchmetrics.image.fid

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setitem(sys.modules, "torch_fidelity", types.ModuleType("torch_fidelity"))
    monkeypatch.setattr(torchmetrics.image.fid, "FrechetInceptionDistance", offline)
    with pytest.raises(MubenchError, match="downloads them from GitHub on first use") as error:
        inception_extractor()
    assert "URLError" in str(error.value) and INSTALL_HINT in str(error.value)


def test_the_setting_reaches_the_report_from_the_flags_and_the_unlearning_arguments():
    from mubench_hf.cli.evaluate import SAMPLING_FLAGS, build_parser, sampling_settings
    from mubench_hf.trainers import UnlearnConfig

    argv = ["--model", "m", "--dataset", "d", "--config", "c"]
    assert sampling_settings(build_parser().parse_args([*argv, "--fid-features", "classifier"])) == {
        "fid_features": "classifier"
    }
    assert SAMPLING_FLAGS["fid_features"] == "--fid-features"
    parser = build_parser()
    choices = next(a.choices for a in parser._actions if a.dest == "fid_features")
    assert tuple(choices) == FID_FEATURES
    args = UnlearnConfig(method="esd", output_dir="unused", t2i_fid_features="classifier")
    assert settings_from_args(args).fid_features == "classifier"
    assert settings_from_args(UnlearnConfig(method="esd", output_dir="unused")).fid_features == "classifier"
    with pytest.raises(MubenchError, match="fid_features must be one of"):
        SamplingSettings(fid_features="clip")


class FakeInception(torch.nn.Module):
    """Stands in for Inception v3: a fixed projection of the first channel, recording what it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[torch.Tensor] = []
        self.weight = torch.randn(64, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.seen.append(images.clone())
        return (images[:, 0].double().flatten(1) / 255.0) @ self.weight


def test_inception_distances_flow_into_the_report_for_the_model_and_the_original(
    t2i_class3, tmp_path, monkeypatch
):
    """``both``: the classifier-feature FID and, from the (fake) Inception network's features of the same
    images, ``fid_inception`` / ``kid_inception`` for the unlearned model and the original one."""
    _, _, model = tiny_parts(t2i_class3)
    base = Path(tmp_path) / "base"
    model.save_pretrained(base)
    _classifier().save_pretrained(base / CLASSIFIER_FOLDER)
    fake = FakeInception()
    monkeypatch.setattr(report_module, "inception_extractor", lambda: fake)
    splits = small_splits(t2i_class3, rows=40)
    trainer = SimpleNamespace(
        model=model, args=None, accelerator=SimpleNamespace(unwrap_model=lambda m: m),
        is_world_process_zero=lambda: True,
    )  # fmt: skip
    settings = SamplingSettings(images_per_concept=2, inference_steps=2, seed=3, fid_features="both")
    report = image_generation_report(trainer, splits, base_model=str(base), log=False, settings=settings)
    real, generated, original = fake.seen  # the real images once, then each model's kept-concept samples
    labels = np.asarray(splits["test"]["label"])
    assert len(real) == (labels != 3).sum() and len(generated) == len(original) == 9 * 2  # digit 3 forgotten
    for seen in fake.seen:
        assert seen.dtype == torch.uint8 and seen.shape[1:] == (3, 8, 8)
        assert torch.equal(seen[:, 0], seen[:, 1]) and torch.equal(seen[:, 0], seen[:, 2])  # grey replicated
    real_f = (real[:, 0].double().flatten(1) / 255.0) @ fake.weight
    for prefix, images in (("", generated), ("original_", original)):
        gen_f = (images[:, 0].double().flatten(1) / 255.0) @ fake.weight
        assert report[f"{prefix}fid_inception"] == pytest.approx(
            frechet_distance(gen_f.numpy(), real_f.numpy()), rel=1e-8
        )
        assert report[f"{prefix}kid_inception"] == torchmetrics_distances(gen_f, real_f, seed=3)[1]
        assert f"{prefix}fid_classifier_features" in report
    assert "fid_inception" not in image_generation_report(
        trainer, splits, base_model=str(base), log=False,
        settings=SamplingSettings(images_per_concept=2, inference_steps=2),
    )  # fmt: skip


def test_the_catalog_declares_the_inception_metrics():
    from mubench_hf.metrics.declarations import metric_spec

    for name in ("fid_inception", "kid_inception"):
        spec = metric_spec(name, "image_generation")
        assert spec is not None and spec.kind == "image_generation" and spec.higher_is_better is False
        assert "torchmetrics" in spec.reference and "Inception" in spec.reference
