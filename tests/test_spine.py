"""The spine: methods from other packages, a report that scores every row whatever the training flags,
inputs checked before any work, exact checkpoint loading, and no import cycle."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mubench_hf.cli import main as mubench
from mubench_hf.evaluation import load_predictions

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QUIET = ["--use_cpu", "true", "--report_to", "none", "--disable_tqdm", "true", "--save_strategy", "no"]
PLUGIN = '''
"""A method from outside mubench-hf: gradient ascent at half strength (a test plugin, 2024)."""
from mubench_hf.trainers import DataUse, UnlearnTrainer, register_method


class HalfAscentTrainer(UnlearnTrainer):
    """Loss = -CE(Df) / 2."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        logits = self.objective.outputs(model, inputs)
        loss = -0.5 * self.objective.loss(logits, inputs)
        return (loss, {"logits": logits}) if return_outputs else loss


register_method("half_ascent", trainer=HalfAscentTrainer, data_use=DataUse.FORGET,
                citation="A test plugin, 2024", quick_settings={"max_steps": 2})
'''


def unlearn_argv(repo, model_dir, tmp_path, *extra: str) -> list[str]:
    return [
        "unlearn", "--dataset", str(repo), "--config", "digits_del5", "--model", str(model_dir),
        "--cache_dir", str(tmp_path / "cache"), *QUIET, *extra,
    ]  # fmt: skip


def _install_plugin(root: Path, entry_point: str, module: str, source: str) -> None:
    """A distribution on sys.path exposing one ``mubench_hf.methods`` entry point."""
    (root / f"{module}.py").write_text(source)
    info = root / f"{module}_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[mubench_hf.methods]\n{entry_point} = {module}\n")


@pytest.fixture
def fresh_registry(monkeypatch):
    """Plugins are loaded once per process: let this test load them again, and forget them after."""
    from mubench_hf import plugins
    from mubench_hf.trainers import registry

    monkeypatch.setattr(plugins, "_LOADED", plugins._LOADED - {plugins.METHODS_GROUP})
    monkeypatch.setattr(plugins, "PLUGIN_ERRORS", {})
    monkeypatch.setattr(registry, "SPECS", dict(registry.SPECS))
    monkeypatch.setattr(registry, "METHODS", dict(registry.METHODS))
    return registry


def test_a_method_from_an_entry_point_runs_through_mubench_unlearn(
    digits_repo, digits_base_model_dir, tmp_path, monkeypatch, fresh_registry
):
    plugins = tmp_path / "site"
    plugins.mkdir()
    _install_plugin(plugins, "half_ascent", "half_ascent_method", PLUGIN)
    monkeypatch.syspath_prepend(str(plugins))
    out = tmp_path / "out"
    argv = unlearn_argv(
        digits_repo, digits_base_model_dir, tmp_path, "--method", "half_ascent", "--max_steps", "2"
    )
    assert mubench([*argv, "--output_dir", str(out)]) == 0
    assert "half_ascent" in fresh_registry.list_methods()
    predictions, meta = load_predictions(out / "predictions.npz")
    assert meta["method"] == "half_ascent" and len(predictions["forget"].labels) == 62
    assert "**Method paper**: A test plugin, 2024" in (out / "README.md").read_text()  # from its declaration


def test_a_broken_plugin_is_named_and_the_built_in_methods_keep_working(
    tmp_path, monkeypatch, fresh_registry
):
    plugins = tmp_path / "site"
    plugins.mkdir()
    _install_plugin(plugins, "broken", "broken_method", "raise ImportError('needs a missing package')\n")
    monkeypatch.syspath_prepend(str(plugins))
    with pytest.warns(UserWarning, match="plugin 'broken'.*needs a missing package"):
        assert "grad_ascent" in fresh_registry.list_methods()
    with pytest.raises(KeyError, match="plugin 'broken' failed to load"):
        fresh_registry.get_method("no_such_method")


def test_the_report_scores_every_row_whatever_the_training_flags(
    digits_repo, digits_base_model_dir, tmp_path
):
    out = tmp_path / "out"
    flags = "--method grad_ascent --max_steps 2 --dataloader_drop_last true"
    flags += " --per_device_train_batch_size 7 --per_device_eval_batch_size 11"
    argv = unlearn_argv(digits_repo, digits_base_model_dir, tmp_path, *flags.split())
    assert mubench([*argv, "--output_dir", str(out)]) == 0
    predictions, _ = load_predictions(out / "predictions.npz")
    # digits_del5: 62 forget rows, 1,195 retain rows, 360 test rows; 62 and 360 are no multiples of 11
    assert {n: len(p.labels) for n, p in predictions.items()} == {
        "forget": 62, "retain": 1195, "test": 360, "validation": 180,
    }  # fmt: skip
    for split in predictions.values():  # each row exactly once, in order
        assert len(np.unique(split.sample_ids)) == len(split.sample_ids)


def test_the_api_example_with_the_default_batch_size_trains_under_batch_norm(
    digits_base_model_dir, digits_del5, tmp_path
):
    """1,257 union rows in batches of 8 leave one row for the last batch, which batch norm refuses:
    that row is left out of training only, and the report still scores every row."""
    from transformers import AutoModelForImageClassification

    from mubench_hf import UnlearnConfig, UnlearnTrainer, prepare_splits

    model = AutoModelForImageClassification.from_pretrained(digits_base_model_dir)
    splits = prepare_splits(digits_del5, "digits", model)
    args = UnlearnConfig(output_dir=str(tmp_path), method="random_label", use_cpu=True, max_steps=158,
                         report_to="none", disable_tqdm=True, save_strategy="no")  # fmt: skip
    trainer = UnlearnTrainer(model=model, args=args, splits=splits)
    assert trainer.drops_one_row_batch()
    assert len(trainer.get_train_dataloader()) == 1257 // 8
    trainer.train()  # past the end of the first epoch, where the one-row batch would have come
    report = trainer.evaluate_unlearning(original_test_accuracy=0.9)
    predictions, _ = load_predictions(tmp_path / "predictions.npz")
    assert len(predictions["forget"].labels) == 62 and np.isfinite(report["forget_accuracy"])


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ("--retrain_reference nope", "retrain reference 'nope' does not exist"),
        ("--num_train_epochs -2", "num_train_epochs must be > 0"),
        ("--num_train_epochs 0", "num_train_epochs must be > 0"),
        ("--max_steps 0", "max_steps must be > 0"),
        ("--learning_rate -1e-3", "learning_rate must be a number > 0"),
        ("--learning_rate 0", "learning_rate must be a number > 0"),
        ("--per_device_train_batch_size 0", "per_device_train_batch_size must be > 0"),
    ],
)
def test_unlearn_checks_every_input_before_any_work(
    digits_repo, digits_base_model_dir, tmp_path, capsys, flags, message
):
    out = tmp_path / "out"
    argv = unlearn_argv(
        digits_repo, digits_base_model_dir, tmp_path, "--method", "grad_ascent", *flags.split()
    )
    assert mubench([*argv, "--output_dir", str(out)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()  # nothing written: not even an empty folder


@pytest.mark.parametrize(
    "flags",
    [
        "--num_train_epochs -1",
        "--learning_rate -0.01",
        "--max_steps -5",
        "--save_strategy no",  # load_best_model_at_end needs checkpoints: TrainingArguments refuses it
    ],
)
def test_train_base_refuses_a_run_that_would_train_nothing(digits_repo, tmp_path, capsys, flags):
    out = tmp_path / "base"
    argv = ["train-base", "--dataset", str(digits_repo), "--task", "digits", "--model", "tiny:resnet",
            "--output_dir", str(out), *flags.split(), "--use_cpu", "true"]  # fmt: skip
    assert mubench(argv) == 1
    err = capsys.readouterr().err
    assert (
        "must be" in err or "requires the save and eval strategy to match" in err
    ) and "Traceback" not in err
    assert not out.exists()


def test_the_best_epoch_of_a_vit_is_the_model_saved(digits_repo, tmp_path):
    """ViT checkpoints are written under older key names; reloading the best one must load every weight."""
    import json

    from mubench_hf.reference_models import RecipeArguments, train_base

    out = tmp_path / "vit"
    args = RecipeArguments(output_dir=str(out), learning_rate=0.01, lr_scheduler_type="constant", seed=3,
                           per_device_train_batch_size=32, num_train_epochs=3, use_cpu=True, disable_tqdm=True,
                           save_total_limit=None)  # fmt: skip
    results = train_base(
        str(digits_repo), "digits", "tiny:vit", out, args, cache_dir=str(tmp_path / "c"), quiet=True
    )
    state = json.loads((out / "train_results.json").read_text())
    best = max(e["eval_accuracy"] for e in state["eval_history"])  # one entry per epoch
    assert len(state["eval_history"]) == 3
    assert results["validation_accuracy"] == pytest.approx(best, abs=1e-9)


def test_a_checkpoint_that_does_not_match_the_model_fails_loudly(tmp_path):
    import safetensors.torch
    import torch
    from transformers import ViTConfig, ViTForImageClassification

    from mubench_hf.errors import MubenchError
    from mubench_hf.training import MubenchTrainer

    torch.manual_seed(0)
    config = ViTConfig(image_size=8, patch_size=2, num_channels=1, hidden_size=16, num_hidden_layers=1,
                       num_attention_heads=2, intermediate_size=32, num_labels=3)  # fmt: skip
    model = ViTForImageClassification(config)
    model.save_pretrained(tmp_path / "ckpt")
    trainer = MubenchTrainer(model=ViTForImageClassification(config), args=_args(tmp_path))
    trainer._load_from_checkpoint(str(tmp_path / "ckpt"))  # older key names on disk: converted, all loaded
    for name, weight in model.state_dict().items():
        assert torch.equal(trainer.model.state_dict()[name], weight), name
    weights = safetensors.torch.load_file(tmp_path / "ckpt" / "model.safetensors")
    weights.pop(next(k for k in weights if "classifier" in k))
    safetensors.torch.save_file(weights, tmp_path / "ckpt" / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(MubenchError, match="does not match the model: 1 missing"):
        trainer._load_from_checkpoint(str(tmp_path / "ckpt"))


def _args(tmp_path):
    from transformers import TrainingArguments

    return TrainingArguments(output_dir=str(tmp_path / "t"), use_cpu=True, report_to="none")


def test_evaluation_does_not_import_the_trainers():
    code = textwrap.dedent(
        """
        import sys
        import mubench_hf.evaluation, mubench_hf.metrics, mubench_hf.pipeline
        print(sorted(m for m in sys.modules if m.startswith("mubench_hf.trainers")))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_command_help_is_kept_and_then_needs_no_transformers(tmp_path):
    code = "import sys; from mubench_hf.cli import main; main(['unlearn', '--help']); print('transformers' in sys.modules)"
    env = {"MUBENCH_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "--dataset" in first.stdout and "--learning_rate" in first.stdout
    assert first.stdout.splitlines()[:-1] == second.stdout.splitlines()[:-1]
    assert second.stdout.splitlines()[-1] == "False"


def test_an_arguments_file_reads_numbers_as_written(digits_repo, digits_base_model_dir, tmp_path):
    """PyYAML alone reads ``3e-3`` as a string (YAML 1.1); the args file must give the float."""
    import json

    out = tmp_path / "out"
    text = textwrap.dedent(
        f"""
        dataset: {digits_repo}
        config: digits_del5
        model: {digits_base_model_dir}
        cache_dir: {tmp_path / "cache"}
        method: grad_ascent
        learning_rate: 3e-3
        weight_decay: 1e-4
        max_steps: 2
        output_dir: {out}
        use_cpu: true
        report_to: none
        disable_tqdm: true
        save_strategy: "no"
        """
    )
    (tmp_path / "args.yaml").write_text(text)
    assert mubench(["unlearn", str(tmp_path / "args.yaml")]) == 0
    arguments = json.loads((out / "unlearn_run.json").read_text())["arguments"]
    assert arguments["learning_rate"] == 3e-3 and arguments["weight_decay"] == 1e-4


def test_pin_memory_follows_the_device(tmp_path):
    import torch
    from trainer_testlib import tiny_linear
    from transformers import TrainingArguments

    from mubench_hf.training import MubenchTrainer

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: pinning memory is right there")
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none")  # no use_cpu: the device decides
    assert args.dataloader_pin_memory  # transformers' default
    trainer = MubenchTrainer(model=tiny_linear(), args=args)
    assert trainer.args.dataloader_pin_memory is False  # no GPU: pinning would only warn


def test_pinning_is_kept_for_accelerators_that_copy_from_pinned_memory():
    from mubench_hf.training import pinning_helps

    assert pinning_helps("cuda") and pinning_helps("cuda:1") and pinning_helps("xpu")
    assert not pinning_helps("cpu") and not pinning_helps("mps")
