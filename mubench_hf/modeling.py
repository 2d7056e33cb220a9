"""Loading models safely, whatever their task kind: the loading policy, ``load_pretrained`` and
``load_config`` with one-line errors, model specs that build fresh weights (``config_from_spec``) and
fresh copies of an architecture (``fresh_model``). How a model is built for a task is its kind's business
(``mubench_hf.kinds``: a classifier with the task's labels, a language model with the tokenizer's vocabulary).

Nothing here downloads anything by itself: a model id is passed to ``from_pretrained`` as given, so
offline runs use local folders (or the Hub cache).

Loading runs nobody's code: ``trust_remote_code`` is passed as ``False`` unless the caller says so, and
weights are read from safetensors only; a source that offers only pickled weights (``pytorch_model.bin``,
``adapter_model.bin``; unpickling can run arbitrary code) is refused unless ``allow_pickle=True``. The
commands set both from ``--trust_remote_code`` / ``--allow-pickle`` with ``loading_policy(...)``, which
every load below (and every kind's ``load_processor``) reads when not given the options directly.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from torch import nn
from transformers import AutoConfig, PretrainedConfig, PreTrainedModel

from .errors import MubenchError
from .secrets import redact

_NO_CONVERSION = "DISABLE_SAFETENSORS_CONVERSION"  # read by transformers' from_pretrained
PICKLED_WEIGHTS = ("pytorch_model.bin", "pytorch_model.bin.index.json", "adapter_model.bin")


@dataclass(frozen=True)
class LoadingPolicy:
    """What loading a model or processor may do beyond reading configs and safetensors."""

    trust_remote_code: bool = False  # run Python code shipped in the model repo
    allow_pickle: bool = False  # unpickle weights (pytorch_model.bin) when no safetensors exist


_SAFE_DEFAULT = LoadingPolicy()
_POLICY: ContextVar[LoadingPolicy | None] = ContextVar("mubench_loading_policy", default=None)


def current_loading_policy() -> LoadingPolicy:
    """The policy in force (the safe default unless inside ``loading_policy(...)``)."""
    return _POLICY.get() or _SAFE_DEFAULT


@contextmanager
def loading_policy(*, trust_remote_code: bool = False, allow_pickle: bool = False) -> Iterator[LoadingPolicy]:
    """Within the block, loads that are not given the options use these (the commands' flags)."""
    policy = LoadingPolicy(trust_remote_code=bool(trust_remote_code), allow_pickle=bool(allow_pickle))
    reset = _POLICY.set(policy)
    try:
        yield policy
    finally:
        _POLICY.reset(reset)


def resolve_policy(trust_remote_code: bool | None, allow_pickle: bool | None) -> LoadingPolicy:
    current = current_loading_policy()
    return LoadingPolicy(
        trust_remote_code=current.trust_remote_code if trust_remote_code is None else bool(trust_remote_code),
        allow_pickle=current.allow_pickle if allow_pickle is None else bool(allow_pickle),
    )


def pickle_refusal(model: str, pickled: list[str]) -> str:
    return (
        f"model {model!r} offers only pickled weights ({', '.join(pickled)}), and unpickling a file can run "
        "arbitrary code, so it is not loaded; if you trust its source pass --allow-pickle "
        "(allow_pickle=True), or load it once and save it with save_pretrained() (safetensors)"
    )


def _remote_files(model: str) -> list[str] | None:
    """The files of Hub repo ``model``, or ``None`` when the Hub cannot say (offline, no such repo)."""
    try:
        from huggingface_hub import list_repo_files

        return list(list_repo_files(model))
    except Exception:  # noqa: BLE001 - only used to explain a failure; from_pretrained's error stands
        return None


def _only_pickled(model: str | os.PathLike) -> list[str]:
    """The pickled weight files of ``model`` when it has pickled weights but no safetensors, else []."""
    path = Path(model)
    names = [p.name for p in path.iterdir()] if path.is_dir() else (_remote_files(str(model)) or [])
    names = [n.split("/")[-1] for n in names if "/" not in n]
    if any(n.endswith(".safetensors") for n in names):
        return []
    return [
        n for n in names if n in PICKLED_WEIGHTS or (n.startswith("pytorch_model-") and n.endswith(".bin"))
    ]


@contextmanager
def _no_conversion_requests() -> Iterator[None]:
    """Keep ``from_pretrained`` from asking the Hub's safetensors-conversion service about a pickle-only
    repo (it may open a pull request on someone else's repo): loading should only read."""
    before = os.environ.get(_NO_CONVERSION)
    os.environ[_NO_CONVERSION] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(_NO_CONVERSION, None)
        else:
            os.environ[_NO_CONVERSION] = before


def load_pretrained(
    auto_class: type,
    model: str | os.PathLike,
    *,
    trust_remote_code: bool | None = None,
    allow_pickle: bool | None = None,
    **kwargs: Any,
) -> PreTrainedModel:
    """``auto_class.from_pretrained(model)`` with one-line errors for what users get wrong: a local
    folder that does not exist, no weights in it, a truncated or corrupt weights file.

    ``trust_remote_code`` is passed explicitly (``False`` unless asked), and weights are read from
    safetensors only (``use_safetensors=True``) unless ``allow_pickle``; both default to the
    ``loading_policy``. A source with only pickled weights is refused with the reason."""
    policy = resolve_policy(trust_remote_code, allow_pickle)
    path = Path(model)
    if not policy.allow_pickle:
        use_safetensors = True
    else:
        # a source known to hold only pickles is loaded as such: transformers would otherwise ask the Hub
        # for a safetensors conversion of it
        use_safetensors = False if _only_pickled(model) else kwargs.get("use_safetensors")
    kwargs = {**kwargs, "trust_remote_code": policy.trust_remote_code, "use_safetensors": use_safetensors}
    looks_local = (
        path.is_absolute() or str(model).startswith((".", "~")) or path.exists() or str(model).count("/") > 1
    )
    if looks_local and not path.exists():
        raise MubenchError(
            f"model folder {str(model)!r} does not exist; pass a trained model folder or a Hub id"
        )
    if path.is_file():
        raise MubenchError(
            f"--model {str(model)!r} is a file; pass the model's folder (it holds config.json) or a GGUF "
            "file (.gguf), which is dequantised into a model folder once"
        )
    if not policy.allow_pickle and path.is_dir():
        pickled = _only_pickled(path)
        if pickled:
            raise MubenchError(pickle_refusal(str(model), pickled))
    try:
        with _no_conversion_requests():
            return auto_class.from_pretrained(str(model), **kwargs)
    except (OSError, RuntimeError, ValueError, SafetensorError) as err:
        if isinstance(err, MubenchError):
            raise
        first = redact((str(err).strip().splitlines() or ["no details"])[0])
        if not policy.allow_pickle and not path.is_dir():
            pickled = _only_pickled(model)
            if pickled:
                raise MubenchError(pickle_refusal(str(model), pickled)) from None
        # the source's own name is left out: a folder may well be called ".../trust_remote_code..."
        if not policy.trust_remote_code and "trust_remote_code" in str(err).replace(str(model), ""):
            raise MubenchError(
                f"model {str(model)!r} needs Python code from its repo (a custom architecture), which is not "
                "run unless asked: pass --trust_remote_code (trust_remote_code=True) if you trust its source"
            ) from None
        if path.is_dir():
            raise MubenchError(
                f"cannot load the model in {str(model)!r} ({type(err).__name__}: {first}); "
                "its weights file may be truncated or corrupt: train it again into that folder "
                "('mubench train-base' / 'mubench retrain' / 'mubench unlearn')"
            ) from err
        raise MubenchError(
            f"cannot load model {str(model)!r}: {first} (offline? pass a local folder)"
        ) from err


def config_from_spec(
    model: str | os.PathLike | PretrainedConfig, tiny: Callable[[str], PretrainedConfig]
) -> PretrainedConfig | None:
    """The config a model spec builds fresh weights from: ``tiny:<arch>`` (``tiny(arch)`` makes it), a config
    object, or a ``config.json`` path; ``None`` for anything else (a checkpoint to load)."""
    if isinstance(model, str) and model.startswith("tiny:"):
        return tiny(model.split(":", 1)[1])
    if isinstance(model, PretrainedConfig):
        return model
    if str(model).endswith(".json"):
        if not Path(model).is_file():
            raise MubenchError(f"config file {str(model)!r} does not exist")
        return AutoConfig.from_pretrained(str(Path(model).parent))
    return None


def readable_config(model: str | os.PathLike) -> PretrainedConfig | None:
    """The config of ``model`` when it can be read, else ``None`` (``load_pretrained`` then says why)."""
    try:
        return load_config(model)
    except MubenchError:
        return None


def load_config(model: str | os.PathLike) -> PretrainedConfig:
    """The config of a checkpoint folder or Hub id (for inspecting a model before loading it)."""
    path = Path(model)
    if path.is_dir() and not (path / "config.json").is_file():
        raise MubenchError(f"{str(model)!r} holds no config.json: it is not a model folder")
    try:
        # reading a config runs no code unless the loading policy allows the repo's own
        return AutoConfig.from_pretrained(
            str(model), trust_remote_code=resolve_policy(None, None).trust_remote_code
        )
    except (OSError, ValueError) as err:
        raise MubenchError(
            f"cannot read the config of model {str(model)!r}: {str(err).splitlines()[0]}"
        ) from err


def _base_model(model: nn.Module) -> nn.Module:
    # A PEFT model's architecture is its base model's (the adapters are an add-on).
    get_base_model = getattr(model, "get_base_model", None)
    return get_base_model() if callable(get_base_model) else model


def load_like(model: nn.Module, path: str | os.PathLike, device: Any) -> nn.Module:
    """A saved model of ``model``'s architecture (its base model's, adapters set aside) loaded from the
    folder ``path`` through :func:`load_pretrained` (the loading policy), frozen, in eval mode on ``device``:
    a report's or an attack's reference (the original or the retrain model)."""
    loaded = load_pretrained(type(_base_model(model)), path)
    loaded.requires_grad_(False)
    return loaded.to(device).eval()


def fresh_model(model: nn.Module, seed: int) -> nn.Module:
    """A model of the same architecture as ``model`` with freshly initialised weights.

    Hugging Face models are rebuilt from their config (their own initialisation scheme); other
    modules are deep-copied and every submodule with ``reset_parameters`` is reset. The CPU random
    generator is seeded for the duration only, so the caller's random state is left as it was.
    """
    base = _base_model(model)
    device = next(base.parameters()).device
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        config = getattr(base, "config", None)
        if config is not None and hasattr(type(base), "_from_config"):
            dtype = next(base.parameters()).dtype
            fresh = type(base)._from_config(copy.deepcopy(config), dtype=dtype)
        else:
            fresh = copy.deepcopy(base).cpu()
            resettable = [m for m in fresh.modules() if callable(getattr(m, "reset_parameters", None))]
            if not resettable:
                raise MubenchError(
                    f"cannot re-initialise a {type(base).__name__}: it has no config and no submodule "
                    "with reset_parameters()"
                )
            for module in resettable:
                module.reset_parameters()
    return fresh.to(device)
