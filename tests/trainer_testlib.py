"""Helpers of the trainer tests: a linear classifier that behaves like a Hugging Face model, and
small utilities to build trainers, compare weights and measure accuracy."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import datasets
import torch
from torch import nn
from torch.utils.data import DataLoader
from transformers import PretrainedConfig, PreTrainedModel, default_data_collator
from transformers.modeling_outputs import SequenceClassifierOutput


class TinyLinearConfig(PretrainedConfig):
    model_type = "mubench-test-linear"

    def __init__(self, num_features: int = 4, num_labels: int = 3, **kwargs: Any) -> None:
        super().__init__(num_labels=num_labels, **kwargs)
        self.num_features = num_features


class TinyLinearClassifier(PreTrainedModel):
    """logits = pixel_values @ W.T + b, so a test can write the expected logits by hand."""

    config_class = TinyLinearConfig
    main_input_name = "pixel_values"

    def __init__(self, config: TinyLinearConfig) -> None:
        super().__init__(config)
        self.linear = nn.Linear(config.num_features, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            module.reset_parameters()

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None, **kwargs: Any):
        logits = self.linear(pixel_values)
        loss = nn.functional.cross_entropy(logits, labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)


def tiny_linear(num_features: int = 4, num_labels: int = 3, seed: int = 0) -> TinyLinearClassifier:
    torch.manual_seed(seed)
    return TinyLinearClassifier(TinyLinearConfig(num_features=num_features, num_labels=num_labels))


def linear_rows(n: int, num_features: int = 4, num_labels: int = 3, seed: int = 0) -> datasets.Dataset:
    """A labelled dataset of ``n`` random feature vectors with a ClassLabel column."""
    g = torch.Generator().manual_seed(seed)
    features = datasets.Features(
        {
            "pixel_values": datasets.Sequence(datasets.Value("float32")),
            "label": datasets.ClassLabel(num_classes=num_labels),
            "sample_id": datasets.Value("int64"),
        }
    )
    return datasets.Dataset.from_dict(
        {
            "pixel_values": torch.randn(n, num_features, generator=g).tolist(),
            "label": torch.randint(0, num_labels, (n,), generator=g).tolist(),
            "sample_id": list(range(n)),
        },
        features=features,
    ).with_format("torch")


def state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of every weight, for comparisons."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def max_difference(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def accuracy(model: nn.Module, dataset: Any, batch_size: int = 256) -> float:
    """Share of rows of a transformed image dataset that ``model`` classifies correctly."""
    from mubench_hf.trainers.data import RowDataset

    model.eval()
    correct = total = 0
    with torch.no_grad():
        for batch in DataLoader(RowDataset(dataset), batch_size=batch_size, collate_fn=default_data_collator):
            predicted = model(pixel_values=batch["pixel_values"]).logits.argmax(-1)
            correct += int((predicted == batch["labels"]).sum())
            total += len(batch["labels"])
    return correct / total


def fresh_copy(model: nn.Module) -> nn.Module:
    return copy.deepcopy(model)


def quiet_args(output_dir: Any, **overrides: Any) -> dict[str, Any]:
    """TrainingArguments for fast, silent CPU runs in tests."""
    values: dict[str, Any] = dict(
        output_dir=str(output_dir),
        use_cpu=True,
        report_to="none",
        disable_tqdm=True,
        save_strategy="no",
        logging_strategy="no",
        per_device_train_batch_size=16,
        per_device_eval_batch_size=64,
        seed=0,
        dataloader_num_workers=0,
    )
    values.update(overrides)
    return values
