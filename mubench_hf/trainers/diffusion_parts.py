"""What the text-to-image methods (ESD, CA, FMN, EraseDiff, Scissorhands) share: which weights they train.

The diffusion unlearning papers train a named part of the UNet and keep the text encoder frozen:

* ``xattn``: the cross-attention layers (``attn2``: where the prompt enters; ESD-x, FMN);
* ``xattn_kv``: only their key and value projections of the prompt (concept ablation's default);
* ``noxattn``: every UNet weight but the cross-attention ones (ESD-u, for objects);
* ``unet``: the whole UNet; ``full``: the UNet and the text encoder (a latent model's VAE never trains).

``select_trainable`` sets ``requires_grad`` accordingly before ``Trainer`` builds its optimizer (which takes
the trainable weights only), and refuses a model without a ``unet`` (a classifier or a language model).
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..errors import MubenchError

PARAMETER_GROUPS = ("xattn", "xattn_kv", "noxattn", "unet", "full")


def _in_group(name: str, group: str) -> bool:
    if name.startswith("vae."):  # a latent model's image codec is never trained
        return False
    if group == "full":
        return True
    if not name.startswith("unet."):
        return False
    cross = ".attn2." in name
    if group == "xattn":
        return cross
    if group == "xattn_kv":
        return cross and (".to_k." in name or ".to_v." in name)
    if group == "noxattn":
        return not cross
    return True  # unet


def unwrap(model: nn.Module) -> nn.Module:
    while hasattr(model, "module") and isinstance(model.module, nn.Module):
        model = model.module
    return model


def select_trainable(model: nn.Module, group: str, method: str) -> int:
    """Train only the weights of ``group`` (see the module docstring); returns how many weights train."""
    if group not in PARAMETER_GROUPS:
        raise MubenchError(
            f"{method}: parameter group must be one of {list(PARAMETER_GROUPS)}, got {group!r}"
        )
    if not hasattr(unwrap(model), "unet"):
        raise MubenchError(
            f"{method} unlearns text-to-image models (a UNet); {type(model).__name__} has none"
        )
    count = 0
    for name, param in unwrap(model).named_parameters():
        param.requires_grad_(_in_group(name, group))
        count += param.numel() if param.requires_grad else 0
    if not count:
        raise MubenchError(f"{method}: parameter group {group!r} holds no weight of this model")
    return count


def prompt_ids(model: nn.Module, prompts: list[str], like: Any) -> Any:
    """Token ids of ``prompts`` for ``model``, on the device of tensor ``like``."""
    return unwrap(model).prompt_ids(prompts).to(like.device)
