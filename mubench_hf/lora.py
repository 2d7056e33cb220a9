"""LoRA adapters for any backbone, with target modules found in the model instead of a per-family list.

PEFT needs the names of the layers to adapt. Families name them differently (``query``/``value`` in BERT
and ViT, ``q_proj``/``v_proj`` in wav2vec2, Whisper and Llama, ``c_attn`` in GPT-2, convolutions in
ResNet), so a hard-coded table breaks on the next family. Instead we walk the model: the linear layers
(``nn.Linear`` or GPT-2's ``Conv1D``) that live inside an attention module of the backbone are the
targets; a backbone without attention (a ResNet) gets its convolutions and linear layers. Everything
outside the backbone (the classification head) is trained in full and saved with the adapter
(``modules_to_save``), because a head for new labels has nothing pretrained to keep.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from .errors import MubenchError

# A module is "attention" when its class name says so: BertSelfAttention, ViTAttention, Wav2Vec2Attention,
# WhisperAttention, GPT2Attention, LlamaAttention, VideoMAESelfAttention, ViltSelfAttention ...
ATTENTION_MARKERS = ("attention", "attn")


def _is_linear(module: nn.Module) -> bool:
    # GPT-2 and a few others use transformers' Conv1D, a linear layer with transposed weights.
    return isinstance(module, nn.Linear) or type(module).__name__ == "Conv1D"


def _is_attention(module: nn.Module) -> bool:
    name = type(module).__name__.lower()
    return any(marker in name for marker in ATTENTION_MARKERS)


def backbone_prefix(model: nn.Module) -> str | None:
    """The attribute holding the backbone (``model.base_model_prefix`` when the model has that child)."""
    prefix = getattr(model, "base_model_prefix", None)
    if prefix and isinstance(getattr(model, prefix, None), nn.Module):
        return prefix
    return None


def _has_parameters(module: nn.Module) -> bool:
    return any(True for _ in module.parameters())


def head_modules(model: nn.Module) -> list[str]:
    """Top-level children outside the backbone that hold parameters: the task head(s).

    Models whose backbone is not under ``base_model_prefix`` (Whisper's audio classifier keeps its
    ``encoder`` at the top) fall back to: the children without any attention module inside.
    """
    prefix = backbone_prefix(model)
    children = [(name, child) for name, child in model.named_children() if _has_parameters(child)]
    if prefix is not None:
        return [name for name, _ in children if name != prefix]
    with_attention = {name for name, child in children if any(_is_attention(m) for m in child.modules())}
    if not with_attention:
        return []
    return [name for name, _ in children if name not in with_attention]


def lora_target_modules(model: nn.Module) -> list[str]:
    """The qualified names of the layers LoRA should adapt in ``model``.

    The linear layers inside the backbone's attention modules (queries, keys, values and output
    projections); for a backbone with no attention, its convolutions and linear layers. Heads are
    never targets. Full names are returned because leaf names such as ``dense`` also occur outside
    attention (BERT's feed-forward), where PEFT's suffix matching would pick them up too.
    """
    prefix = backbone_prefix(model)
    heads = tuple(f"{h}." for h in head_modules(model))
    names = [n for n, _ in model.named_modules()]
    modules = dict(model.named_modules())

    def in_backbone(name: str) -> bool:
        return bool(name) and not name.startswith(heads) and (prefix is None or name.startswith(f"{prefix}."))

    attention_roots = [n for n in names if in_backbone(n) and _is_attention(modules[n])]
    targets = [
        n
        for n in names
        if in_backbone(n)
        and _is_linear(modules[n])
        and any(n.startswith(f"{root}.") for root in attention_roots)
    ]
    if not targets:
        targets = [
            n
            for n in names
            if in_backbone(n) and (_is_linear(modules[n]) or isinstance(modules[n], nn.Conv2d))
        ]
    if not targets:
        raise MubenchError(
            f"found no linear, Conv1D or Conv2d layer to adapt in {type(model).__name__}; pass "
            "target_modules= with the names of the layers LoRA should adapt"
        )
    return targets


@dataclass(frozen=True)
class LoraPlan:
    """What :func:`apply_lora` adapted: for cards, logs and the PEFT study."""

    target_modules: tuple[str, ...]
    modules_to_save: tuple[str, ...]
    trainable_parameters: int
    total_parameters: int

    @property
    def trainable_share(self) -> float:
        """Trainable parameters (adapters + saved head) ÷ the parameters of the model before wrapping."""
        return self.trainable_parameters / self.total_parameters


def apply_lora(
    model: nn.Module,
    *,
    r: int = 8,
    alpha: int = 16,
    dropout: float = 0.0,
    target_modules: Sequence[str] | None = None,
    modules_to_save: Sequence[str] | None = None,
    train_head: bool = True,
) -> tuple[Any, LoraPlan]:
    """Wrap ``model`` in a PEFT LoRA model; returns it and a :class:`LoraPlan` of what is trainable.

    Args:
        model: a transformers model (classifier or language model).
        r, alpha, dropout: LoRA rank, scaling numerator (the update is scaled by ``alpha / r``) and dropout.
        target_modules: layer names to adapt; found by :func:`lora_target_modules` when not given.
        modules_to_save: modules trained in full and saved with the adapter; default the task head
            (everything outside the backbone) when ``train_head``, else none. Language models should pass
            ``train_head=False``: their output layer is the (often tied) embedding matrix.
    """
    from peft import LoraConfig, get_peft_model

    if r < 1:
        raise MubenchError(f"LoRA rank r must be a positive integer, got {r}")
    if not alpha > 0:  # alpha 0 scales every update by 0: the adapters would train and change nothing
        raise MubenchError(f"LoRA alpha must be > 0 (the update is scaled by alpha/r), got {alpha}")
    targets = list(target_modules) if target_modules else lora_target_modules(model)
    saved = (
        list(modules_to_save) if modules_to_save is not None else (head_modules(model) if train_head else [])
    )
    config = LoraConfig(
        r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets, modules_to_save=saved or None
    )
    total = sum(p.numel() for p in model.parameters())
    peft_model = get_peft_model(model, config)
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    return peft_model, LoraPlan(tuple(targets), tuple(saved), trainable, total)


def rank_for_share(model: nn.Module, share: float, *, max_rank: int = 1024, **lora_kwargs: Any) -> int:
    """The smallest LoRA rank whose trainable share of ``model``'s parameters reaches ``share``.

    Counted without building adapters: each adapted ``[out, in]`` layer adds ``r·(in + out)`` parameters
    (``r·(c_in·k·k + c_out)`` for a k×k convolution), and the saved head counts in full.
    """
    if not 0 < share < 1:
        raise MubenchError(f"the trainable share must lie in (0, 1), got {share}")
    modules = dict(model.named_modules())
    targets = list(lora_kwargs.get("target_modules") or lora_target_modules(model))
    per_rank = 0
    for name in targets:
        layer = modules[name]
        if isinstance(layer, nn.Conv2d):
            kh, kw = layer.kernel_size
            per_rank += layer.in_channels * kh * kw // layer.groups + layer.out_channels
        else:
            weight = layer.weight
            per_rank += weight.shape[0] + weight.shape[1]
    head = sum(p.numel() for h in head_modules(model) for p in modules[h].parameters())
    total = sum(p.numel() for p in model.parameters())
    for r in range(1, max_rank + 1):
        if (head + r * per_rank) / total >= share:
            return r
    raise MubenchError(f"no LoRA rank up to {max_rank} makes {share:.0%} of {type(model).__name__} trainable")
