"""RMU (representation misdirection for unlearning): scramble a layer's activations on Df, keep them on Dr.

With h_θ(x) the output of one chosen decoder layer at every completion position of x, u a fixed random
unit vector (drawn once from the run's seed, uniform in [0, 1)^d then normalised, as the WMDP code does)
and c the steering coefficient, the loss is

    γ·mean_Df ‖h_θ(x) − c·u‖² + α·mean_Dr ‖h_θ(x) − h_θo(x)‖²,

each squared norm averaged over the hidden dimension, then over the completion positions of a row
(``labels`` ≠ -100), then over rows, as open-unlearning computes it. θo is a frozen copy placed by the
accelerator. Only parameters matching ``rmu_trainable_params`` are trained (the WMDP recipe trains the MLP
down-projections of layers ℓ−2..ℓ; open-unlearning trains every parameter, its default and ours).

Both terms depend on the chosen layer only, so the forward passes stop right after it (in a single
process; with several processes DDP needs every parameter to take part, so the model runs to the end).

Li et al., "The WMDP Benchmark: Measuring and Reducing Malicious Use With Unlearning", ICML 2024.
Defaults are open-unlearning's ``RMU`` config: layer 7 (``model.layers.7``), c = 2, α = 1, γ = 1, every
parameter trained; the WMDP paper itself used c = 6.5 and α = 1200 on Zephyr-7B (tune per model).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import MubenchError
from ..objectives.generation import IGNORE_INDEX, concat_token_batches, is_encoder_decoder_model, unwrap_model
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import Needs, register_method

CONTROL_SEED_OFFSET = 7_919  # the control vector's generator differs from the model initialisation's


@dataclass
class RMUConfig(UnlearnConfig):
    """``UnlearnConfig`` plus RMU's layer, steering coefficient, term weights and trainable parameters."""

    rmu_layer: int = field(
        default=7,
        metadata={"help": "Index of the decoder layer whose output is steered (open-unlearning: 7)."},
    )
    rmu_module: str | None = field(
        default=None,
        metadata={
            "help": "A regular expression matching the name of exactly one module whose output is steered "
            "(e.g. 'model\\.layers\\.7'); overrides rmu_layer."
        },
    )
    steering_coeff: float = field(
        default=2.0, metadata={"help": "c > 0: norm of the random target activation (open-unlearning: 2)."}
    )
    forget_weight: float = field(default=1.0, metadata={"help": "γ: weight of the forget (steering) term."})
    retain_weight: float = field(
        default=1.0, metadata={"help": "α: weight of the retain term ‖h_θ − h_θo‖² on Dr (0 = none)."}
    )
    rmu_trainable_params: str = field(
        default=".*",
        metadata={
            "help": "A regular expression: only parameters whose full name matches it are trained "
            "(WMDP: 'model\\.layers\\.(5|6|7)\\.mlp\\.down_proj\\.weight'; default: every parameter)."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.steering_coeff <= 0:
            raise MubenchError(f"steering_coeff must be > 0, got {self.steering_coeff}")
        if self.forget_weight < 0 or self.retain_weight < 0:
            raise MubenchError("forget_weight and retain_weight must be >= 0")
        for name in ("rmu_module", "rmu_trainable_params"):
            pattern = getattr(self, name)
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as err:
                    raise MubenchError(f"{name} is not a regular expression ({err}): {pattern!r}") from None


def decoder_layers(model: nn.Module) -> tuple[str, nn.ModuleList]:
    """The name and the list of a model's transformer blocks: the ``ModuleList`` holding the most
    parameters (``model.layers`` of Llama, ``transformer.h`` of GPT-2; of T5 the decoder's ``block``,
    which outweighs the encoder's by its cross-attention; never a list of sub-layers inside one block)."""
    lists = [(name, module) for name, module in model.named_modules() if isinstance(module, nn.ModuleList)]
    if not lists:
        raise MubenchError(f"{type(model).__name__} has no list of layers (nn.ModuleList); set rmu_module")
    return max(lists, key=lambda item: (sum(p.numel() for p in item[1].parameters()), "decoder" in item[0]))


def steered_module_name(model: nn.Module, layer: int, pattern: str | None) -> str:
    """The full name of the module RMU steers: the one matching ``pattern``, else layer ``layer``."""
    model = unwrap_model(model)
    if pattern is not None:
        names = [name for name, _ in model.named_modules() if re.fullmatch(pattern, name)]
        if len(names) != 1:
            raise MubenchError(
                f"rmu_module {pattern!r} must match exactly one module name, it matches {len(names)}"
                + (f": {names[:5]}" if names else f"; layers are named like {decoder_layers(model)[0]}.0")
            )
        return names[0]
    prefix, layers = decoder_layers(model)
    if not 0 <= layer < len(layers):
        raise MubenchError(
            f"rmu_layer {layer} is out of range: {type(model).__name__} has {len(layers)} layers "
            f"({prefix}.0 to {prefix}.{len(layers) - 1}); pass --rmu_layer between 0 and {len(layers) - 1}"
        )
    return f"{prefix}.{layer}"


class _Captured(Exception):
    """Raised by the hook to stop a forward pass once the steered layer has run."""


def layer_activations(
    model: nn.Module, module_name: str, inputs: dict[str, Any], stop_early: bool
) -> torch.Tensor:
    """The output of ``module_name`` (its first element when it returns a tuple) on ``inputs``."""
    module = dict(unwrap_model(model).named_modules())[module_name]
    captured: list[torch.Tensor] = []

    def hook(_module: nn.Module, _args: Any, output: Any) -> None:
        captured.append(output[0] if isinstance(output, (tuple, list)) else output)
        if stop_early:
            raise _Captured

    handle = module.register_forward_hook(hook)
    try:
        model(**inputs)
    except _Captured:
        return captured[0]  # stopped at the steered layer: the layers after it do not enter the loss
    finally:
        handle.remove()
    return captured[0]


def masked_mse(activations: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over rows of (Σ over masked positions of the mean over d of (a − t)²) / (masked positions)."""
    squared = (activations.float() - target.float()).pow(2).mean(-1)  # [B, T]
    mask = mask.to(squared.dtype)
    return ((squared * mask).sum(-1) / mask.sum(-1).clamp_min(1.0)).mean()


class RMUTrainer(UnlearnTrainer):
    """Loss = γ·‖h_θ(Df) − c·u‖² + α·‖h_θ(Dr) − h_θo(Dr)‖² at the chosen layer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.module_name = steered_module_name(self.model, self.args.rmu_layer, self.args.rmu_module)
        # An encoder layer's positions are the prompt's; every other layer's follow the labels.
        in_encoder = is_encoder_decoder_model(self.model) and ".encoder." in f".{self.module_name}."
        self.position_key = "attention_mask" if in_encoder else "labels"
        self.restrict_trainable(self.args.rmu_trainable_params)
        self.control_vector: torch.Tensor | None = None

    def restrict_trainable(self, pattern: str) -> None:
        """Freeze every trainable parameter whose name does not match ``pattern`` (before the optimizer
        is built, so it holds the matching ones only)."""
        kept = 0
        for name, param in self.model.named_parameters():
            if param.requires_grad and not re.fullmatch(pattern, name):
                param.requires_grad_(False)
            kept += int(param.requires_grad)
        if not kept:
            names = [name for name, _ in self.model.named_parameters()][:5]
            raise MubenchError(
                f"rmu_trainable_params {pattern!r} matches no trainable parameter; names look like {names}"
            )

    def steering_target(self, dim: int, like: torch.Tensor) -> torch.Tensor:
        """c·u: a fixed random unit vector of size ``dim`` scaled by c, drawn once from the seed."""
        if self.control_vector is None:
            generator = torch.Generator().manual_seed(self.args.seed + CONTROL_SEED_OFFSET)
            u = torch.rand(dim, generator=generator)
            self.control_vector = self.args.steering_coeff * u / u.norm()
        return self.control_vector.to(device=like.device, dtype=like.dtype)

    def positions(self, batch: dict[str, Any]) -> torch.Tensor:
        """The positions that count: the completion tokens (an encoder layer: the attended prompt)."""
        if self.position_key == "labels":
            return batch["labels"] != IGNORE_INDEX
        return batch["attention_mask"].bool()

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        objective, forget, retain = self.objective, inputs["forget"], inputs["retain"]
        stop = self.args.world_size == 1
        use_retain = bool(self.args.retain_weight)
        # One forward over both halves (right-padded to one length), each cut back to its own positions.
        joined = concat_token_batches(forget, retain) if use_retain else forget
        acts = layer_activations(model, self.module_name, objective.model_inputs(model, joined), stop)
        n_forget = forget["labels"].shape[0]
        forget_mask = self.positions(forget)
        forget_acts = acts[:n_forget, : forget_mask.shape[1]]
        target = self.steering_target(acts.shape[-1], acts).expand_as(forget_acts)
        forget_term = masked_mse(forget_acts, target, forget_mask)
        loss = self.args.forget_weight * forget_term
        self.log_term("forget_loss", forget_term)
        if use_retain:
            retain_mask = self.positions(retain)
            retain_acts = acts[n_forget:, : retain_mask.shape[1]]
            with torch.no_grad():
                ref_inputs = objective.model_inputs(self.original_model, retain)
                ref_acts = layer_activations(self.original_model, self.module_name, ref_inputs, True)
            retain_term = masked_mse(retain_acts, ref_acts, retain_mask)
            loss = loss + self.args.retain_weight * retain_term
            self.log_term("retain_loss", retain_term)
        return (loss, {"activations": acts}) if return_outputs else loss


register_method(
    "rmu",
    trainer=RMUTrainer,
    config=RMUConfig,
    data_use=DataUse.PAIRED,
    needs=(Needs.ORIGINAL,),
    kinds=("generation",),
    citation='Li et al., "The WMDP Benchmark: Measuring and Reducing Malicious Use With Unlearning", ICML 2024',
    quick_settings=dict(learning_rate=1e-3, max_steps=15, rmu_layer=1, steering_coeff=20.0),
)
