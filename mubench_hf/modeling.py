"""Build or load a classifier for a task: any checkpoint or config of the ``AutoModelFor...Classification``
class of the task's modality (``mubench_hf.modalities``), or a PEFT adapter folder, with the task's labels.

Nothing here downloads anything by itself: a model id is passed to ``from_pretrained`` as given, so
offline runs use local folders (or the Hub cache).

Loading runs nobody's code: ``trust_remote_code`` is passed as ``False`` unless the caller says so, and
weights are read from safetensors only; a source that offers only pickled weights (``pytorch_model.bin``,
``adapter_model.bin``; unpickling can run arbitrary code) is refused unless ``allow_pickle=True``. The
commands set both from ``--trust_remote_code`` / ``--allow-pickle`` with ``loading_policy(...)``, which
every load below (and ``processing.load_processor``) reads when not given the options directly.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
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
from .modalities.image import image_channels  # noqa: F401  (kept importable from here)
from .secrets import redact
from .tasks import Task, get_task

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


def _policy(trust_remote_code: bool | None, allow_pickle: bool | None) -> LoadingPolicy:
    current = current_loading_policy()
    return LoadingPolicy(
        trust_remote_code=current.trust_remote_code if trust_remote_code is None else bool(trust_remote_code),
        allow_pickle=current.allow_pickle if allow_pickle is None else bool(allow_pickle),
    )


def auto_class_for(task: str | Task) -> type:
    """The ``AutoModelFor...Classification`` class of the task's modality."""
    return get_task(task).modality_spec.auto_class()


def label_kwargs(task: str | Task) -> dict[str, Any]:
    """``num_labels``, ``id2label`` and ``label2id`` of the task, for configs and ``from_pretrained``."""
    task = get_task(task)
    return {"num_labels": task.num_labels, "id2label": task.id2label, "label2id": task.label2id}


def _modality_builds(modality: Any, config: PretrainedConfig) -> bool | None:
    """Whether ``modality``'s Auto class builds models of ``config``'s class (``None``: it cannot say, e.g.
    a plug-in's stand-in class without a ``transformers`` config mapping)."""
    mapping = getattr(modality.auto_class(), "_model_mapping", None)
    if mapping is None:
        return None
    if type(config) in mapping:
        return True
    # a custom architecture (trust_remote_code) names the Auto class it plugs into in its auto_map
    return modality.auto_class().__name__ in (getattr(config, "auto_map", None) or {})


def check_model_modality(config: Any, task: str | Task) -> None:
    """Raise, before anything is built or trained, if ``config`` (a config or a model) is not an
    architecture of the task's modality: the modality's ``AutoModelFor...`` class has no model for it."""
    from .modalities import get_modality, list_modalities

    task = get_task(task)
    config = getattr(config, "config", config)
    if not isinstance(config, PretrainedConfig):
        return
    modality = task.modality_spec
    if _modality_builds(modality, config) is not False:
        return
    kind = type(config).__name__.removesuffix("Config")
    others = [name for name in list_modalities() if _modality_builds(get_modality(name), config)]
    belongs = (
        f"a model for {' / '.join(others)} tasks" if others else "not a classifier of any known modality"
    )
    auto = modality.auto_class()
    families = ", ".join(sorted(modality.tiny_configs())) or "see its model mapping"
    raise MubenchError(
        f"the model is a {kind} ({config.model_type}), {belongs}, but task {task.name!r} takes "
        f"{modality.name} inputs: {auto.__name__} has no {kind} model; use a model for {modality.name} "
        f"tasks (e.g. {families}; tiny:<name> builds a small one)"
    )


def check_model_labels(model: Any, task: str | Task) -> None:
    """Raise if ``model`` is not of the task's modality or does not predict exactly the task's number
    of classes."""
    task = get_task(task)
    check_model_modality(getattr(model, "config", None), task)
    num_labels = getattr(getattr(model, "config", None), "num_labels", None)
    if num_labels is not None and num_labels != task.num_labels:
        raise MubenchError(
            f"the model predicts {num_labels} classes but task {task.name!r} has {task.num_labels} "
            f"({', '.join(task.class_names[:5])}{', ...' if task.num_labels > 5 else ''}); "
            "use a model trained on this task, or build one with build_model(..., new_head=True)"
        )


