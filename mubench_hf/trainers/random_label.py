"""Random labelling: train on Dr together with Df whose labels are replaced by wrong classes.

Each forget sample gets a class drawn uniformly among the *other* classes (seeded by ``args.seed``,
fixed for the run), and the model is trained with cross-entropy on the shuffled union with Dr.
Graves, Nagisetty & Ganesh, "Amnesiac Machine Learning", AAAI 2021; the "RL" baseline of Golatkar et
al., CVPR 2020 and of SalUn (Fan et al., ICLR 2024).

Text-to-image tasks follow SalUn's diffusion code (OPTML-Group/Unlearn-Saliency,
``SD/train-scripts/random_label.py``, its RL baseline and, with the saliency mask, SalUn): on paired
batches, the forgotten concept's noise prediction on a forget image's x_t is pulled to the prediction the
model itself makes for another concept c′ on the same x_t (no gradient through that target; c′ is the next
concept, (k + 1) mod K, as the script takes the next class), plus α times the plain denoising loss on the
retain rows: L = ‖ε_θ(x_t, c) − sg(ε_θ(x_t, c′))‖² + α·L_denoise(Dr), α = ``relabel_retain_weight`` (the
script's ``--alpha`` 0.1). Training Df's images under c′'s prompt instead, as the classification recipe
would, teaches c′ to draw the forgotten concept and leaves c's prompt as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import MubenchError
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .registry import register_method

IMAGE_GENERATION = "image_generation"


@dataclass
class RandomLabelConfig(UnlearnConfig):
    """``UnlearnConfig`` plus the retain weight of the text-to-image form."""

    relabel_retain_weight: float = field(
        default=0.1,
        metadata={
            "help": "Text-to-image tasks: α >= 0, weight of the retain denoising loss beside the relabelled "
            "forget term (SalUn's SD random_label.py: 0.1). Classification trains on one union and ignores it."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.relabel_retain_weight < 0:
            raise MubenchError(f"relabel_retain_weight must be >= 0, got {self.relabel_retain_weight}")


def concept_prompt_table(collator: Any) -> torch.Tensor:
    """The ``[K, L]`` prompt tokens of every concept, from the text-to-image collator (wrapped or not)."""
    inner = getattr(collator, "collate", collator)
    table = getattr(inner, "prompt_ids", None)
    if not isinstance(table, torch.Tensor):
        raise MubenchError(
            "random labelling on a text-to-image task needs the kind's collator (its concept prompts); "
            f"got {type(inner).__name__}"
        )
    return table


class RandomLabelTrainer(UnlearnTrainer):
    """Cross-entropy on Dr ∪ relabelled Df (the relabelling is done by the data code, see ``data.py``);
    text-to-image tasks: the paired form of the module docstring."""

    def data_use_for(self, kind: str) -> DataUse:
        return DataUse.PAIRED if kind == IMAGE_GENERATION else self.data_use

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        if self.objective.kind != IMAGE_GENERATION:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        forget, retain = inputs["forget"], inputs["retain"]
        table = concept_prompt_table(self.data_collator)
        other = table[(forget["labels"].cpu() + 1) % len(table)].to(forget["input_ids"].device)
        with torch.no_grad():
            target = self.objective.noise_prediction(model, forget, other)
        forget_out, retain_out = self.objective.pair_outputs(model, inputs)
        forget_loss = (forget_out.prediction.float() - target.float()).pow(2).mean()
        retain_loss = self.objective.loss(retain_out, retain)
        self.log_term("forget_loss", forget_loss)
        self.log_term("retain_loss", retain_loss)
        loss = forget_loss + self.args.relabel_retain_weight * retain_loss
        return (loss, {"prediction": forget_out.prediction}) if return_outputs else loss


register_method(
    "random_label",
    trainer=RandomLabelTrainer,
    config=RandomLabelConfig,
    data_use=DataUse.UNION_RELABELLED,
    kinds=("classification", IMAGE_GENERATION),
    citation='Graves, Nagisetty & Ganesh, "Amnesiac Machine Learning", AAAI 2021',
    quick_settings=dict(learning_rate=2e-3, num_train_epochs=3),
)
