"""WHP ("Who's Harry Potter?"): unlearn by imitating θo with the logits a Df-reinforced model boosts pushed down.

A *reinforced* model θr is θo fine-tuned further on Df, so the tokens whose logits rise from θo to θr are
the ones Df taught. The WHP prediction lowers exactly those: v = v_o − α·ReLU(v_r − v_o), where v_o and
v_r are θo's and θr's next-token logits; where θr adds nothing, θo's logits stand. Eldan & Russinovich,
"Who's Harry Potter? Approximate Unlearning in LLMs", 2023 (arXiv 2310.02238); MUSE's ``whp`` baseline
(Shi et al., "MUSE: Machine Unlearning Six-Way Evaluation for Language Models", 2024).

What MUSE does (swj0419/muse_bench, read for this module): ``baselines/baselines/whos_harry_potter.py``
(``WHPModelForCausalLM``) holds both models and returns v_o − α·relu(v_r − v_o) from ``forward`` at
inference; ``baselines/baselines/utils.py`` (``load_model``) builds it with α = 1 unless the model name
carries another, from a reinforced model's folder it is handed (``reinforced_model_dir``). Its
``baselines/unlearn.py`` has no WHP entry; the one fine-tuning on the forget text its code has is
``baselines/baselines/finetune.py``, the first half of its ``tv`` baseline (AdamW, cosine schedule, no warm-up
or weight decay; ``--lr`` / ``--epochs`` / ``--per_device_batch_size``, defaults 1e-5, 5, 2), and that is the
reinforcement here. MUSE trains nothing on generic labels.

How it is done here, so that the method hands over one ordinary model the report scores and ``save_pretrained``
writes (MUSE's mixture is two models behind a custom ``forward``):

1. when ``train()`` starts, a copy of θo is fine-tuned on Df with the task loss (``transformers.Trainer``,
   MUSE's optimiser and schedule; learning rate, length and batch size default to the run's, as MUSE's one
   set of flags serves its fine-tuning) and frozen as θr;
2. the run then trains the model, starting at θo, to reproduce the WHP prediction: on paired batches,
   KL(softmax(v) ‖ θ) on Df's completion positions, plus (``retain_loss`` 'whp', weight α_r = 1) the same
   distillation on Dr's, because MUSE's mixture changes Dr's outputs too wherever θr's logits rose.
   ``whp_targets generic`` trains on argmax v instead (the WHP paper's "generic labels", hard targets).

Where this differs from MUSE: the distilled model approximates the mixture (exactly only in the limit of
the distillation), and only at the completion positions of the training rows; MUSE's fine-tuning scores
every token of raw text, θr here the completion tokens the task scores; the mixture is taken in float32
(MUSE: in its models' bfloat16). The WHP paper's anchored-term replacement (a dictionary of entity swaps)
is in neither. A resumed run fine-tunes θr again from θo (its checkpoints hold the distillation's
progress), the same weights on the same device and seed.
"""

from __future__ import annotations

import copy
import tempfile
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PrinterCallback, TrainingArguments
from transformers.trainer_utils import TrainOutput

from ..errors import MubenchError
from ..objectives import TaskObjective
from ..rows import RowDataset
from ..training import MubenchTrainer
from .data import DataUse
from .forget_retain import RETAIN_LOSSES, ForgetRetainConfig, ForgetRetainTrainer
from .registry import Needs, register_method
from .teachers import frozen

WHP_RETAIN = "whp"  # the retain term that distils the WHP prediction on Dr as well
WHP_TARGETS = ("soft", "generic")


