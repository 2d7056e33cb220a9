"""The standard FID and KID of a text-to-image report, on Inception-v3 features through torchmetrics (opt-in).

``--fid-features inception`` (``both``: with the classifier-feature FID as well) adds ``fid_inception`` and
``kid_inception``. The features are those of torchmetrics' ``FrechetInceptionDistance(feature=2048)``
(``torchmetrics/image/fid.py``: torch-fidelity's Inception v3 with the TF original's FID weights, Heusel et
al. 2017), which torch-fidelity downloads from GitHub on first use; hence an opt-in: offline it cannot work,
and without ``torch-fidelity`` torchmetrics has no Inception. The report builds the network before it
generates anything, so either failure costs nothing but the message.

Inputs are what torchmetrics' Inception takes with ``normalize=False``: uint8 RGB in [0, 255], ``[N, 3, H,
W]``; the report's images in [-1, 1] are mapped to it and grey ones replicated to three channels; the
network resizes them to 299x299 itself (bilinear, antialiased). Each image set goes through the network
once; FID and KID are then torchmetrics' own arithmetic (``FrechetInceptionDistance`` and
``KernelInceptionDistance`` given the features through a pass-through module), KID over 100 subsets of
min(real, generated, 1000) rows as clean-fid draws them, from torch's generator seeded by the sampling seed.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

from ...errors import MubenchError

#: ``--fid-features``: which features FID and KID are taken on (the default needs no download)
FID_FEATURES = ("classifier", "inception", "both")
INCEPTION_FEATURES = 2048
INSTALL_HINT = "pip install 'mubench-hf[fid-inception]'"
KID_SUBSETS = 100
KID_MAX_SUBSET_SIZE = 1000


def check_fid_features(value: str) -> str:
    """``value`` if it is one of :data:`FID_FEATURES`."""
    if value not in FID_FEATURES:
        raise MubenchError(f"fid_features must be one of {list(FID_FEATURES)}, got {value!r}")
    return value


def uses_inception(value: str) -> bool:
    return check_fid_features(value) in ("inception", "both")


def uses_classifier(value: str) -> bool:
    return check_fid_features(value) in ("classifier", "both")


def require_torch_fidelity() -> None:
    """Refuse, with the way out, when torchmetrics or torch-fidelity (its Inception v3) is not installed."""
    try:
        import torch_fidelity  # noqa: F401
        import torchmetrics  # noqa: F401
    except ImportError as error:
        raise MubenchError(
            f"--fid-features inception needs torchmetrics and torch-fidelity ({error}): {INSTALL_HINT}. "
            "torchmetrics' Inception v3 loads torch-fidelity's FID weights, which are downloaded from GitHub "
            "on first use (so not offline); without them use --fid-features classifier (the default)"
        ) from error


def inception_extractor() -> nn.Module:
    """torchmetrics' Inception v3 of ``FrechetInceptionDistance(feature=2048)``: uint8 RGB → [N, 2048]."""
    require_torch_fidelity()
    from torchmetrics.image.fid import FrechetInceptionDistance

    try:
        return FrechetInceptionDistance(feature=INCEPTION_FEATURES).inception
    except Exception as error:  # the weights' download (URLError, OSError, a checksum) in any of its forms
        raise MubenchError(
            f"could not load the Inception v3 weights of --fid-features inception ({type(error).__name__}: "
            f"{error}): torch-fidelity downloads them from GitHub on first use, which needs the network "
            f"(and {INSTALL_HINT}); offline, use --fid-features classifier (the default)"
        ) from error


def uint8_rgb(images: torch.Tensor) -> torch.Tensor:
    """Images ``[N, C, H, W]`` in [-1, 1] as uint8 RGB ``[N, 3, H, W]`` (one channel replicated)."""
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    if images.shape[1] != 3:
        raise MubenchError(f"Inception features need 1- or 3-channel images, got {images.shape[1]} channels")
    return ((images.clamp(-1.0, 1.0) + 1.0) * 127.5).round().to(torch.uint8)


class _Given(nn.Module):
    """A feature "extractor" that returns its input: torchmetrics' metrics on features computed once."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = int(num_features)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def torchmetrics_distances(generated: torch.Tensor, real: torch.Tensor, seed: int) -> tuple[float, float]:
    """(FID, KID) of two feature sets ``[N, D]`` by torchmetrics' ``FrechetInceptionDistance`` and
    ``KernelInceptionDistance``; KID's subsets are drawn under ``seed`` (torch's global generator is left
    as it was)."""
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    generated, real = generated.double().cpu(), real.double().cpu()
    if len(generated) < 2 or len(real) < 2:
        raise MubenchError(f"Inception FID/KID need 2 images a side, got {len(generated)} and {len(real)}")
    fid = FrechetInceptionDistance(feature=_Given(real.shape[1]))
    fid.update(real, real=True)
    fid.update(generated, real=False)
    size = min(len(generated), len(real), KID_MAX_SUBSET_SIZE)
    with warnings.catch_warnings():  # "will save all extracted features": two small arrays here
        warnings.simplefilter("ignore", UserWarning)
        kid = KernelInceptionDistance(feature=_Given(real.shape[1]), subsets=KID_SUBSETS, subset_size=size)
    kid.update(real, real=True)
    kid.update(generated, real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        kid_mean, _ = kid.compute()
    return float(fid.compute()), float(kid_mean)


class InceptionDistances:
    """FID and KID of generated images against real ones, the real images' features computed once."""

    def __init__(
        self, real_images: torch.Tensor, extractor: nn.Module, *, device: Any = "cpu", batch_size: int = 64
    ) -> None:
        self.extractor = extractor.to(device).eval()
        self.device, self.batch_size = device, int(batch_size)
        self.real = self.features(real_images)

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The extractor's features ``[N, D]`` (float64, CPU) of images ``[N, C, H, W]`` in [-1, 1]."""
        out = []
        for start in range(0, len(images), self.batch_size):
            chunk = uint8_rgb(images[start : start + self.batch_size]).to(self.device)
            out.append(self.extractor(chunk).reshape(len(chunk), -1).double().cpu())
        return torch.cat(out)

    def __call__(self, generated_images: torch.Tensor, seed: int) -> dict[str, float]:
        fid, kid = torchmetrics_distances(self.features(generated_images), self.real, seed)
        return {"fid_inception": fid, "kid_inception": kid}
