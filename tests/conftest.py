"""Shared fixtures. Tests never reach the network: the Hub is switched off before anything imports it."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# pytest-xdist workers (make test runs two) each get their own copy of the evaluate modules that tests
# load: two processes importing a module while the other rewrites it in one shared cache race.
if os.environ.get("PYTEST_XDIST_WORKER"):
    import tempfile

    os.environ["HF_MODULES_CACHE"] = tempfile.mkdtemp(
        prefix=f"hf-modules-{os.environ['PYTEST_XDIST_WORKER']}-"
    )

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


# --------------------------------------------------------------------------- the local test hub
# Module attributes that hold the Hub endpoint, captured when their library was imported.
_ENDPOINT_ATTRIBUTES = ("ENDPOINT", "HF_ENDPOINT", "HUGGINGFACE_CO_URL_TEMPLATE", "HUB_DATASETS_URL")
_HUB_LIBRARIES = ("huggingface_hub", "datasets", "transformers", "evaluate")


def _point_hub_clients_at(url: str, monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """Send every Hub call of this process (and of subprocesses) to ``url``, online, with a test token.

    huggingface_hub, datasets and evaluate read HF_ENDPOINT and the offline switches once, at import, into
    module constants; other tests may have imported them already, so the constants are patched too.
    ``home`` replaces the Hub cache and token folder, so the user's own cache and token are never used.
    """
    import sys

    import datasets.config
    import huggingface_hub.constants as hf_constants
    import huggingface_hub.hf_api

    env = {
        "HF_ENDPOINT": url,
        "HF_TOKEN": "hf_mubench_test_token",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_OFFLINE": "0",
        "HF_DATASETS_OFFLINE": "0",
        "HF_UPDATE_DOWNLOAD_COUNTS": "0",
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(home / "hub"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)

    old = hf_constants.ENDPOINT
    for module_name, module in list(sys.modules.items()):
        if module is None or module_name.split(".")[0] not in _HUB_LIBRARIES:
            continue
        namespace = vars(module)  # not getattr: transformers' lazy modules would import on access
        for attr in _ENDPOINT_ATTRIBUTES:
            value = namespace.get(attr)
            if isinstance(value, str) and value.startswith(old):
                monkeypatch.setattr(module, attr, url + value[len(old) :])
    monkeypatch.setattr(huggingface_hub.hf_api.api, "endpoint", url)  # the HfApi behind module functions
    transformers_hub = sys.modules.get("transformers.utils.hub")
    if transformers_hub is not None:  # Trainer.push_to_hub's shared HfApi, built with an earlier endpoint
        monkeypatch.setattr(transformers_hub, "_hf_api", None)
    monkeypatch.setattr(hf_constants, "HF_URL_HOSTS", hf_constants.HF_URL_HOSTS | {"127.0.0.1"})
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_XET", True)  # the test hub speaks LFS, not Xet
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(hf_constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", False)
    # Neither may leave the machine: download counts ping S3, parquet-export infos a datasets-server host.
    monkeypatch.setattr(datasets.config, "HF_UPDATE_DOWNLOAD_COUNTS", False)
    monkeypatch.setattr(datasets.config, "USE_PARQUET_EXPORT", False)


def _forget_hub_connections() -> None:
    """Drop pooled HTTP connections and cached HfFileSystem instances (they know the old endpoint)."""
    from huggingface_hub import HfFileSystem
    from huggingface_hub.utils._http import close_session

    close_session()
    HfFileSystem.clear_instance_cache()


@pytest.fixture
def hub_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """A local Hub-protocol server (tests/hub_server.py) that every Hub client in the test talks to.

    Inside the test the Hub is online, HF_ENDPOINT is the server's URL and HF_TOKEN is set; offline
    mode, the endpoint and the token come back when the test ends, and the server stops.
    """
    from tests.hub_server import LocalHub

    with LocalHub() as hub:
        _point_hub_clients_at(hub.url, monkeypatch, tmp_path / "hf_home")
        _forget_hub_connections()
        try:
            yield hub
        finally:
            _forget_hub_connections()
        # A call the test hub cannot answer means tests/hub_server.py lags behind huggingface_hub.
        assert hub.unrouted == [], f"requests the test hub has no route for: {hub.unrouted}"


# ----------------------------------------------------------------------------- unlearning trainers
@pytest.fixture
def one_torch_thread():
    """Tiny models run fastest on one thread (and the test machine has two cores for everything)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def fresh_reference_cache():
    """The process's reference cache, empty before and after the test (its counters read by the test)."""
    from mubench_hf.kinds.reference_cache import REFERENCE_CACHE

    REFERENCE_CACHE.clear()
    yield REFERENCE_CACHE
    REFERENCE_CACHE.clear()


