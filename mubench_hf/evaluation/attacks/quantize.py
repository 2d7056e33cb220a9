"""The quantization attack: every weight matrix rounded to ``bits`` bits, round-to-nearest (RTN).

Zhang et al. (ICLR 2025, "Catastrophic failure of LLM unlearning via quantization") found that rounding an
unlearned model's weights to 4 bits brings back much of what gradient ascent and NPO made it forget: the
unlearning moved the weights by less than a quantization step. The attack here is that rounding, simulated in
floating point: per output channel, symmetric, scale = max |w| / (2^(b-1) - 1), ``w -> round(w/scale)*scale``
clipped to ±(2^(b-1) - 1) levels (int8: ±127, int4: ±7). Integer kernels compute the same products up to the
order of float accumulation, so the forget metric after rounding is what a quantized deployment would show.

Implemented here rather than through a quantization library, though its 8-bit weights equal ``optimum-quanto``'s
``qint8`` weights exactly on ``nn.Linear`` (``tests/test_attacks.py``): ``optimum-quanto`` installs on CPU with
torch 2.13 but replaces ``nn.Linear`` only (GPT-2's ``Conv1D`` layers stay in float), its int4 weights are group-wise
affine rather than per-channel RTN, and its first int4 use compiles a C++ extension (135 s on this machine);
``torchao`` quantizes ``nn.Linear`` only too. Every ``nn.Linear``, ``transformers``' ``Conv1D`` and
convolution weight is rounded here, except a language model's output layer (``get_output_embeddings()``, often
tied to the input embeddings), which weight-only quantizers (GPTQ, AWQ, bitsandbytes) keep in float by default;
biases, norms and embeddings stay in float too.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from transformers.pytorch_utils import Conv1D

from ...errors import MubenchError

ROUNDED_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, Conv1D)


def round_to_nearest(weight: torch.Tensor, bits: int, axis: int = 0) -> torch.Tensor:
    """``weight`` rounded to ``bits`` bits per slice along ``axis`` (its output channels), symmetric absmax
    scale (module docstring); same shape and dtype. A slice that is all zeros stays zero."""
    if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 16:
        raise MubenchError(f"bits must be a whole number in [2, 16], got {bits!r}")
    levels = 2 ** (bits - 1) - 1
    w = weight.detach().float()
    others = [d for d in range(w.dim()) if d != axis % max(w.dim(), 1)]
    absmax = w.abs().amax(dim=others, keepdim=True) if others else w.abs()
    scale = torch.where(absmax > 0, absmax / levels, torch.ones_like(absmax))
    return ((w / scale).round().clamp(-levels, levels) * scale).to(weight.dtype)


def _output_axis(module: nn.Module) -> int:
    # transformers' Conv1D stores its weight as (in, out); nn.Linear and convolutions as (out, in, ...)
    return 1 if isinstance(module, Conv1D) else 0


def round_weights_(model: nn.Module, bits: int) -> int:
    """Round ``model``'s layer weights to ``bits`` bits in place (module docstring); returns how many
    weight tensors were rounded."""
    output = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    kept = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    if output is not None and getattr(output, "weight", None) is not None:
        kept.add(id(output.weight))
    done: set[int] = set()
    with torch.no_grad():
        for module in model.modules():
            weight = getattr(module, "weight", None)
            if not isinstance(module, ROUNDED_LAYERS) or weight is None or id(weight) in kept | done:
                continue
            weight.copy_(round_to_nearest(weight, bits, _output_axis(module)))
            done.add(id(weight))
    return len(done)


def plain_copy(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` with any LoRA adapters merged into its weights (what an attacker holds)."""
    twin = copy.deepcopy(model)
    if hasattr(twin, "merge_and_unload"):
        twin = twin.merge_and_unload()
    return twin


def rounded_copy(model: nn.Module, bits: int) -> nn.Module:
    """A copy of ``model`` with its weights rounded to ``bits`` bits; ``model`` itself is not changed."""
    twin = plain_copy(model)
    if round_weights_(twin, bits) == 0:
        raise MubenchError(
            f"{type(model).__name__} has no linear or convolution weight to round; the quantization attack "
            "needs one"
        )
    return twin.eval()
