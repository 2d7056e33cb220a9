"""AltPO: DPO with plausible alternate answers preferred over the forget set's true answer, plus a retain term.

For a forget question x with its true answer y (rejected), alternates ỹ_1 … ỹ_k (chosen, ``alternates.py``)
and the frozen original model θo as reference, the forget term is DPO's over every (alternate, answer) pair:

    −(2/β)·mean_{x, j} log σ( β·[(log πθ(ỹ_j|x) − log πθo(ỹ_j|x)) − (log πθ(y|x) − log πθo(y|x))] ),

with log π the sum of the completion's token log-probabilities, and loss = γ·forget term + α·retain term
(``forget_retain.py``: NLL on Dr, or KL(θo ‖ θ)). Negative feedback alone (NPO, gradient ascent) leaves the
model with nothing to say, so it babbles; the alternates give it a plausible answer to move to.
Mekala, Dorna, Dubey, Lalwani, Koleczek, Rungta, Hasan & Lobo, "Alternate Preference Optimization for
Unlearning Factual Knowledge in Large Language Models", COLING 2025 (arXiv 2409.13474).

Checked against locuslab/open-unlearning, which runs AltPO as its ``DPO`` trainer
(``src/trainer/unlearn/dpo.py`` with ``compute_dpo_loss`` of ``src/trainer/utils.py``) on a forget set whose
rows pair an answer with one pre-generated alternate (``QAwithAlternateDataset``, ``community/methods/AltPO``).
Its file holds k = 5 alternates per question as k rows with the same true answer, so an epoch there is k
passes over each question, one alternate at a time; here every step takes all k alternates of its questions
and averages over them (the same expected loss, the whole mean at once). Defaults are ``configs/trainer/DPO.yaml``:
β = 0.1, forget weight γ = 1, retain weight α = 1, NLL retain loss; k = 5, temperature 1 and 200 new tokens
are ``community/methods/AltPO/generate.yaml``. Learning rate (1e-5 … 5e-5) and 2 epochs are the run's training
arguments in ``community/methods/AltPO/run.sh``, not method defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import MubenchError
from ..kinds.generation.decode import context_length
from ..objectives.generation import is_encoder_decoder_model, join_token_batches, unwrap_model
from .alternates import (
    INSTRUCTION,
    answer_tokens,
    file_alternates,
    generation_prompt,
    load_alternates_file,
    prompt_text,
    question_seed,
    sample_alternates,
)
from .data import DataUse
from .forget_retain import ForgetRetainConfig, ForgetRetainTrainer
from .idk_dpo import dpo_loss, finish_preference_step
from .refusals import completion_batch, row_prompts, tokenize_refusals
from .registry import Needs, register_method


@dataclass
class AltPOConfig(ForgetRetainConfig):
    """``ForgetRetainConfig`` plus DPO's β and where the alternate answers come from."""

    altpo_beta: float = field(
        default=0.1, metadata={"help": "β > 0: DPO's inverse temperature (open-unlearning's DPO.yaml: 0.1)."}
    )
    altpo_alternates_file: str | None = field(
        default=None,
        metadata={
            "help": "JSON / JSON Lines records with 'question' and 'alternate' (or 'sub_answer'), e.g. "
            "open-unlearning's alt5_seed_0.json; default: the original model generates them."
        },
    )
    altpo_num_alternates: int = field(
        default=5, metadata={"help": "k ≥ 1: alternates generated per forget question (the paper's 5)."}
    )
    altpo_max_new_tokens: int = field(
        default=200, metadata={"help": "Longest generated alternate, in tokens (the paper's 200)."}
    )
    altpo_temperature: float = field(
        default=1.0,
        metadata={"help": "> 0: sampling temperature of the generated alternates (the paper's 1)."},
    )
    altpo_instruction: str = field(
        default=INSTRUCTION,
        metadata={"help": "What the model is asked after the question and its answer to make up another."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.altpo_beta <= 0:
            raise MubenchError(f"altpo_beta must be > 0, got {self.altpo_beta}")
        if self.altpo_num_alternates < 1 or self.altpo_max_new_tokens < 1:
            raise MubenchError(
                "altpo_num_alternates and altpo_max_new_tokens must be >= 1, got "
                f"{self.altpo_num_alternates}, {self.altpo_max_new_tokens}"
            )
        if self.altpo_temperature <= 0:
            raise MubenchError(f"altpo_temperature must be > 0, got {self.altpo_temperature}")
        if not self.altpo_instruction.strip():
            raise MubenchError("altpo_instruction must not be empty")
        if self.altpo_alternates_file is not None and not Path(self.altpo_alternates_file).is_file():
            raise MubenchError(f"altpo_alternates_file {self.altpo_alternates_file!r} does not exist")


def altpo_loss(
    chosen: torch.Tensor,
    rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    owner: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """DPO over the pairs (alternate i ≻ the answer of forget row ``owner[i]``), averaged over the pairs."""
    return dpo_loss(chosen, rejected[owner], ref_chosen, ref_rejected[owner], beta)


class AltPOTrainer(ForgetRetainTrainer):
    """Loss = γ·DPO(alternates ≻ answer; θ, θo) + α·retain term."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tokenizer = self.processing_class
        if tokenizer is None or not callable(tokenizer):
            raise MubenchError(
                "altpo decodes and tokenizes answers: pass processing_class=<the model's tokenizer>"
            )
        self.encoder_decoder = is_encoder_decoder_model(self.model)
        self.chat = not self.encoder_decoder and bool(getattr(tokenizer, "chat_template", None))
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.alternate_pad_id = int(pad) if pad is not None else 0
        file = self.args.altpo_alternates_file
        self.alternates_table = load_alternates_file(file) if file is not None else None
        self.alternate_ids: dict[bytes, list[list[int]]] = {}  # per question's tokens: its alternates
        self.context = context_length(unwrap_model(self.model), tokenizer)

    # ------------------------------------------------------------------ alternates
    def alternate_texts(self, prompt_ids: Any, answer_ids: Any) -> list[str]:
        """The alternate answers of one forget row, from the file or sampled from θo (``alternates.py``)."""
        tokenizer, args = self.processing_class, self.args
        if self.alternates_table is not None:
            prompt = prompt_text(tokenizer, prompt_ids, chat=self.chat)
            return file_alternates(self.alternates_table, prompt, args.altpo_alternates_file)
        return sample_alternates(
            self.original_model,
            tokenizer,
            generation_prompt(tokenizer, prompt_ids, answer_ids, args.altpo_instruction, chat=self.chat),
            count=args.altpo_num_alternates,
            max_new_tokens=args.altpo_max_new_tokens,
            temperature=args.altpo_temperature,
            seed=question_seed(prompt_ids, args.seed),
            chat=self.chat,
            context=self.context,
        )

    def alternates_of(self, prompt_ids: Any, answer_ids: Any) -> list[list[int]]:
        """Token ids of one row's alternates as completions (encoded as the task encodes its answers)."""
        key = prompt_ids.tobytes()
        if key not in self.alternate_ids:
            tokenizer = self.processing_class
            answer = tokenizer.decode(list(answer_ids), skip_special_tokens=True)
            prefix = answer[: len(answer) - len(answer.lstrip())]  # the space a completion starts with
            texts = self.alternate_texts(prompt_ids, answer_ids)
            ids = tokenize_refusals(tokenizer, texts, encoder_decoder=self.encoder_decoder, prefix=prefix)
            if self.context is not None and not self.encoder_decoder:  # a training row fits the model
                ids = [row[: max(self.context - len(prompt_ids), 1)] for row in ids]
            self.alternate_ids[key] = ids
        return self.alternate_ids[key]

    def alternate_batch(self, forget: dict[str, Any]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Every alternate of every forget row after that row's prompt, and the row each one belongs to."""
        prompts = row_prompts(forget, encoder_decoder=self.encoder_decoder)
        rows, completions = [], []
        for r, (prompt, answer) in enumerate(zip(prompts, answer_tokens(forget))):
            for ids in self.alternates_of(prompt, answer):
                rows.append(r)
                completions.append(ids)
        batch = completion_batch(
            forget,
            rows,
            completions,
            encoder_decoder=self.encoder_decoder,
            pad_token_id=self.alternate_pad_id,
        )
        return batch, torch.as_tensor(rows, device=forget["labels"].device)

    # ------------------------------------------------------------------ loss
    def reference_sums(self, chosen: dict[str, Any], rejected: dict[str, Any]) -> torch.Tensor:
        """log πθo of the alternates then of the answers, from one no-grad forward of θo."""
        with torch.no_grad():
            joined = join_token_batches([chosen, rejected])
            sums, _ = self.objective.row_sums(self.objective.outputs(self.original_model, joined), joined)
        return sums

    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        """The DPO term given the student's outputs on the forget batch (the rejected answers)."""
        chosen, owner = self.alternate_batch(batch)
        rows = chosen["labels"].shape[0]
        ref = self.reference_sums(chosen, batch)
        chosen_ll = self.objective.log_likelihood(self.objective.outputs(model, chosen), chosen)
        rejected_ll = self.objective.log_likelihood(outputs, batch)
        return altpo_loss(chosen_ll, rejected_ll, ref[:rows], ref[rows:], owner, self.args.altpo_beta)

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        forget, retain = inputs["forget"], inputs["retain"]
        chosen, owner = self.alternate_batch(forget)
        batches = [chosen, forget] + ([retain] if self.args.retain_weight else [])
        # One forward over the alternates, the true answers and the retain rows, one cross-entropy: every
        # term is cut from its per-row sums (as idk_dpo does; see row_sums).
        joined = join_token_batches(batches)
        logits = self.objective.outputs(model, joined)
        sums, counts = self.objective.row_sums(logits, joined)
        rows, answers = chosen["labels"].shape[0], forget["labels"].shape[0]
        ref = self.reference_sums(chosen, forget)
        forget_term = altpo_loss(
            sums[:rows], sums[rows : rows + answers], ref[:rows], ref[rows:], owner, self.args.altpo_beta
        )
        loss = self.args.forget_weight * forget_term
        self.log_term("forget_loss", forget_term)
        return finish_preference_step(
            self,
            loss,
            logits,
            sums,
            counts,
            batches,
            retain_from=rows + answers,
            return_outputs=return_outputs,
        )


register_method(
    "altpo",
    trainer=AltPOTrainer,
    config=AltPOConfig,
    data_use=DataUse.PAIRED,
    needs=(Needs.ORIGINAL,),
    kinds=("generation",),
    citation='Mekala et al., "Alternate Preference Optimization for Unlearning Factual Knowledge in Large '
    'Language Models", COLING 2025 (arXiv 2409.13474)',
    quick_settings=dict(learning_rate=2e-3, max_steps=15, altpo_num_alternates=2, altpo_max_new_tokens=24),
)
