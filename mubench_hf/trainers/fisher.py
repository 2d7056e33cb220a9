"""Fisher forgetting: add Gaussian noise to each weight, scaled by how little Dr depends on it.

Retrain-free (Golatkar, Achille & Soatto, "Eternal Sunshine of the Spotless Net: Selective Forgetting in
Deep Networks", CVPR 2020), in the form of OPTML-Group/Unlearn-Sparse's ``unlearn/fisher.py``
(``fisher_new``), which DeepUnlearn's ``munl/unlearning/fisher.py`` takes over:

1. a diagonal Fisher estimate on Dr, in eval mode, over batches B of the retain rows:
   F = mean_B Σ_y mean_{x∈B} p(y|x) · (∇θ CE_B(θ; label y for every row))², i.e. the squared gradient of
   the batch-mean loss towards each class y, weighted by the batch's mean probability of y;
2. per weight tensor: v = min(1/(F + 1e-8), 1000), capped at 100 for a tensor whose first dimension is
   the number of classes K, times α; averaged over the input dimension (dim 1) for tensors of rank ≥ 2;
   times 10 for a tensor with first dimension K and for rank-1 tensors (biases, norms);
3. θ ← θ + √v · ε with ε ~ N(0, I), seeded by ``args.seed``.

Weights Dr barely uses get large noise and lose what they held of Df. Defaults from DeepUnlearn:
α = 0.2, batches of 64. Cost: K backward passes per batch, so the estimate reads at most
``fisher_max_samples`` rows of Dr (a seeded random subset; 0 = all of Dr), an approximation the peers do
not make (they read all of Dr). There are no optimizer steps: ``train()`` edits the weights once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers.trainer_utils import TrainOutput

from ..errors import MubenchError
from ..search_space import Range
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import register_method
from .weight_edit import WeightEditMixin, bounded_rows

FISHER_EPSILON = 1e-8
VARIANCE_CAP, CLASS_VARIANCE_CAP, CLASS_AND_BIAS_FACTOR = 1e3, 1e2, 10.0


@dataclass
class FisherConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the noise scale and the bound on rows read."""

    fisher_alpha: float = field(default=0.2, metadata={"help": "α > 0: scales the noise variance."})
    fisher_batch_size: int = field(
        default=64, metadata={"help": "Rows per batch of the Fisher estimate (a batch-mean gradient each)."}
    )
    fisher_max_samples: int = field(
        default=4096,
        metadata={"help": "Most rows of Dr the Fisher estimate reads (a seeded random subset); 0 = all."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.fisher_alpha <= 0:
            raise MubenchError(f"fisher_alpha must be > 0, got {self.fisher_alpha}")
        if self.fisher_batch_size < 1 or self.fisher_max_samples < 0:
            raise MubenchError("fisher_batch_size must be >= 1 and fisher_max_samples >= 0")


def fisher_variance(fisher: torch.Tensor, num_classes: int, alpha: float) -> torch.Tensor:
    """The noise variance of one weight tensor from its Fisher estimate (step 2 of the docstring)."""
    variance = (1.0 / (fisher + FISHER_EPSILON)).clamp(max=VARIANCE_CAP)
    is_class_tensor = fisher.shape[0] == num_classes
    if is_class_tensor:
        variance = variance.clamp(max=CLASS_VARIANCE_CAP)
    variance = alpha * variance
    if variance.dim() > 1:
        variance = variance.mean(dim=1, keepdim=True).expand_as(fisher).clone()
    if is_class_tensor or variance.dim() == 1:
        variance = variance * CLASS_AND_BIAS_FACTOR
    return variance


class FisherTrainer(WeightEditMixin, UnlearnTrainer):
    """Fisher-scaled Gaussian noise on every trainable weight; no optimizer steps."""

    def retain_fisher(self) -> dict[str, torch.Tensor]:
        """The diagonal Fisher estimate on (at most ``fisher_max_samples`` rows of) Dr."""
        model = self.accelerator.unwrap_model(self.model)
        named = self.trainable()
        totals = {n: torch.zeros_like(p) for n, p in named}
        rows = bounded_rows(self.retain_dataset, self.args.fisher_max_samples, self.args.seed)
        loader = self.row_loader(rows, self.args.fisher_batch_size)
        was_training = model.training
        model.eval()
        try:
            for batch in loader:
                batch = self._prepare_inputs(batch)
                logits = self.objective.outputs(model, batch)
                probs = torch.softmax(logits, dim=-1).detach()
                for y in range(logits.shape[-1]):
                    target = {**batch, "labels": torch.full_like(batch["labels"], y)}
                    loss = self.objective.loss(logits, target)
                    grads = torch.autograd.grad(
                        loss, [p for _, p in named], retain_graph=True, allow_unused=True
                    )
                    weight = probs[:, y].mean()
                    for (name, _), grad in zip(named, grads):
                        if grad is not None:
                            totals[name] += weight * grad.pow(2)
        finally:
            model.train(was_training)
        return {name: total / max(len(loader), 1) for name, total in totals.items()}

    def train(
        self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any
    ) -> TrainOutput:
        start = time.time()
        fisher = self.retain_fisher()
        generator = torch.Generator().manual_seed(self.args.seed)
        with torch.no_grad():
            for name, param in self.trainable():
                variance = fisher_variance(fisher[name], self.num_labels, self.args.fisher_alpha)
                noise = torch.randn(param.shape, generator=generator, dtype=param.dtype).to(param.device)
                param.add_(variance.sqrt() * noise)
        rows = min(len(self.retain_dataset), self.args.fisher_max_samples or len(self.retain_dataset))
        return self.step_less_output(start, rows)


register_method(
    "fisher",
    trainer=FisherTrainer,
    config=FisherConfig,
    data_use=DataUse.RETAIN,  # read by train() itself; no batches are trained on
    citation='Golatkar, Achille & Soatto, "Eternal Sunshine of the Spotless Net", CVPR 2020 (Fisher forgetting)',
    quick_settings=dict(fisher_alpha=1e-5),
    # no gradient steps: the noise scale is the only knob (the learning rate and length mean nothing here)
    search_space={"fisher_alpha": Range(0.1, 10.0, log=True, relative=True)},
)
