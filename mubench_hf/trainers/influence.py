"""Influence unlearning (IU): one Newton-like step that removes Df's influence, with a WoodFisher
estimate of the inverse Hessian.

Retrain-free (Koh & Liang's influence functions applied to unlearning; Izzo et al., AISTATS 2021;
the "IU" baseline of Jia et al., "Model Sparsity Can Simplify Machine Unlearning", NeurIPS 2023), in
the form of OPTML-Group/Unlearn-Sparse's ``unlearn/Wfisher.py``, which DeepUnlearn's
``munl/unlearning/iu.py`` takes over. With nf = |Df|, nr = |Dr| and g_D the sum of per-row gradients of
the cross-entropy over a set D (eval mode, trainable weights flattened into one vector):

1. v = g_Df / (nf + nr) − g_Dr · nf / ((nf + nr)·nr);
2. k = v, then over the retain rows one at a time (gradient g_i of that row's loss), with N the
   WoodFisher sample count: the first row sets o = g_0; each later row does
   t = o·g_i,  k ← k − (k·g_i / (N + t))·o,  o ← o − (t / (N + t))·o,
   stopping after row N + 1 (both peers' loop: at most N + 2 rows are read);
3. θ ← θ + α·k.

Defaults from DeepUnlearn: α = 0.2, N = 1000, batches of 256 for the sums of step 1. The recursion is
the peers' as written (it updates k along o, not along the inverse-Fisher-times-gradient of each row a
textbook Sherman–Morrison step would use). There are no optimizer steps: ``train()`` edits the weights
once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import Subset
from transformers.trainer_utils import TrainOutput

from ..errors import MubenchError
from ..rows import RowDataset
from ..search_space import Range
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import register_method
from .weight_edit import WeightEditMixin


@dataclass
class InfluenceConfig(UnlearnConfig):
    """``UnlearnConfig`` plus IU's step size, WoodFisher sample count and batch size."""

    influence_alpha: float = field(default=0.2, metadata={"help": "α: the step θ ← θ + α·k."})
    woodfisher_samples: int = field(
        default=1000,
        metadata={"help": "N: the WoodFisher damping count; at most N + 2 retain rows are read one by one."},
    )
    influence_batch_size: int = field(
        default=256, metadata={"help": "Rows per batch for the summed gradients of Df and Dr."}
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.woodfisher_samples < 1 or self.influence_batch_size < 1:
            raise MubenchError("woodfisher_samples and influence_batch_size must be >= 1")


class InfluenceTrainer(WeightEditMixin, UnlearnTrainer):
    """θ ← θ + α·WoodFisher⁻¹·(influence of Df − share of Dr's gradient); no optimizer steps."""

    def flat_gradient(self, batch: dict[str, Any]) -> torch.Tensor:
        """∇θ of the batch-mean cross-entropy, flattened over the trainable weights."""
        model = self.accelerator.unwrap_model(self.model)
        params = [p for _, p in self.trainable()]
        loss = self.objective.loss(self.objective.outputs(model, batch), batch)
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        return torch.cat(
            [(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(grads, params)]
        )

    def summed_gradient(self, dataset: Any) -> torch.Tensor:
        """Σ over the rows of ``dataset`` of each row's loss gradient (batch mean × batch size)."""
        total = None
        for batch in self.row_loader(RowDataset(dataset), self.args.influence_batch_size):
            batch = self._prepare_inputs(batch)
            grad = self.flat_gradient(batch) * len(batch["labels"])
            total = grad if total is None else total + grad
        return total

    def woodfisher(self, v: torch.Tensor) -> torch.Tensor:
        """Step 2 of the module docstring, over the first retain rows in their order."""
        n = self.args.woodfisher_samples
        rows = RowDataset(self.retain_dataset)
        rows = Subset(rows, range(min(len(rows), n + 2)))
        k, o = v.clone(), None
        for batch in self.row_loader(rows, 1):
            g = self.flat_gradient(self._prepare_inputs(batch))
            if o is None:
                o = g.clone()
                continue
            t = torch.dot(o, g)
            k -= (torch.dot(k, g) / (n + t)) * o
            o -= (t / (n + t)) * o
        return k

    def influence_step(self) -> torch.Tensor:
        """α·k, the change to the flattened trainable weights."""
        model = self.accelerator.unwrap_model(self.model)
        was_training = model.training
        model.eval()
        try:
            nf, nr = len(self.forget_dataset), len(self.retain_dataset)
            forget = self.summed_gradient(self.forget_dataset) / (nf + nr)
            retain = self.summed_gradient(self.retain_dataset) * nf / ((nf + nr) * nr)
            return self.args.influence_alpha * self.woodfisher(forget - retain)
        finally:
            model.train(was_training)

    def train(
        self, resume_from_checkpoint: str | bool | None = None, trial: Any = None, **kwargs: Any
    ) -> TrainOutput:
        start = time.time()
        step = self.influence_step()
        offset = 0
        with torch.no_grad():
            for _, param in self.trainable():
                size = param.numel()
                param.add_(step[offset : offset + size].view_as(param))
                offset += size
        rows = len(self.forget_dataset) + len(self.retain_dataset)
        return self.step_less_output(start, rows, update_norm=float(step.norm()))


register_method(
    "influence",
    trainer=InfluenceTrainer,
    config=InfluenceConfig,
    data_use=DataUse.SEPARATE,
    citation='Izzo et al., AISTATS 2021; Jia et al., "Model Sparsity Can Simplify Machine Unlearning", '
    "NeurIPS 2023 (IU, WoodFisher)",
    quick_settings=dict(influence_alpha=3.0, woodfisher_samples=200),
    # no gradient steps: the step size is the knob (the learning rate and length mean nothing here)
    search_space={"influence_alpha": Range(0.25, 4.0, log=True, relative=True)},
)
