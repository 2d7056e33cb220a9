"""Classifiers for a task: any checkpoint or config of the ``AutoModelFor...Classification`` class of the
task's modality (``mubench_hf.modalities``), or a PEFT adapter folder, with the task's labels.

Loading goes through ``mubench_hf.modeling`` (the loading policy: no repo code, no pickles unless asked).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from transformers import PretrainedConfig, PreTrainedModel

from ...errors import MubenchError
from ...label_maps import align_labels
from ...modalities import get_modality, list_modalities
from ...modeling import (
    config_from_spec,
    load_config,
    load_pretrained,
    pickle_refusal,
    readable_config,
    resolve_policy,
)
from ...tasks import Task, get_task


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
    policy = resolve_policy(trust_remote_code, allow_pickle)
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
            raise MubenchError(pickle_refusal(str(path), ["adapter_model.bin"]))
        adapter = PeftConfig.from_pretrained(str(path))
        base = build_model(task, adapter.base_model_name_or_path, new_head=new_head, **from_pretrained_kwargs)
        return PeftModel.from_pretrained(base, str(path), is_trainable=True)

    check_model_modality(readable_config(model), task)  # before any weights are read
    if new_head:
        return load_pretrained(
            auto_class, model, **label_kwargs(task), ignore_mismatched_sizes=True, **from_pretrained_kwargs
        )
    loaded = load_pretrained(auto_class, model, **from_pretrained_kwargs)
    check_model_labels(loaded, task)
    # The task's class order: a checkpoint with its classes in another order is re-mapped, one with other
    # classes refused; the task's names go into the config.
    return align_labels(loaded, task)


def _from_config(task: Task, config: PretrainedConfig, hints: dict[str, Any]) -> PreTrainedModel:
    """Fresh weights from a copy of ``config`` with the task's labels, adapted by the modality to
    ``hints`` about the data (image channels, ...)."""
    check_model_modality(config, task)
    modality = task.modality_spec
    config = config.__class__.from_dict({**config.to_dict(), **label_kwargs(task)})
    modality.adapt_config(config, **hints)
    return modality.auto_class().from_config(config)


def resolve_model(task: str | Task, model: str | PretrainedConfig, sample: Any) -> PreTrainedModel:
    """A model for ``task`` from ``tiny:<arch>``, a config (object or ``.json`` file), or a checkpoint
    (with a new head when it predicts another number of classes). ``sample`` (any split of the task)
    tells the modality what a model built from a config must know about the data (e.g. how many
    channels the images have)."""
    task = get_task(task)
    config = config_from_spec(model, lambda architecture: tiny_config(task, architecture))
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