@dataclass
class WHPConfig(ForgetRetainConfig):
    """``ForgetRetainConfig`` plus WHP's α, its targets and the reinforced model's fine-tuning."""

    retain_losses = (WHP_RETAIN, *RETAIN_LOSSES)

    retain_loss: str = field(
        default=WHP_RETAIN,
        metadata={
            "help": "Retain term: 'whp' (distil the WHP prediction on Dr too, as MUSE's mixture acts there), "
            "'ce' (the task loss on Dr) or 'kl' (KL(θo ‖ θ) on Dr).",
            "choices": [WHP_RETAIN, *RETAIN_LOSSES],
        },
    )
    whp_alpha: float = field(
        default=1.0,
        metadata={
            "help": "α ≥ 0: the WHP prediction is v_o − α·ReLU(v_r − v_o) (MUSE's default 1, "
            "baselines/baselines/utils.py)."
        },
    )
    whp_targets: str = field(
        default="soft",
        metadata={
            "help": "'soft': KL to the WHP prediction's distribution (MUSE's mixture); 'generic': "
            "cross-entropy to its argmax token (the WHP paper's generic labels).",
            "choices": list(WHP_TARGETS),
        },
    )
    whp_reinforce_learning_rate: float | None = field(
        default=None,
        metadata={"help": "Learning rate of the reinforced model's fine-tuning on Df (default: the run's)."},
    )
    whp_reinforce_epochs: float | None = field(
        default=None,
        metadata={
            "help": "Epochs of the reinforced model's fine-tuning on Df (default: the run's max_steps / "
            "num_train_epochs; MUSE's default 5)."
        },
    )
    whp_reinforce_steps: int | None = field(
        default=None,
        metadata={
            "help": "Optimizer steps of the reinforced model's fine-tuning; overrides whp_reinforce_epochs."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.whp_alpha >= 0:
            raise MubenchError(f"whp_alpha must be >= 0, got {self.whp_alpha}")
        if self.whp_targets not in WHP_TARGETS:
            raise MubenchError(f"whp_targets must be one of {list(WHP_TARGETS)}, got {self.whp_targets!r}")
        for name in ("whp_reinforce_learning_rate", "whp_reinforce_epochs"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise MubenchError(f"{name} must be > 0 (or left out: the run's), got {value}")
        steps = self.whp_reinforce_steps
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
            raise MubenchError(
                f"whp_reinforce_steps must be a whole number >= 1 (or left out), got {steps!r}"
            )


def whp_logits(baseline: torch.Tensor, reinforced: torch.Tensor, alpha: float) -> torch.Tensor:
    """v_o − α·ReLU(v_r − v_o), in float32: the logits a reinforced model raised are pushed below θo's."""
    baseline = baseline.float()
    return baseline - alpha * F.relu(reinforced.float() - baseline)


def generic_label_loss(
    objective: TaskObjective, student: torch.Tensor, target_logits: torch.Tensor, batch: dict[str, Any]
) -> torch.Tensor:
    """Mean over the scored positions of −log θ(argmax of the target logits): the WHP paper's generic labels."""
    log_probs, mask = objective.output_log_probs(student, batch)
    picked = log_probs.gather(-1, target_logits.argmax(-1, keepdim=True)).squeeze(-1)
    return -picked[mask].sum() / mask.sum().clamp_min(1)


def reinforcement_arguments(args: WHPConfig, output_dir: str) -> TrainingArguments:
    """Quiet arguments of θr's fine-tuning: MUSE's ``finetune`` recipe (AdamW, cosine, no warm-up or weight
    decay) with the run's batch, precision and seed, and its length and rate unless WHP's own are given."""
    steps, epochs = args.max_steps, args.num_train_epochs
    if args.whp_reinforce_steps is not None:
        steps = args.whp_reinforce_steps
    elif args.whp_reinforce_epochs is not None:
        steps, epochs = -1, args.whp_reinforce_epochs
    rate = args.whp_reinforce_learning_rate
    return TrainingArguments(
        output_dir=output_dir,
        max_steps=steps,
        num_train_epochs=epochs,
        learning_rate=args.learning_rate if rate is None else rate,
        per_device_train_batch_size=args.per_device_train_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        optim="adamw_torch",
        lr_scheduler_type="cosine",
        warmup_steps=0,
        weight_decay=0.0,
        bf16=args.bf16,
        fp16=args.fp16,
        seed=args.seed,
        data_seed=args.data_seed,
        save_strategy="no",
        logging_strategy="no",
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=args.use_cpu,
    )


class WHPTrainer(ForgetRetainTrainer):
    """Loss = γ·distil(WHP prediction on Df) + α_r·retain term (by default the same distillation on Dr)."""

    reinforced_model: nn.Module | None = None
    reinforcement: TrainOutput | None = None  # θr's fine-tuning, for the logs and tests

    def before_unlearning(self) -> None:
        super().before_unlearning()
        self.reinforced()

    def reinforced(self) -> nn.Module:
        """θr, fine-tuned on Df from θo the first time it is asked for (also outside ``train()``)."""
        if self.reinforced_model is None:
            self.reinforced_model = frozen(self._fine_tune_original_on_forget(), self.accelerator)
        return self.reinforced_model

    def _fine_tune_original_on_forget(self) -> nn.Module:
        # A copy of the frozen θo (whatever the student has become), trainable where the student is (LoRA:
        # its adapters only).
        model = copy.deepcopy(self.accelerator.unwrap_model(self.original_model))
        trainable = {
            n: p.requires_grad for n, p in self.accelerator.unwrap_model(self.model).named_parameters()
        }
        for name, param in model.named_parameters():
            param.requires_grad_(trainable.get(name, False))
        # enable_grad: θr may first be asked for under no_grad (a loss computed for evaluation)
        with tempfile.TemporaryDirectory() as scratch, torch.enable_grad():
            trainer = MubenchTrainer(
                model=model,
                args=reinforcement_arguments(self.args, scratch),
                train_dataset=RowDataset(self.forget_dataset),
                data_collator=self.data_collator,  # a paired collator passes plain rows to the task's own
            )
            trainer.remove_callback(PrinterCallback)
            self.reinforcement = trainer.train()
        return model

    def whp_target(self, batch: dict[str, Any]) -> torch.Tensor:
        """The WHP prediction v_o − α·ReLU(v_r − v_o) on ``batch`` (no gradient)."""
        with torch.no_grad():
            baseline = self.objective.outputs(self.original_model, batch)
            reinforced = self.objective.outputs(self.reinforced(), batch)
        return whp_logits(baseline, reinforced, self.args.whp_alpha)

    def distil(self, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        target = self.whp_target(batch)
        if self.args.whp_targets == "generic":
            return generic_label_loss(self.objective, outputs, target, batch)
        return self.objective.kl_to_teacher(outputs, target, batch)

    def forget_loss(self, model: nn.Module, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        return self.distil(outputs, batch)

    def retain_term(self, outputs: torch.Tensor, batch: dict[str, Any]) -> torch.Tensor:
        if self.args.retain_loss == WHP_RETAIN:
            return self.distil(outputs, batch)
        return super().retain_term(outputs, batch)


register_method(
    "whp",
    trainer=WHPTrainer,
    config=WHPConfig,
    data_use=DataUse.PAIRED,
    needs=(Needs.ORIGINAL,),
    kinds=("generation",),
    citation="Eldan & Russinovich, \"Who's Harry Potter? Approximate Unlearning in LLMs\", 2023 (MUSE's whp "
    'baseline: Shi et al., "MUSE: Machine Unlearning Six-Way Evaluation for Language Models", 2024)',
    # The tiny models know Df before θr's fine-tuning starts, so θr raises the logits little and α amplifies
    # it (MUSE's default is 1). Measured, 15 steps at lr 3e-3 for θr and the distillation alike: the toy
    # GPT-2's forget log-likelihood -4.34 -> -8.28..-8.47 at α 3 (seeds 0-2; -4.89..-4.94 at α 1 and lr 1e-3),
    # retain -4.09 -> -4.08..-4.16; fictitious_authors_small_del10 (tiny:llama, seed 42): forget ROUGE-L
    # 0.97 -> 0.73 (0.86 at α 1, 0.59 at α 5 with 30 steps; retrain 0.61), retain ROUGE-L 0.95 -> 0.90
    # muse_manpages_del10 (tiny:llama, seed 42): VerbMem 1.00 -> 0.70, retain answer probability 0.99 -> 0.95
    quick_settings=dict(learning_rate=3e-3, max_steps=15, whp_alpha=3.0),
)