def build_model(
    task: str | Task,
    model: str | os.PathLike | PretrainedConfig,
    *,
    new_head: bool = False,
    num_channels: int | None = None,
    trust_remote_code: bool | None = None,
    allow_pickle: bool | None = None,
    **from_pretrained_kwargs: Any,
) -> PreTrainedModel:
    """A classifier for ``task``.

    Args:
        task: task name or ``Task``; gives the modality and the labels.
        model: a config (fresh weights; the task's labels are set on a copy, and ``num_channels``
            when given), a checkpoint folder or Hub id, or a PEFT adapter folder (its base model is
            loaded first; the adapter stays trainable).
        new_head: for checkpoints trained on something else: replace the classification head with
            one for the task's classes. Without it a checkpoint must already have the task's
            ``num_labels``.
        num_channels: image tasks with a config: input channels (1 for grey images such as digits);
            other modalities ignore it.
        trust_remote_code: run code from the model repo (default: the ``loading_policy``, else no).
        allow_pickle: load pickled weights when the source has no safetensors (default: the
            ``loading_policy``, else refused).
    """
    policy = _policy(trust_remote_code, allow_pickle)
    from_pretrained_kwargs = {
        **from_pretrained_kwargs,
        "trust_remote_code": policy.trust_remote_code,
        "allow_pickle": policy.allow_pickle,
    }
    task = get_task(task)
    if isinstance(model, PretrainedConfig):
        return _from_config(task, model, {} if num_channels is None else {"num_channels": num_channels})
    auto_class = auto_class_for(task)

    path = Path(model)
    if (path / "adapter_config.json").is_file():
        from peft import PeftConfig, PeftModel

        if (
            not policy.allow_pickle
            and not (path / "adapter_model.safetensors").is_file()
            and (path / "adapter_model.bin").is_file()
        ):
            raise MubenchError(_pickle_refusal(str(path), ["adapter_model.bin"]))
        adapter = PeftConfig.from_pretrained(str(path))
        base = build_model(task, adapter.base_model_name_or_path, new_head=new_head, **from_pretrained_kwargs)
        return PeftModel.from_pretrained(base, str(path), is_trainable=True)

    check_model_modality(_readable_config(model), task)  # before any weights are read
    if new_head:
        return load_pretrained(
            auto_class, model, **label_kwargs(task), ignore_mismatched_sizes=True, **from_pretrained_kwargs
        )
    loaded = load_pretrained(auto_class, model, **from_pretrained_kwargs)
    check_model_labels(loaded, task)
    # The task's class order: a checkpoint with its classes in another order is re-mapped, one with other
    # classes refused; the task's names go into the config.
    from .label_maps import align_labels

    return align_labels(loaded, task)


def _from_config(task: Task, config: PretrainedConfig, hints: dict[str, Any]) -> PreTrainedModel:
    """Fresh weights from a copy of ``config`` with the task's labels, adapted by the modality to
    ``hints`` about the data (image channels, ...)."""
    check_model_modality(config, task)
    modality = task.modality_spec
    config = config.__class__.from_dict({**config.to_dict(), **label_kwargs(task)})
    modality.adapt_config(config, **hints)
    return modality.auto_class().from_config(config)


def _pickle_refusal(model: str, pickled: list[str]) -> str:
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
    policy = _policy(trust_remote_code, allow_pickle)
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
            raise MubenchError(_pickle_refusal(str(model), pickled))
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
                raise MubenchError(_pickle_refusal(str(model), pickled)) from None
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


def resolve_model(task: str | Task, model: str | PretrainedConfig, sample: Any) -> PreTrainedModel:
    """A model for ``task`` from ``tiny:<arch>``, a config (object or ``.json`` file), or a checkpoint
    (with a new head when it predicts another number of classes). ``sample`` (any split of the task)
    tells the modality what a model built from a config must know about the data (e.g. how many
    channels the images have)."""
    task = get_task(task)
    if isinstance(model, str) and model.startswith("tiny:"):
        config = tiny_config(task, model.split(":", 1)[1])
    elif isinstance(model, PretrainedConfig):
        config = model
    elif str(model).endswith(".json"):
        if not Path(model).is_file():
            raise MubenchError(f"config file {str(model)!r} does not exist")
        config = AutoConfig.from_pretrained(str(Path(model).parent))
    else:
        config = None
    if config is not None:
        check_model_modality(config, task)  # before the data are looked at for hints
        return _from_config(task, config, task.modality_spec.data_hints(sample, task.input_column))
    config = load_config(model)
    return build_model(task, model, new_head=getattr(config, "num_labels", None) != task.num_labels)


def tiny_config(task: str | Task, architecture: str = "resnet", **overrides: Any) -> PretrainedConfig:
    """A very small config for tests, demos and benchmarks on CPU, with the task's labels.

    The task's modality offers the architectures: ``"resnet"`` (two basic stages, ~74k weights) and
    ``"vit"`` (2 layers, hidden size 32, no dropout) for image tasks, ``"bert"`` (2 layers, hidden size
    32) for text tasks; ``overrides`` replace fields.
    """
    task = get_task(task)
    return task.modality_spec.tiny_config(architecture, **{**label_kwargs(task), **overrides})


def _readable_config(model: str | os.PathLike) -> PretrainedConfig | None:
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
        return AutoConfig.from_pretrained(str(model), trust_remote_code=_policy(None, None).trust_remote_code)
    except (OSError, ValueError) as err:
        raise MubenchError(
            f"cannot read the config of model {str(model)!r}: {str(err).splitlines()[0]}"
        ) from err


def _base_model(model: nn.Module) -> nn.Module:
    # A PEFT model's architecture is its base model's (the adapters are an add-on).
    get_base_model = getattr(model, "get_base_model", None)
    return get_base_model() if callable(get_base_model) else model


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
