"""Which weights are "the last k layers" of a model, for the methods that retrain only those (EU-k, CF-k).

DeepUnlearn's code names them for two architectures (a torchvision ResNet's ``layer1..layer4``, a
TinyViT's layers) plus the classifier. Here the same idea is read off any Hugging Face model:

* the **head** is every weight outside the backbone (``model.base_model_prefix``, e.g. ``resnet``,
  ``vit``, ``wav2vec2``): the classifier and whatever projects into it;
* the **blocks** are the children of the backbone's main stack, the last ``nn.ModuleList`` (in
  registration order) with at least two children that hold weights: a ResNet's stages, a transformer's
  layers. A backbone without one falls back to its direct children that hold weights.

``last_k_parameter_names(model, k)`` names the weights of the last k blocks and the head.
"""

from __future__ import annotations

from torch import nn

from ..errors import MubenchError


def _has_weights(module: nn.Module) -> bool:
    return any(True for _ in module.parameters())


def backbone_of(model: nn.Module) -> tuple[str, nn.Module] | None:
    """(prefix, module) of the model's backbone, or None when it declares none."""
    prefix = getattr(model, "base_model_prefix", "")
    backbone = getattr(model, prefix, None) if prefix else None
    return (prefix, backbone) if isinstance(backbone, nn.Module) and backbone is not model else None


def block_names(model: nn.Module) -> list[str]:
    """Qualified names of the backbone's blocks, first to last (see the module docstring)."""
    found = backbone_of(model)
    prefix, root = found if found is not None else ("", model)
    stacks = [
        (name, module)
        for name, module in root.named_modules()
        if isinstance(module, nn.ModuleList) and sum(_has_weights(c) for c in module) >= 2
    ]
    if stacks:
        name, stack = stacks[-1]
        children = [f"{name}.{i}" for i, child in enumerate(stack) if _has_weights(child)]
    else:
        children = [name for name, child in root.named_children() if _has_weights(child)]
    return [f"{prefix}.{c}" if prefix else c for c in children]


def head_parameter_names(model: nn.Module) -> list[str]:
    """Weights outside the backbone; without a declared backbone, those of the last child with weights."""
    found = backbone_of(model)
    if found is not None:
        prefix = found[0] + "."
        return [name for name, _ in model.named_parameters() if not name.startswith(prefix)]
    children = [name for name, child in model.named_children() if _has_weights(child)]
    if not children:
        return []
    last = children[-1] + "."
    return [name for name, _ in model.named_parameters() if name.startswith(last)]


def last_k_parameter_names(model: nn.Module, k: int) -> list[str]:
    """Names of the weights of the last ``k`` blocks and of the head (``k = 0``: the head only)."""
    blocks = block_names(model)
    if k < 0 or k > len(blocks):
        raise MubenchError(
            f"num_blocks must be between 0 and {len(blocks)} (the blocks of this "
            f"{type(model).__name__}: {blocks}), got {k}"
        )
    chosen = tuple(f"{b}." for b in blocks[len(blocks) - k :]) if k else ()
    head = set(head_parameter_names(model))
    names = [n for n, _ in model.named_parameters() if n in head or (chosen and n.startswith(chosen))]
    if not names:
        raise MubenchError(f"found no head weights in {type(model).__name__} to retrain")
    return names


def modules_owning(model: nn.Module, names: list[str]) -> list[nn.Module]:
    """The submodules that directly own the named weights (what a re-initialisation resets)."""
    wanted = set(names)
    owners = []
    for module_name, module in model.named_modules():
        own = {f"{module_name}.{p}" if module_name else p for p, _ in module.named_parameters(recurse=False)}
        if own & wanted:
            owners.append(module)
    return owners
