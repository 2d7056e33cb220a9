"""Helpers of the peer cross-check tests (``test_methods_peers*.py``): the forget and retain sets, a
first-update runner (one plain SGD step over a batch holding every row), the peers' ``optimizer.step()``
re-derived, and small models with blocks and with a convolution."""

from __future__ import annotations

from typing import Any

import torch
from test_trainers_losses import CLASSES, FEATURES, column
from torch import nn
from trainer_testlib import linear_rows, quiet_args
from transformers import PretrainedConfig, PreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

LR = 0.1
FORGET_ROWS, RETAIN_ROWS = 6, 12  # the retain set is twice the forget set: paired batches hold each row


def forget_set():
    return linear_rows(FORGET_ROWS, FEATURES, CLASSES, seed=1)


def retain_set():
    return linear_rows(RETAIN_ROWS, FEATURES, CLASSES, seed=2)


def xy(dataset) -> tuple[torch.Tensor, torch.Tensor]:
    return column(dataset, "pixel_values"), column(dataset, "label")


def sgd_args(tmp_path, **hyper: Any) -> dict[str, Any]:
    """One plain SGD step over a batch holding every row."""
    return quiet_args(
        tmp_path,
        optim="sgd",
        learning_rate=LR,
        max_steps=1,
        max_grad_norm=0.0,
        weight_decay=0.0,
        lr_scheduler_type="constant",
        per_device_train_batch_size=RETAIN_ROWS + FORGET_ROWS,
        **hyper,
    )


def first_update(tmp_path, method: str, model: nn.Module, **hyper: Any) -> UnlearnTrainer:
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method=method, **sgd_args(tmp_path, **hyper)),
        forget_dataset=forget_set(),
        retain_dataset=retain_set(),
    )
    trainer.train()
    return trainer


def peer_sgd_step(model: nn.Module, loss: torch.Tensor) -> dict[str, torch.Tensor]:
    """θ − η·∇loss for the parameters that require gradients (the peers' ``optimizer.step()``)."""
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params)
    after = {n: p.detach().clone() for n, p in model.named_parameters()}
    for (name, p), g in zip([(n, p) for n, p in model.named_parameters() if p.requires_grad], grads):
        after[name] = p.detach() - LR * g
    return after


def assert_weights(model: nn.Module, expected: dict[str, torch.Tensor]) -> None:
    for name, param in model.named_parameters():
        assert torch.allclose(param.detach(), expected[name], rtol=1e-5, atol=1e-6), name


# ----------------------------------------------------------------------------- a model with blocks
class TinyStackConfig(PretrainedConfig):
    model_type = "mubench-test-stack"

    def __init__(self, num_features: int = 4, hidden: int = 5, num_labels: int = 3, **kwargs: Any) -> None:
        super().__init__(num_labels=num_labels, **kwargs)
        self.num_features, self.hidden = num_features, hidden


class TinyBackbone(nn.Module):
    def __init__(self, config: TinyStackConfig) -> None:
        super().__init__()
        self.embed = nn.Linear(config.num_features, config.hidden)
        self.layers = nn.ModuleList([nn.Linear(config.hidden, config.hidden) for _ in range(2)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.tanh(self.embed(x))
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return x


class TinyStackClassifier(PreTrainedModel):
    """embed → two blocks → classifier: "the last k blocks" has an answer here."""

    config_class = TinyStackConfig
    base_model_prefix = "backbone"
    main_input_name = "pixel_values"

    def __init__(self, config: TinyStackConfig) -> None:
        super().__init__(config)
        self.backbone = TinyBackbone(config)
        self.classifier = nn.Linear(config.hidden, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            module.reset_parameters()

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None, **kwargs: Any):
        return SequenceClassifierOutput(logits=self.classifier(self.backbone(pixel_values)))


def tiny_stack(seed: int = 0) -> TinyStackClassifier:
    torch.manual_seed(seed)
    return TinyStackClassifier(TinyStackConfig(num_features=FEATURES, num_labels=CLASSES))


class TinyConvClassifier(TinyStackClassifier):
    """A 4×4 one-channel image (16 features) → one 3×3 convolution → classifier."""

    def __init__(self, config: TinyStackConfig) -> None:
        super().__init__(config)
        self.backbone = nn.Conv2d(1, 2, 3, padding=1)
        self.classifier = nn.Linear(32, config.num_labels)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            module.reset_parameters()

    def forward(self, pixel_values: torch.Tensor, labels: torch.Tensor | None = None, **kwargs: Any):
        features = torch.tanh(self.backbone(pixel_values.view(-1, 1, 4, 4)))
        return SequenceClassifierOutput(logits=self.classifier(features.flatten(1)))


def tiny_conv() -> TinyConvClassifier:
    torch.manual_seed(0)
    return TinyConvClassifier(TinyStackConfig(num_features=16, num_labels=CLASSES))


def image_rows(n: int, seed: int):
    return linear_rows(n, 16, CLASSES, seed=seed)


def seeded_noise(shape: torch.Size, seed: int, std: float) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * std
