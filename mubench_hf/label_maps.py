"""A checkpoint's class order against its task's: re-map it, or refuse it, never score it silently wrong.

A Hub classifier names its output rows in ``config.id2label``. When those names are the task's class names
in another order, row ``i`` of the checkpoint is not class ``i`` of the task; scoring it as it is would
count right answers as wrong. So, when a checkpoint is loaded for a classification task:

* the same names in the same order (compared without case), or transformers' generic
  ``LABEL_0 ... LABEL_{k-1}`` (no names at all): accepted as they are;
* the same names in another order: the classification layer's output rows (weight and bias) are permuted
  into the task's order, which is said once per checkpoint and task;
* other names: refused, with both orders in the error.

Either way the model leaves with the task's ``id2label``/``label2id``, so saved models and cards name the
classes alike.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from .errors import MubenchError

GENERIC_LABEL = re.compile(r"^LABEL_(\d+)$")
# names of the layers that produce a classifier's logits in transformers' models (classifier, score,
# head, fc, out_proj of RoBERTa-style heads; DeiT has two, both permuted)
HEAD_WORDS = ("classifier", "score", "head", "fc", "out_proj", "logits")
_ANNOUNCED: set[tuple[str, str]] = set()


def checkpoint_class_names(config: Any) -> list[str] | None:
    """The class names of a model config in output-row order (``None`` without an ``id2label``)."""
    id2label = getattr(config, "id2label", None)
    if not id2label:
        return None
    by_index = {int(key): str(value) for key, value in id2label.items()}
    return [by_index.get(i, f"LABEL_{i}") for i in range(len(by_index))]


def is_generic(names: list[str]) -> bool:
    """Whether ``names`` are transformers' placeholders ``LABEL_0 ... LABEL_{k-1}``, in order."""
    return all((m := GENERIC_LABEL.match(name)) and int(m.group(1)) == i for i, name in enumerate(names))


def row_permutation(checkpoint: list[str], task: list[str]) -> list[int] | None:
    """Row of the checkpoint that becomes row ``j`` (class ``task[j]``); ``None`` when no re-mapping is
    needed. Raises when the names do not match."""
    if is_generic(checkpoint):
        return None
    # names are compared without case or surrounding space: "Positive" is the task's "positive"
    ours, theirs = [_key(name) for name in task], [_key(name) for name in checkpoint]
    if theirs == ours:
        return None
    if sorted(theirs) != sorted(ours) or len(set(ours)) != len(ours):
        raise MubenchError(
            f"the checkpoint's classes {checkpoint} (its config's id2label, in output order) are not the "
            f"task's classes {task}; use a checkpoint trained on this task's classes, or start a new head "
            "(build_model(..., new_head=True))"
        )
    row_of = {name: i for i, name in enumerate(theirs)}
    return [row_of[name] for name in ours]


def _key(name: str) -> str:
    return name.strip().casefold()


def output_layers(model: Any, num_labels: int) -> list[Any]:
    """The linear layers whose output rows are the model's classes."""
    import torch

    linear = [
        (name, module)
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and module.out_features == num_labels
    ]
    heads = [module for name, module in linear if any(word in name.lower() for word in HEAD_WORDS)]
    if heads:
        return heads
    return [linear[0][1]] if len(linear) == 1 else []


def align_labels(model: Any, task: Any) -> Any:
    """``model`` with its output rows in the order of ``task.class_names`` (see the module docstring)."""
    import torch

    config = model.config
    names = list(task.class_names)
    checkpoint = checkpoint_class_names(config)
    permutation = row_permutation(checkpoint, names) if checkpoint is not None else None
    if permutation is not None:
        layers = output_layers(model, len(names))
        if not layers:
            raise MubenchError(
                f"the checkpoint's classes {checkpoint} are the task's {names} in another order, but its "
                "classification layer was not found to re-map them; save it with the task's order"
            )
        index = torch.as_tensor(permutation)
        with torch.no_grad():
            for layer in layers:
                layer.weight.copy_(layer.weight[index])
                if layer.bias is not None:
                    layer.bias.copy_(layer.bias[index])
        key = (str(getattr(config, "name_or_path", "") or getattr(config, "_name_or_path", "")), task.name)
        if key not in _ANNOUNCED:
            _ANNOUNCED.add(key)
            warnings.warn(
                f"the checkpoint {key[0] or ''} orders its classes {checkpoint}; task {task.name!r} orders "
                f"them {names}: its output rows were re-mapped to the task's order",
                stacklevel=2,
            )
    config.id2label, config.label2id = task.id2label, task.label2id
    return model
