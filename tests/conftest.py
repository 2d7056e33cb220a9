"""Shared fixtures. Tests never reach the network: the Hub is switched off before anything imports it."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture
def fresh_cache(tmp_path: Path) -> str:
    """A cache_dir for load_dataset: local folders are cached by path, not content."""
    path = tmp_path / "hf_cache"
    path.mkdir()
    return str(path)


@pytest.fixture(scope="session")
def digits_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The digits deletion repo with the default ratios and a class-wise config for class 3, built once."""
    from mubench_hf import build_splits

    out = tmp_path_factory.mktemp("digits_repo") / "mubench"
    build_splits("digits", out, forget_classes=[3], show_progress=False)
    return out
