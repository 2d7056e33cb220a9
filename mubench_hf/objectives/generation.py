"""The generation objective: a prompt and a completion per sample, outputs are token logits ``[B, T, V]``.

Batches are the standard token batches: ``input_ids``, ``attention_mask`` and ``labels`` with -100 on
every position that is not a completion token. For an ``AutoModelForCausalLM`` the prompt and the
completion are one sequence and ``labels`` copies ``input_ids`` there (position t's logits predict
``labels[t + 1]``); for an ``AutoModelForSeq2SeqLM`` the encoder reads the prompt and ``labels`` is the
completion (position t's logits predict ``labels[t]``; the decoder inputs are ``labels`` shifted right,
built here when the batch has no ``decoder_input_ids``).

Which of the two a model is comes from its config (``is_encoder_decoder``) the first time ``outputs``
runs it, or from ``GenerationObjective(is_encoder_decoder=...)``; every later quantity uses it. One
objective serves one architecture: a trainer's student, θo and teachers share it.

The quantities follow the language-modelling conventions of Hugging Face, TRL and open-unlearning:

* ``log_likelihood``: the sum of the completion tokens' log-probabilities, ``[B]``;
* ``target_length``: |y|, the number of completion tokens (at least 1, so an empty completion gives a
  zero loss rather than NaN);
* ``per_sample_loss``: the mean NLL per sample over its completion tokens;
* ``loss``: the training loss of supervised fine-tuning, i.e. the NLL summed over every completion token
  of the batch divided by their count (what ``model(**batch).loss`` and TRL's completion-only loss give);
* ``output_log_probs`` and its mask: per-position vocabulary distributions, the mask marking positions
  that predict a completion token; the KL terms are taken over those positions only (mean over them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..columns import IGNORE_INDEX
from ..errors import MubenchError
from ..forward import logits_of
from .base import TaskObjective

# Keys that are padded with something other than 0 when two batches of different lengths are joined.
_PAD_VALUES = {"labels": IGNORE_INDEX}


def unwrap_model(model: nn.Module) -> nn.Module:
    """The model inside DDP/DeepSpeed-style wrappers (``.module``), for reading its config."""
    while hasattr(model, "module") and isinstance(model.module, nn.Module):
        model = model.module
    return model


def is_encoder_decoder_model(model: nn.Module) -> bool:
    """Whether ``model`` (possibly wrapped, or a PEFT model) is an encoder–decoder model."""
    config = getattr(unwrap_model(model), "config", None)
    return bool(getattr(config, "is_encoder_decoder", False))


def concat_token_batches(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """Two token batches as one, each key right-padded to the longer of the two first.

    Padding on the right changes no real token's outputs: a causal model attends only to earlier
    positions, and an encoder or decoder masks the padded ones (``attention_mask`` 0, ``labels`` -100).
    """
    joined = {}
    for key, value in first.items():
        other = second[key]
        if not isinstance(value, torch.Tensor):
            joined[key] = [*value, *other]
            continue
        if value.dim() >= 2 and value.shape[1] != other.shape[1]:
            length = max(value.shape[1], other.shape[1])
            pad = _PAD_VALUES.get(key, 0)
            # only the shorter one is padded (one op per key on the hot path, not two)
            if value.shape[1] < length:
                value = F.pad(value, (0, length - value.shape[1]), value=pad)
            else:
                other = F.pad(other, (0, length - other.shape[1]), value=pad)
        joined[key] = torch.cat([value, other])
    return joined


def join_token_batches(batches: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Several token batches as one (``concat_token_batches`` in turn); a single batch as it is."""
    joined = dict(batches[0])
    for batch in batches[1:]:
        joined = concat_token_batches(joined, batch)
    return joined


