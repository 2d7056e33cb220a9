"""The declarations of the image-generation report's metrics (``kinds.image_generation.report``).

UnlearnCanvas's axes (Zhang et al., "UnlearnCanvas", NeurIPS 2024 Datasets & Benchmarks): unlearning accuracy
and in-domain retain accuracy of generated images, read by a classifier of the task; FID and KID of the
generated images against real ones, here on that classifier's features (offline there are no Inception
weights), hence the ``_classifier_features`` in their names. With ``--fid-features inception`` (opt-in, online:
the weights are downloaded on first use) the standard ones too, on Inception v3's pool features through
torchmetrics (``fid_inception``, ``kid_inception``).
"""

from __future__ import annotations

from .declarations import MetricSpec, declare

KIND = "image_generation"
UNLEARN_CANVAS = "UnlearnCanvas (Zhang et al., NeurIPS 2024 D&B; OPTML-Group/UnlearnCanvas)"
CLEAN_FID = (
    "clean-fid (Parmar et al., CVPR 2022: cleanfid/fid.py), on the task classifier's penultimate features"
)
TORCHMETRICS_INCEPTION = (
    "torchmetrics (torchmetrics/image/fid.py and kid.py) on Inception v3's 2048 pool features with "
    "torch-fidelity's FID weights (ported from the TF original)"
)


def _metric(
    name: str,
    split: str | None,
    label: str,
    higher_is_better: bool | None,
    reference: str,
    *,
    reads: tuple[str, ...] = (),
    column: str | None = None,
) -> None:
    declare(MetricSpec(name=name, kind=KIND, split=split, label=label, higher_is_better=higher_is_better,
                       reference=reference, reads=reads, column=column))  # fmt: skip


# Unlearning accuracy should come to the retrained model's (which never saw the concept), like forget accuracy.
_metric("unlearning_accuracy", "forget", "Unlearning accuracy (forgotten concepts' images not recognised)", None,
        f"{UNLEARN_CANVAS}: UA", column="UA")  # fmt: skip
_metric("in_domain_retain_accuracy", "retain", "In-domain retain accuracy (kept concepts' images recognised)",
        True, f"{UNLEARN_CANVAS}: IRA", column="IRA ↑")  # fmt: skip
_metric("fid_classifier_features", "test", "FID on the task classifier's features (kept concepts vs real test images)",
        False, f"Heusel et al. 2017 as {CLEAN_FID}", reads=("retain", "test"), column="FID (clf) ↓")  # fmt: skip
_metric("kid_classifier_features", "test", "KID on the task classifier's features (kept concepts vs real test images)",
        False, f"Bińkowski et al. 2018 as {CLEAN_FID}", reads=("retain", "test"))  # fmt: skip
_metric("fid_inception", "test", "FID on Inception v3 features (kept concepts vs real test images; opt-in)",
        False, f"Heusel et al. 2017 as {TORCHMETRICS_INCEPTION}", reads=("retain", "test"))  # fmt: skip
_metric("kid_inception", "test", "KID on Inception v3 features (kept concepts vs real test images; opt-in)",
        False, f"Bińkowski et al. 2018 as {TORCHMETRICS_INCEPTION}", reads=("retain", "test"))  # fmt: skip
_metric("gap_to_retrain", None, "Gap to retrain (mean of the UA and IRA gaps)", False,
        f"SalUn's avg. gap (Fan et al., ICLR 2024) over {UNLEARN_CANVAS}'s UA and IRA", column="gap to retrain ↓")  # fmt: skip
_metric("forgotten_concepts", None, "Concepts forgotten (no image left in the retain split)", None,
        "this package: the concepts of a class-wise config")  # fmt: skip
_metric("unlearn_time_s", None, "Unlearning time (s)", False, "wall time of train()", column="time (s)")
_metric("unlearn_time_fraction_of_retrain", None, "Unlearning time / retrain time", False,
        "wall time of train() over the retrain model's training time")  # fmt: skip
_metric("sample_accuracy", None, "Classifier accuracy on the model's own samples", True,
        "this package: how recognisable a base model's generations are before any unlearning")  # fmt: skip
_metric("classifier_test_accuracy", "test", "Evaluation classifier's test accuracy", True,
        "this package: the classifier that reads generated images, on real test images")  # fmt: skip
