"""A checkpoint whose ``id2label`` orders the task's classes differently is re-mapped (its output rows
permuted into the task's order), one with other class names is refused naming both orders, and the generic
``LABEL_k`` names are taken as they are."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from mubench_hf.errors import MubenchError

# digits' classes "0".."9" in another order: row i of the checkpoint is class PERMUTED[i]
PERMUTED = ["3", "0", "9", "1", "7", "2", "8", "4", "6", "5"]


def _checkpoint(model_dir: Path, out: Path, names: list[str], permute: bool = True) -> Path:
    """A copy of ``model_dir`` whose output row i is the original row of class ``names[i]`` (when ``permute``)
    and whose config names row i ``names[i]``."""
    import torch
    from transformers import AutoModelForImageClassification

    model = AutoModelForImageClassification.from_pretrained(model_dir)
    if permute:
        original = [model.config.id2label[i] for i in range(model.config.num_labels)]
        rows = torch.as_tensor([original.index(name) for name in names])
        head = model.classifier[-1]
        with torch.no_grad():
            head.weight.copy_(head.weight[rows])
            head.bias.copy_(head.bias[rows])
    model.config.id2label = dict(enumerate(names))
    model.config.label2id = {name: i for i, name in enumerate(names)}
    model.save_pretrained(out)
    return out


def _logits(model, pixels):
    import torch

    model.eval()
    with torch.no_grad():
        return model(pixel_values=pixels).logits


@pytest.fixture
def pixels():
    import torch

    return torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))


def test_a_checkpoint_with_the_classes_in_another_order_is_remapped(tiny_model_dir, tmp_path, pixels):
    import torch
    from transformers import AutoModelForImageClassification

    from mubench_hf import get_task
    from mubench_hf.kinds.classification import build_model

    original = _logits(AutoModelForImageClassification.from_pretrained(tiny_model_dir), pixels)
    folder = _checkpoint(tiny_model_dir, tmp_path / "permuted", PERMUTED)
    as_saved = _logits(AutoModelForImageClassification.from_pretrained(folder), pixels)
    # what a loader that trusts row order scores: the original's logits, permuted
    assert torch.allclose(as_saved, original[:, [int(name) for name in PERMUTED]], atol=1e-6)

    with pytest.warns(
        UserWarning, match=r"orders its classes \['3', '0', '9'.*re-mapped to the task's order"
    ):
        model = build_model("digits", str(folder))
    assert torch.allclose(_logits(model, pixels), original, atol=1e-6)
    assert model.config.id2label == get_task("digits").id2label


def test_a_checkpoint_with_other_class_names_is_refused_naming_both_orders(tiny_model_dir, tmp_path):
    from mubench_hf.kinds.classification import build_model

    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    folder = _checkpoint(tiny_model_dir, tmp_path / "words", names, permute=False)
    with pytest.raises(MubenchError) as caught:
        build_model("digits", str(folder))
    message = str(caught.value)
    assert str(names) in message and str([str(i) for i in range(10)]) in message
    assert "new_head=True" in message


def test_generic_label_names_are_taken_in_their_order(tiny_model_dir, tmp_path, pixels):
    import torch
    from transformers import AutoModelForImageClassification

    from mubench_hf.kinds.classification import build_model

    folder = _checkpoint(
        tiny_model_dir, tmp_path / "generic", [f"LABEL_{i}" for i in range(10)], permute=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # nothing to re-map, nothing said
        model = build_model("digits", str(folder))
    expected = _logits(AutoModelForImageClassification.from_pretrained(folder), pixels)
    assert torch.equal(_logits(model, pixels), expected)
    assert model.config.id2label[3] == "3"


def test_label_maps_refuse_what_cannot_be_remapped():
    from mubench_hf.label_maps import is_generic, row_permutation

    assert row_permutation(["b", "a", "c"], ["a", "b", "c"]) == [1, 0, 2]
    assert row_permutation(["a", "b"], ["a", "b"]) is None
    assert row_permutation(["Neg", "POS"], ["neg", "pos"]) is None  # case is not a class
    assert row_permutation(["POS", "Neg"], ["neg", "pos"]) == [1, 0]
    assert is_generic(["LABEL_0", "LABEL_1"]) and not is_generic(["LABEL_1", "LABEL_0"])
    with pytest.raises(MubenchError, match=r"\['LABEL_1', 'LABEL_0'\] .* are not the task's classes"):
        row_permutation(["LABEL_1", "LABEL_0"], ["a", "b"])


def test_a_remapped_checkpoint_scores_as_the_original(digits_base_model_dir, digits_repo, tmp_path):
    from mubench_hf.cli import main
    from mubench_hf.evaluation import RESULTS_FILE

    folder = _checkpoint(digits_base_model_dir, tmp_path / "permuted", PERMUTED)
    for model in (digits_base_model_dir, folder):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert main(["evaluate", "--model", str(model), "--dataset", str(digits_repo), "--config",
                         "digits_del5", "--processor", str(digits_base_model_dir), "--output_dir",
                         str(tmp_path / f"eval_{model.name}"), "--use_cpu"]) == 0  # fmt: skip
    base, permuted = (json.loads((tmp_path / f"eval_{m.name}" / RESULTS_FILE).read_text()) for m in
                      (digits_base_model_dir, folder))  # fmt: skip
    assert base["test_accuracy"] > 0.5  # a trained model, far above chance (0.1)
    for split in ("test", "forget", "retain"):
        assert permuted[f"{split}_accuracy"] == pytest.approx(base[f"{split}_accuracy"])