class GenerationObjective(TaskObjective):
    """Token-level objective of causal and sequence-to-sequence LMs (see the module docstring)."""

    kind = "generation"

    def __init__(self, is_encoder_decoder: bool | None = None) -> None:
        self.is_encoder_decoder = is_encoder_decoder

    # ------------------------------------------------------------------ running the model
    def learn_architecture(self, model: nn.Module) -> None:
        """Record whether ``model`` is encoder–decoder; a model of the other kind later is an error."""
        found = is_encoder_decoder_model(model)
        if self.is_encoder_decoder is None:
            self.is_encoder_decoder = found
        elif self.is_encoder_decoder != found:
            kinds = {True: "a sequence-to-sequence", False: "a causal"}
            raise MubenchError(
                f"this generation objective serves {kinds[self.is_encoder_decoder]} LM but was given "
                f"{kinds[found]} one ({type(unwrap_model(model)).__name__}); use one objective per architecture"
            )

    def model_inputs(self, model: nn.Module, batch: Mapping[str, Any]) -> dict[str, Any]:
        """What ``model`` is called with: the batch without ``labels`` (the methods score the tokens
        themselves, so the model need not compute a loss), plus the decoder inputs of a seq2seq model."""
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        if is_encoder_decoder_model(model) and "decoder_input_ids" not in inputs:
            base = unwrap_model(model)
            shift = getattr(base, "prepare_decoder_input_ids_from_labels", None)
            if shift is None:
                raise MubenchError(
                    f"{type(base).__name__} cannot build decoder inputs from labels "
                    "(no prepare_decoder_input_ids_from_labels); give the batch decoder_input_ids"
                )
            inputs["decoder_input_ids"] = shift(labels=batch["labels"])
        return inputs

    def outputs(self, model: nn.Module, batch: Mapping[str, Any]) -> torch.Tensor:
        self.learn_architecture(model)
        return logits_of(model, self.model_inputs(model, batch))

    def pair_outputs(
        self, model: nn.Module, paired: Mapping[str, Mapping[str, Any]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        forget_logits, retain_logits = self.outputs_for(model, [paired["forget"], paired["retain"]])
        return forget_logits, retain_logits

    def outputs_for(self, model: nn.Module, batches: Sequence[Mapping[str, Any]]) -> list[torch.Tensor]:
        """Outputs on each of several token batches, from one forward pass over all of them.

        The batches are joined with ``concat_token_batches``; each part of the result is cut back to
        its own batch's rows and target length, so it equals that batch's own ``outputs``.
        """
        logits = self.outputs(model, join_token_batches(batches))
        shapes = [batch["labels"].shape for batch in batches]
        # split (one gradient buffer in backward) rather than a slice per part (one full-size buffer each);
        # a part is cut along the sequence only when it is shorter than the joined batch
        parts = logits.split([rows for rows, _ in shapes])
        return [
            part if length == part.shape[1] else part[:, :length] for part, (_, length) in zip(parts, shapes)
        ]

    # ------------------------------------------------------------------ targets
    def _causal(self, batch: Mapping[str, Any]) -> bool:
        if self.is_encoder_decoder is not None:
            return not self.is_encoder_decoder
        # Not told and no model seen yet: a causal batch has labels that copy input_ids or are -100.
        labels, input_ids = batch["labels"], batch.get("input_ids")
        if "decoder_input_ids" in batch or input_ids is None or input_ids.shape != labels.shape:
            return False
        return bool(((labels == input_ids) | (labels == IGNORE_INDEX)).all())

    def targets(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """The token each output position predicts, ``[B, T]``, -100 where none is scored.

        Causal: ``labels`` shifted one to the left (the last position predicts nothing), the shift
        Hugging Face's own loss makes; seq2seq: ``labels`` as they are.
        """
        labels = batch["labels"].long()
        if self._causal(batch):
            return F.pad(labels[:, 1:], (0, 1), value=IGNORE_INDEX)
        return labels

    def token_log_probs(
        self, outputs: torch.Tensor, batch: Mapping[str, Any]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """log p(target token) at every position, ``[B, T]`` (0 where not scored), and the mask."""
        targets = self.targets(batch)
        # cross_entropy's fused log-softmax + gather; logits are upcast as Hugging Face's loss does.
        nll = F.cross_entropy(
            outputs.float().flatten(0, 1), targets.flatten(), ignore_index=IGNORE_INDEX, reduction="none"
        )
        return -nll.view(targets.shape), targets != IGNORE_INDEX

    # ------------------------------------------------------------------ per-sample quantities
    def log_likelihood(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        return self.token_log_probs(outputs, batch)[0].sum(-1)

    def row_sums(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per row, the summed log-probability of its completion tokens and their count, ``[B]`` each.

        One cross-entropy over a joined batch gives every part's terms: slicing these ``[B]`` vectors
        instead of the ``[B, T, V]`` logits keeps the backward pass to one log-softmax and no
        full-size gradient buffers per part (the fused losses of ``idk`` and ``idk_dpo``)."""
        log_probs, mask = self.token_log_probs(outputs, batch)
        return log_probs.sum(-1), mask.sum(-1)

    def target_length(self, batch: Mapping[str, Any]) -> torch.Tensor:
        return (self.targets(batch) != IGNORE_INDEX).sum(-1).clamp_min(1).float()

    def loss(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        targets = self.targets(batch)
        # One fused, summed cross-entropy (as Hugging Face's loss): the fewest ops on the hot path.
        total = F.cross_entropy(
            outputs.float().flatten(0, 1), targets.flatten(), ignore_index=IGNORE_INDEX, reduction="sum"
        )
        return total / (targets != IGNORE_INDEX).sum().clamp_min(1)

    def output_log_probs(
        self, outputs: torch.Tensor, batch: Mapping[str, Any], temperature: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        log_probs = F.log_softmax(outputs.float() / temperature, dim=-1)
        return log_probs, self.targets(batch) != IGNORE_INDEX

    def target_one_hot(self, outputs: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        targets = self.targets(batch)
        mask = targets != IGNORE_INDEX
        one_hot = torch.zeros(outputs.shape, dtype=torch.bool, device=outputs.device)
        return one_hot.scatter_(-1, targets.clamp_min(0).unsqueeze(-1), mask.unsqueeze(-1))

    # ------------------------------------------------------------------ KL over the scored positions
    def kl_to_teacher(
        self,
        student: torch.Tensor,
        teacher: torch.Tensor,
        batch: Mapping[str, Any],
        temperature: float = 1.0,
    ) -> torch.Tensor:
        # Only the scored positions are softmaxed: prompts and padding never enter the KL.
        mask = self.targets(batch) != IGNORE_INDEX
        student_log_probs = F.log_softmax(student[mask].float() / temperature, dim=-1)
        teacher_log_probs = F.log_softmax(teacher[mask].float() / temperature, dim=-1)
        per_position = F.kl_div(student_log_probs, teacher_log_probs, reduction="none", log_target=True)
        return per_position.sum() / max(int(mask.sum()), 1)

    def kl_to_distribution(
        self,
        student: torch.Tensor,
        target_probs: torch.Tensor,
        batch: Mapping[str, Any],
        temperature: float = 1.0,
    ) -> torch.Tensor:
        mask = self.targets(batch) != IGNORE_INDEX
        log_probs = F.log_softmax(student[mask].float() / temperature, dim=-1)
        target = target_probs[mask].float()
        # xlogy makes 0·log 0 = 0, so tokens the target gives no mass cost nothing.
        per_position = (torch.xlogy(target, target) - target * log_probs).sum(-1)
        return per_position.sum() / max(int(mask.sum()), 1)
