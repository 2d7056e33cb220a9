"""SalUn: random labelling restricted to the weights most salient for the forget set.

Before training, the gradient of the forgetting loss (gradient ascent, −CE on Df, averaged over all
of Df) is computed once at θo; the ``mask_ratio`` fraction of trainable weights with the largest
|gradient| (one global threshold across all tensors) form the mask. Training is then random
labelling (``RandomLabelTrainer``) with every gradient multiplied by the mask. Fan et al., "SalUn:
Empowering Machine Unlearning via Gradient-based Weight Saliency in Both Image Classification and
Generation", ICLR 2024 (mask ratio 0.5 in most of their experiments). On text-to-image tasks the random
labelling is SalUn's diffusion form (``random_label.py``'s module docstring): the forgotten concept's noise
prediction pulled to another concept's, plus α times the retain denoising loss; the forgetting loss behind
the mask is then the negated denoising loss on Df (SalUn's ``SD/train-scripts/generate_mask.py``).

The mask is applied by tensor hooks on the parameters, i.e. to each micro-batch's gradient as it
is produced: before gradient accumulation, before gradient clipping, before the reduction across
processes and before the optimizer step. Masked weights keep their values unless weight decay is on
(decoupled decay shrinks every weight, as in the paper's SGD setup).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import DataLoader
from transformers.trainer_utils import TrainOutput

from ..errors import MubenchError
from ..rows import RowDataset
from ..search_space import DEFAULT_SPACE, Range
from .data import DataUse
from .random_label import RandomLabelConfig, RandomLabelTrainer
from .registry import register_method


@dataclass
class SalUnConfig(RandomLabelConfig):
    """``RandomLabelConfig`` plus the share of weights SalUn may change."""

    mask_ratio: float = field(
        default=0.5,
        metadata={"help": "Fraction (0, 1] of trainable weights, the most salient for Df, that may change."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 < self.mask_ratio <= 1.0:
            raise MubenchError(f"mask_ratio must be in (0, 1], got {self.mask_ratio}")


class SalUnTrainer(RandomLabelTrainer):
    """Random labelling with gradients masked to the most Df-salient weights."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.saliency_mask: dict[str, torch.Tensor] | None = None
        self._mask_hooks: list[torch.utils.hooks.RemovableHandle] = []

    def forget_gradients(self) -> dict[str, torch.Tensor]:
        """∇θ of −CE averaged over all of Df, at the current weights, per trainable tensor.

        Computed in eval mode (no dropout, no batch-norm statistics updated) on the whole forget set
        in every process, so all processes derive the same mask without communicating.
        """
        model = self.accelerator.unwrap_model(self.model)
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        totals = {n: torch.zeros_like(p) for n, p in named}
        loader = DataLoader(
            RowDataset(self.forget_dataset),
            batch_size=self.args.per_device_eval_batch_size,
            collate_fn=self._get_collator_with_removed_columns(self.data_collator, "saliency"),
        )
        was_training = model.training
        model.eval()
        try:
            for batch in loader:
                batch = self._prepare_inputs(batch)
                # Sum over the batch / |Df|: the total is the gradient of the mean over Df,
                # whatever the batch size.
                loss = -self.objective.per_sample_loss(self.objective.outputs(model, batch), batch).sum()
                grads = torch.autograd.grad(
                    loss / len(self.forget_dataset), [p for _, p in named], allow_unused=True
                )
                for (name, _), grad in zip(named, grads):
                    if grad is not None:
                        totals[name] += grad
        finally:
            model.train(was_training)
        return totals

    def before_unlearning(self) -> None:
        saliency = {name: grad.abs() for name, grad in self.forget_gradients().items()}
        self.saliency_mask = top_fraction_mask(saliency, self.args.mask_ratio)

    def train(
        self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any
    ) -> TrainOutput:
        if self.saliency_mask is None:
            self.before_unlearning()  # on θo: a checkpoint is loaded only inside Trainer.train
            self._unlearning_prepared = True
        model = self.accelerator.unwrap_model(self.model)
        for name, param in model.named_parameters():
            if name in self.saliency_mask:
                mask = self.saliency_mask[name]
                self._mask_hooks.append(param.register_hook(lambda grad, mask=mask: grad * mask))
        try:
            return super().train(resume_from_checkpoint=resume_from_checkpoint, trial=trial, **kwargs)
        finally:
            for handle in self._mask_hooks:
                handle.remove()
            self._mask_hooks.clear()


def top_fraction_mask(scores: dict[str, torch.Tensor], ratio: float) -> dict[str, torch.Tensor]:
    """1 for the ``ratio`` share of entries with the highest score across all tensors, 0 elsewhere."""
    flat = torch.cat([s.flatten() for s in scores.values()])
    keep = int(round(ratio * flat.numel()))
    chosen = torch.zeros_like(flat)
    if keep > 0:
        chosen[torch.topk(flat, keep, sorted=False).indices] = 1
    masks, start = {}, 0
    for name, score in scores.items():
        masks[name] = chosen[start : start + score.numel()].view_as(score)
        start += score.numel()
    return masks


register_method(
    "salun",
    trainer=SalUnTrainer,
    config=SalUnConfig,
    data_use=DataUse.UNION_RELABELLED,
    kinds=("classification", "image_generation"),
    citation='Fan et al., "SalUn: Empowering Machine Unlearning via Gradient-based Weight Saliency", ICLR 2024',
    quick_settings=dict(learning_rate=3e-3, num_train_epochs=3),
    # the paper varies the share of salient weights; 0.5 is its usual pick
    search_space={**DEFAULT_SPACE, "mask_ratio": Range(0.1, 0.9)},
)
