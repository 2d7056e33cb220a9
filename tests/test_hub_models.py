"""Model folders pushed to a (local) Hub load back with identical weights; pushes are single commits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from huggingface_hub import HfApi, ModelCard
from transformers import AutoModelForImageClassification

from mubench_hf import MubenchError
from mubench_hf.cli import main
from mubench_hf.hub import push_model, read_results, render_model_card
from tests.hub_server import LocalHub

BASE = "mubench-org/mubench-digits-resnet"
UNLEARNED = "mubench-org/mubench-digits-resnet-salun-del5-seed0"


def write_card(folder: Path, repo_id: str, results: dict[str, float], kind: str = "unlearned") -> None:
    extra = (
        {"base_model": BASE, "method": "salun", "method_params": {"sparsity": 0.5}}
        if kind == "unlearned"
        else {}
    )
    card = render_model_card(
        kind,
        task="digits",
        config=None if kind == "base" else "digits_del5",
        dataset_repo="mubench-org/mubench-splits",
        dataset_hash="0" * 64,
        backbone="resnet",
        recipe={"learning_rate": 0.01, "num_train_epochs": 1},
        seed=0,
        results=results,
        model_name=repo_id,
        **extra,
    )
    card.save(folder / "README.md")


def test_a_pushed_model_loads_with_identical_weights(hub_server: LocalHub, tiny_model_dir: Path) -> None:
    write_card(tiny_model_dir, BASE, {"test_accuracy": 0.9, "validation_accuracy": 0.91}, kind="base")
    before = {p.name: p.read_bytes() for p in tiny_model_dir.iterdir()}
    result = push_model(tiny_model_dir, BASE)
    assert result.uploaded == ["README.md", "config.json", "model.safetensors"]
    assert {p.name: p.read_bytes() for p in tiny_model_dir.iterdir()} == before

    local = AutoModelForImageClassification.from_pretrained(tiny_model_dir)
    remote = AutoModelForImageClassification.from_pretrained(BASE)
    assert remote.config.id2label == local.config.id2label
    local_state, remote_state = local.state_dict(), remote.state_dict()
    assert local_state.keys() == remote_state.keys()
    assert all(torch.equal(local_state[k], remote_state[k]) for k in local_state)

    card = ModelCard.load(BASE)
    assert read_results(card) == {"test_accuracy": 0.9, "validation_accuracy": 0.91}
    assert (
        card.data.tags[:2] == ["mubench", "machine-unlearning"] and card.data.library_name == "transformers"
    )


def test_pushing_again_adds_one_commit_and_keeps_unrelated_files(
    hub_server: LocalHub, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_card(tiny_model_dir, UNLEARNED, {"mubench_score": 0.5, "forget_accuracy": 0.4})
    (tiny_model_dir / "unlearning_results.json").write_text(json.dumps({"mubench_score": 0.5}))
    (tiny_model_dir / "checkpoint-10").mkdir()
    (tiny_model_dir / "checkpoint-10" / "optimizer.pt").write_bytes(b"stays local")
    assert main(["push", str(tiny_model_dir), UNLEARNED]) == 0
    assert UNLEARNED in capsys.readouterr().out
    api = HfApi()
    api.upload_file(path_or_fileobj=b"by hand", path_in_repo="notes.md", repo_id=UNLEARNED)
    api.upload_file(path_or_fileobj=b"\0old weights", path_in_repo="pytorch_model.bin", repo_id=UNLEARNED)
    commits = len(hub_server.commits(UNLEARNED))

    write_card(tiny_model_dir, UNLEARNED, {"mubench_score": 0.75, "forget_accuracy": 0.2})
    result = push_model(tiny_model_dir, UNLEARNED, commit_message="better scores")
    history = hub_server.commits(UNLEARNED)
    assert len(history) == commits + 1 and history[-1].title == "better scores"
    assert result.deleted == ["pytorch_model.bin"]  # a stale weight file could shadow the new weights
    files = hub_server.files(UNLEARNED)
    assert files["notes.md"] == b"by hand"
    assert json.loads(files["unlearning_results.json"]) == {"mubench_score": 0.5}
    assert not any(name.startswith("checkpoint-") for name in files)
    assert read_results(ModelCard.load(UNLEARNED)) == {"mubench_score": 0.75, "forget_accuracy": 0.2}

    unchanged = push_model(tiny_model_dir, UNLEARNED)  # nothing changed: no empty commit
    assert len(hub_server.commits(UNLEARNED)) == commits + 1
    assert unchanged.commit_oid == history[-1].oid and unchanged.uploaded == []


def test_a_failed_model_push_keeps_the_folder_and_can_be_retried(
    hub_server: LocalHub, tiny_model_dir: Path
) -> None:
    write_card(tiny_model_dir, UNLEARNED, {"mubench_score": 0.5})
    before = {p.name: p.read_bytes() for p in tiny_model_dir.iterdir()}
    hub_server.fail_next_commits(1)
    with pytest.raises(MubenchError, match=f"{UNLEARNED}.*500.*Nothing was changed locally.*retry"):
        push_model(tiny_model_dir, UNLEARNED)
    assert {p.name: p.read_bytes() for p in tiny_model_dir.iterdir()} == before
    assert set(hub_server.files(UNLEARNED)) == {".gitattributes"}
    push_model(tiny_model_dir, UNLEARNED)
    assert "model.safetensors" in hub_server.files(UNLEARNED)


def test_an_incomplete_folder_or_missing_token_is_refused_before_any_request(
    hub_server: LocalHub, tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(MubenchError, match="no README.md model card.*render_model_card"):
        push_model(tiny_model_dir, UNLEARNED)
    with pytest.raises(MubenchError, match="holds no config.json"):
        push_model(tmp_path, UNLEARNED)
    with pytest.raises(MubenchError, match="does not exist"):
        push_model(tmp_path / "missing", UNLEARNED)
    with pytest.raises(MubenchError, match="invalid repo id"):
        push_model(tiny_model_dir, "mubench-org/bad name")
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(MubenchError, match="no Hugging Face token"):
        push_model(tiny_model_dir, UNLEARNED)
    assert hub_server.request_log == []
