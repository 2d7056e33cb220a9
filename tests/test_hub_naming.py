"""Repo id conventions and their validation (no network)."""

from __future__ import annotations

import pytest

from mubench_hf import MubenchError
from mubench_hf.hub import base_model_repo_id, check_repo_id, unlearned_model_repo_id
from mubench_hf.hub.naming import deletion_label


def test_conventions() -> None:
    assert base_model_repo_id("My-Org", "digits", "microsoft/ResNet-18") == "My-Org/mubench-digits-resnet-18"
    assert (
        unlearned_model_repo_id("org", "cifar10", "vit", "grad_ascent", 5, 3)
        == "org/mubench-cifar10-vit-grad_ascent-del5-seed3"
    )
    assert unlearned_model_repo_id("org", "digits", "resnet", "retrain", "digits_del2.5", 0).endswith(
        "-retrain-del2.5-seed0"
    )
    assert unlearned_model_repo_id("org", "digits", "resnet", "salun", "digits_class3", 1).endswith(
        "-salun-class3-seed1"
    )


@pytest.mark.parametrize(
    ("value", "label"),
    [(5, "del5"), ("5", "del5"), ("del10", "del10"), (2.5, "del2.5"), ("class7", "class7")],
)
def test_deletion_labels(value: object, label: str) -> None:
    assert deletion_label(value, "digits") == label


def test_templates_can_be_overridden_and_unknown_fields_are_named() -> None:
    template = "{org}/{task}-{method}-{deletion}"
    assert unlearned_model_repo_id("org", "digits", "resnet", "scrub", 1, 0, template=template) == (
        "org/digits-scrub-del1"
    )
    with pytest.raises(MubenchError, match=r"unknown field\(s\) \['ratio'\]; known fields: .*'deletion'"):
        unlearned_model_repo_id("org", "digits", "resnet", "scrub", 1, 0, template="{org}/{ratio}")


@pytest.mark.parametrize(
    "bad", ["name-only", "a/b/c", "org/has space", "org/x--y", "org/x..y", "org/-x", "org/" + "x" * 97]
)
def test_invalid_ids_get_a_clear_error(bad: str) -> None:
    with pytest.raises(
        MubenchError, match=r"invalid repo id .*(namespace/name|my-org/mubench-digits-resnet)"
    ):
        check_repo_id(bad)


def test_bad_parts_are_refused() -> None:
    assert check_repo_id("org/mubench-digits.v2_x") == "org/mubench-digits.v2_x"
    with pytest.raises(MubenchError, match="neither a ratio"):
        unlearned_model_repo_id("org", "digits", "resnet", "salun", "half", 0)
    with pytest.raises(MubenchError, match="seed must be an integer"):
        unlearned_model_repo_id("org", "digits", "resnet", "salun", 5, "0")  # type: ignore[arg-type]
    with pytest.raises(MubenchError, match="no letters or digits"):
        base_model_repo_id("org", "digits", "///")
