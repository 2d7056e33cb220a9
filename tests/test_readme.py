"""Every Python block of the README runs as written, in a folder laid out as the README says
(``./mubench`` built by build-splits, ``./base`` and ``./retrain`` trained by train-base and retrain),
with the local test Hub standing in for the Hugging Face Hub."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 4


@pytest.fixture
def readme_folder(tmp_path, digits_repo, digits_base_model_dir, monkeypatch):
    """A working folder as the README assumes one, and a fresh datasets cache for it."""
    import datasets.config

    from mubench_hf.reference_models import RecipeArguments, train_retrain

    shutil.copytree(digits_repo, tmp_path / "mubench")
    shutil.copytree(digits_base_model_dir, tmp_path / "base")
    recipe = RecipeArguments(output_dir=str(tmp_path / "retrain"), num_train_epochs=1, use_cpu=True,
                             disable_tqdm=True, logging_strategy="no")  # fmt: skip
    train_retrain(str(tmp_path / "mubench"), "digits_del5", str(tmp_path / "base"), tmp_path / "retrain", recipe,
                  cache_dir=str(tmp_path / "retrain_cache"), quiet=True)  # fmt: skip
    (tmp_path / "evaluate_metrics").symlink_to(ROOT / "evaluate_metrics")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf_datasets_cache")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_python_block_of_the_readme_runs(readme_folder, hub_server, monkeypatch):
    from mubench_hf.trainers import registry

    # the plugin block registers a method: keep it out of the other tests' registry
    monkeypatch.setattr(registry, "SPECS", dict(registry.SPECS))
    monkeypatch.setattr(registry, "METHODS", dict(registry.METHODS))
    namespace: dict = {"__name__": "readme"}
    for block in BLOCKS:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    # what the blocks claim they did
    assert set(namespace["splits"]) >= {"forget", "retain", "train", "validation", "test"}
    assert type(namespace["trainer"]).__name__ == "SalUnTrainer"
    report = namespace["report"]
    assert {"forget_accuracy", "gap_to_retrain", "mubench_score"} <= set(report)
    assert (readme_folder / "out" / "unlearning_results.json").is_file()
    pushed = [repo_id for kind, repo_id in hub_server.repos if kind == "model" and repo_id.endswith("/out")]
    assert pushed, "push_to_hub() created no model repo on the (test) Hub"
    assert {"README.md", "model.safetensors"} <= set(hub_server.files(pushed[0], "model"))
    assert "half_ascent" in registry.list_methods()
    assert namespace["kg"].compute is not None
