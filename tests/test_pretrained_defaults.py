"""A pretrained checkpoint gets fine-tuning defaults, not the ones tuned for tiny from-config models.

On today's main ``mubench train-base --model <MiniLM folder or SmolLM2 .gguf>`` without training flags trains
with the from-config recipe (RecipeArguments' lr 3e-3 for 8 epochs; a generation task's lr 5e-3 for 20),
and ``mubench unlearn --method npo`` on a SmolLM2 base fine-tuned on ``fictitious_authors_small`` gets the
declared quick settings of the tiny Llama (lr 1e-3), as does every cell of ``mubench run --model <checkpoint>``.
Here the base recipe of a checkpoint is fine-tuning's (lr 5e-5, 3 epochs, said on stderr), and a base
whose card says it was fine-tuned from a checkpoint (or a GGUF file) gets no declared unlearning settings,
with the reason in the settings line. From-config models keep what they had.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mubench_hf.cli.train_base import _task_recipe
from mubench_hf.cli.unlearn import describe_settings, parse_run
from mubench_hf.reference_models import RecipeArguments
from mubench_hf.reference_models.recipe import PRETRAINED_RECIPE, recipe_defaults_for
from mubench_hf.sweeps.defaults import method_defaults
from mubench_hf.sweeps.grid import make_grid
from mubench_hf.tasks import get_task
from mubench_hf.trainers import get_spec


def _base_card(folder: Path, init: str) -> Path:
    """A model folder whose mubench base card records ``init`` as where it started."""
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(
        f"---\nmubench:\n  kind: base\n  task: fictitious_authors_small\n  recipe:\n    init: {init}\n---\n# base\n"
    )
    return folder


@pytest.mark.parametrize("model", ["HuggingFaceTB/SmolLM2-135M", "/models/minilm", "/w/SmolLM2.Q4_1.gguf"])
def test_a_checkpoint_is_fine_tuned_at_fine_tuning_rates(model: str) -> None:
    recipe = recipe_defaults_for(get_task("fictitious_authors_small"), model)
    assert recipe["learning_rate"] == 5e-5 and recipe["num_train_epochs"] == 3.0
    assert recipe["per_device_train_batch_size"] == 32  # the task's other settings stay
    assert recipe_defaults_for(get_task("digits"), model) == PRETRAINED_RECIPE


@pytest.mark.parametrize("model", ["tiny:llama", "tiny:resnet", "configs/small.json"])
def test_a_from_config_model_keeps_the_task_recipe(model: str) -> None:
    task = get_task("fictitious_authors_small")
    assert recipe_defaults_for(task, model) == task.recipe_defaults()
    assert recipe_defaults_for(get_task("digits"), model) == {}  # RecipeArguments' own defaults then


def _script(model: str):
    from types import SimpleNamespace

    return SimpleNamespace(model=model, lora_r=0, lora_alpha=32)


def test_train_base_says_which_defaults_a_checkpoint_gets(capsys) -> None:
    args = RecipeArguments(output_dir="o")
    _task_recipe(_script("/models/minilm"), args, set(), "digits")
    assert args.learning_rate == 5e-5 and args.num_train_epochs == 3.0
    said = capsys.readouterr().err
    assert "/models/minilm is a pretrained checkpoint: fine-tuning defaults learning_rate 5e-05, " in said
    assert "num_train_epochs 3" in said and "override with --learning_rate, --num_train_epochs" in said
    # a flag given wins and is not mentioned; tiny models keep RecipeArguments' from-config rate, silently
    args = RecipeArguments(output_dir="o", learning_rate=1e-4)
    _task_recipe(_script("/models/minilm"), args, {"learning_rate"}, "digits")
    assert args.learning_rate == 1e-4 and args.num_train_epochs == 3.0
    assert "--num_train_epochs" in (err := capsys.readouterr().err) and "--learning_rate" not in err
    args = RecipeArguments(output_dir="o")
    _task_recipe(_script("tiny:resnet"), args, set(), "digits")
    assert args.learning_rate == 3e-3 and capsys.readouterr().err == ""


def _unlearn_flags(model: Path, method: str) -> list[str]:
    return ["--dataset", "d", "--config", "fictitious_authors_small_del10", "--model", str(model),
            "--method", method, "--output_dir", "o"]  # fmt: skip


def test_unlearn_drops_the_tiny_models_settings_for_a_fine_tuned_checkpoint(tmp_path: Path) -> None:
    base = _base_card(tmp_path / "smollm2-base", "/cache/gguf/b179c952")
    _, args, settings = parse_run(_unlearn_flags(base, "npo"))
    assert (
        settings.applied == {"per_device_train_batch_size": 32}
        and settings.pretrained == "/cache/gguf/b179c952"
    )
    assert args.learning_rate == 5e-5 and args.max_steps == -1 and args.num_train_epochs == 3.0
    line = describe_settings(args, settings)
    assert "fine-tuned from the pretrained checkpoint /cache/gguf/b179c952" in line
    assert "the declared settings for fictitious_authors_small are for from-config models" in line
    # a GGUF file as the model: the same
    gguf = tmp_path / "model.Q4_1.gguf"
    gguf.write_bytes(b"GGUF")
    _, args, settings = parse_run(_unlearn_flags(gguf, "npo"))
    assert settings.pretrained == str(gguf) and args.learning_rate == 5e-5
    # a task with no declared settings says that, not the checkpoint (nothing was set aside)
    flags = _unlearn_flags(base, "npo")
    flags[flags.index("--config") + 1] = "tofu_del1"
    _, args, settings = parse_run(flags)
    assert settings.pretrained is None
    assert "npo has no declared settings for task 'tofu'" in describe_settings(args, settings)


def test_unlearn_keeps_the_declared_settings_for_a_from_config_base(tmp_path: Path) -> None:
    base = _base_card(tmp_path / "tiny-base", "tiny:llama")
    declared = get_spec("npo").quick_settings  # lr 1e-3, 15 steps
    _, args, settings = parse_run(_unlearn_flags(base, "npo"))
    assert settings.pretrained is None and settings.tuned
    assert args.learning_rate == declared["learning_rate"] and args.max_steps == declared["max_steps"]
    assert settings.applied == method_defaults("npo", "fictitious_authors_small")


def test_a_sweep_from_a_checkpoint_gets_fine_tuning_defaults(tmp_path: Path) -> None:
    from mubench_hf.sweeps.references import _recipe

    checkpoint = tmp_path / "smollm2"  # a pretrained model folder (only its path matters here)
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text('{"model_type": "llama"}')
    grid = make_grid(
        {"task": "fictitious_authors_small", "methods": ["npo"], "seeds": [42], "model": str(checkpoint)}
    )
    assert grid.method_arguments("npo", "fictitious_authors_small_del10") == {
        "per_device_train_batch_size": 32
    }
    recipe = _recipe(grid, 42, tmp_path / "base")
    assert recipe.learning_rate == 5e-5 and recipe.num_train_epochs == 3.0
    tiny = make_grid(
        {"task": "fictitious_authors_small", "methods": ["npo"], "seeds": [42], "model": "tiny:llama"}
    )
    assert tiny.method_arguments("npo")["learning_rate"] == get_spec("npo").quick_settings["learning_rate"]
    assert (
        _recipe(tiny, 42, tmp_path / "tiny").learning_rate
        == get_task("fictitious_authors_small").recipe["learning_rate"]
    )