def _load_digits_config(repo: Path, config: str, cache: Path):
    import datasets

    datasets.disable_progress_bars()
    return datasets.load_dataset(str(repo), config, cache_dir=str(cache))


@pytest.fixture(scope="session")
def digits_del5(digits_repo: Path, tmp_path_factory: pytest.TempPathFactory):
    """The raw ``digits_del5`` DatasetDict: train / forget (62 rows) / retain / validation / test."""
    return _load_digits_config(digits_repo, "digits_del5", tmp_path_factory.mktemp("hf_cache_del5"))


@pytest.fixture(scope="session")
def digits_class3(digits_repo: Path, tmp_path_factory: pytest.TempPathFactory):
    """The raw ``digits_class3`` DatasetDict: the forget set is every training digit 3."""
    return _load_digits_config(digits_repo, "digits_class3", tmp_path_factory.mktemp("hf_cache_class3"))


@pytest.fixture(scope="session")
def digits_base_model_dir(digits_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The original model θo: a tiny ResNet trained by the product's own ``train_base`` on the whole
    digits train split (best epoch on validation), saved once per session; tests load their own copy
    with ``from_pretrained``."""
    import torch

    from mubench_hf.reference_models import RecipeArguments, train_base

    out = tmp_path_factory.mktemp("digits_base_model") / "base"
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        args = RecipeArguments(
            output_dir=str(out), seed=0, use_cpu=True, disable_tqdm=True, logging_strategy="no"
        )
        train_base(str(digits_repo), "digits", "tiny:resnet", out, args,
                   cache_dir=str(tmp_path_factory.mktemp("hf_cache_base")), quiet=True)  # fmt: skip
    finally:
        torch.set_num_threads(before)
    return out


@pytest.fixture
def tiny_model_dir(tmp_path: Path) -> Path:
    """A seeded, tiny grey-image ResNet classifier for the digits task, saved with save_pretrained (no card)."""
    import torch
    from transformers import ResNetConfig, ResNetForImageClassification

    from mubench_hf import get_task

    digits = get_task("digits")
    torch.manual_seed(0)
    config = ResNetConfig(
        num_channels=1,
        embedding_size=8,
        hidden_sizes=[8, 16],
        depths=[1, 1],
        num_labels=digits.num_labels,
        id2label=digits.id2label,
        label2id=digits.label2id,
    )
    folder = tmp_path / "tiny_model"
    ResNetForImageClassification(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def hf_cache(tmp_path_factory):
    """Offline mode and a private evaluate cache for a module's metric-module tests, so nothing outside
    the test is read or written."""
    import evaluate

    root = tmp_path_factory.mktemp("hf_home")
    modules = root / "modules"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HOME", str(root))
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("HF_EVALUATE_OFFLINE", "1")
        mp.setenv("HF_MODULES_CACHE", str(modules))
        # evaluate reads these at import time, so the module-level copies are patched as well
        mp.setattr(evaluate.config, "HF_EVALUATE_OFFLINE", True)
        mp.setattr(evaluate.config, "HF_MODULES_CACHE", modules)
        # A package imported from another cache earlier in the session would shadow ours.
        for name in [m for m in sys.modules if m == "evaluate_modules" or m.startswith("evaluate_modules.")]:
            mp.delitem(sys.modules, name)
        mp.syspath_prepend(str(modules))
        yield root
        # Modules imported from this private cache must not shadow the shared one for later tests.
        for name in [m for m in sys.modules if m == "evaluate_modules" or m.startswith("evaluate_modules.")]:
            del sys.modules[name]


# --------------------------------------------------------------------------- text-to-image (digits_t2i)
@pytest.fixture(scope="session")
def t2i_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The digits_t2i deletion repo with del5 and a class-wise config for digit 3, built once."""
    from mubench_hf import build_splits

    out = tmp_path_factory.mktemp("t2i_repo") / "mubench"
    build_splits("digits_t2i", out, ratios=[5], forget_classes=[3], show_progress=False)
    return out


@pytest.fixture(scope="session")
def t2i_class3(t2i_repo: Path, tmp_path_factory: pytest.TempPathFactory):
    """The raw ``digits_t2i_class3`` DatasetDict (forget: every training 3)."""
    import datasets

    datasets.disable_progress_bars()
    return datasets.load_dataset(
        str(t2i_repo), "digits_t2i_class3", cache_dir=str(tmp_path_factory.mktemp("t2i_cache"))
    )
