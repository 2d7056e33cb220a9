"""``mubench unlearn`` with only ``--method`` runs the method's declared settings for the task, says so, and
prints the planned step count; explicit flags override them.

On today's main a run without hyper-parameters gets ``TrainingArguments``' fine-tuning defaults (lr 5e-5,
3 epochs, batch 8): grad_ascent then barely moves a digits model, and npo on 2,000 rows runs 750 steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mubench_hf.cli.unlearn import RUN_FILE, main, parse_run
from mubench_hf.sweeps.defaults import method_defaults
from mubench_hf.sweeps.grid import make_grid
from mubench_hf.trainers import get_spec

pytestmark = pytest.mark.usefixtures("one_torch_thread")

QUIET = ["--use_cpu", "true", "--report_to", "none", "--disable_tqdm", "true", "--save_strategy", "no"]


def _flags(config: str, method: str, *extra: str) -> list[str]:
    return [
        "--dataset",
        "d",
        "--config",
        config,
        "--model",
        "m",
        "--method",
        method,
        "--output_dir",
        "o",
        *extra,
    ]


@pytest.mark.parametrize(
    ("config", "method"),
    [("digits_del5", "grad_ascent"), ("digits_del5", "salun"), ("fictitious_authors_del5", "npo"),
     ("moving_digits_class0", "ssd")],
)  # fmt: skip
def test_without_flags_a_run_gets_what_a_sweep_cell_gets(config: str, method: str) -> None:
    _, args, settings = parse_run(_flags(config, method))
    task = config.rsplit("_", 1)[0]
    cell = make_grid({"task": task, "methods": [method], "seeds": [42]}).method_arguments(method, config)
    assert cell and settings.applied == cell == method_defaults(method, task, class_wise="class" in config)
    for name, value in cell.items():
        assert getattr(args, name) == value, name
    assert args.learning_rate != 5e-5 or "learning_rate" not in cell


def test_explicit_flags_win_and_a_length_flag_replaces_both_declared_lengths() -> None:
    declared = get_spec("npo").quick_settings  # learning_rate 1e-3, max_steps 15
    assert declared["max_steps"] > 0
    _, args, settings = parse_run(_flags("fictitious_authors_del5", "npo", "--learning_rate", "2e-3"))
    assert args.learning_rate == 2e-3 and args.max_steps == declared["max_steps"]
    assert "learning_rate" not in settings.applied and "learning_rate" in settings.given
    _, args, settings = parse_run(_flags("fictitious_authors_del5", "npo", "--num_train_epochs", "2"))
    assert args.num_train_epochs == 2 and args.max_steps == -1  # not the declared 15 steps over it
    assert args.learning_rate == declared["learning_rate"]
    assert not {"max_steps", "num_train_epochs"} & set(settings.applied)


def test_a_task_without_declared_settings_says_so() -> None:
    from mubench_hf.cli.unlearn import describe_settings

    _, args, settings = parse_run(_flags("tofu_del1", "npo"))
    assert settings.applied == {"per_device_train_batch_size": 32}
    line = describe_settings(args, settings)
    assert "npo has no declared settings for task 'tofu'" in line and "learning_rate 5e-05" in line


def test_digits_with_only_the_method(digits_repo, digits_base_model_dir, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    argv = ["--dataset", str(digits_repo), "--model", str(digits_base_model_dir), "--cache_dir",
            str(tmp_path / "cache"), "--config", "digits_del5", "--method", "grad_ascent", "--output_dir", str(out)]  # fmt: skip
    assert main(argv + QUIET) == 0
    printed = capsys.readouterr().out
    declared = get_spec("grad_ascent").quick_settings  # learning_rate 1e-3, 2 epochs
    assert (
        f"grad_ascent: learning_rate {declared['learning_rate']:g}, num_train_epochs {declared['num_train_epochs']:g}, "
        "per_device_train_batch_size 32 (declared defaults for digits:" in printed
    )
    assert "override with --learning_rate, --num_train_epochs, --per_device_train_batch_size" in printed
    run = json.loads((out / RUN_FILE).read_text())
    forget_rows = json.loads((out / "unlearning_results.json").read_text())
    steps = run["planned_steps"]
    assert f"grad_ascent: {steps} optimisation step(s) planned" in printed
    assert run["global_step"] == steps > 0 and run["arguments"]["learning_rate"] == declared["learning_rate"]
    assert run["declared_defaults"]["num_train_epochs"] == declared["num_train_epochs"]
    # the declared settings forget: the forget accuracy falls from the base model's
    assert forget_rows["forget_accuracy"] < forget_rows["original_forget_accuracy"]


def test_a_generation_task_with_only_the_method(tmp_path: Path, capsys) -> None:
    from mubench_hf import build_splits

    repo = tmp_path / "mubench"
    build_splits("fictitious_authors", repo, ratios=(5,), show_progress=False)
    out = tmp_path / "npo"
    argv = ["--dataset", str(repo), "--config", "fictitious_authors_del5", "--model", "tiny:llama",
            "--method", "npo", "--output_dir", str(out), "--generation_max_new_tokens", "4", *QUIET]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    declared = get_spec("npo").quick_settings
    assert f"npo: learning_rate {declared['learning_rate']:g}, max_steps {declared['max_steps']}" in printed
    assert (
        f"npo: {declared['max_steps']} optimisation step(s) planned (max_steps {declared['max_steps']})"
        in printed
    )
    run = json.loads((out / RUN_FILE).read_text())
    assert run["status"] == "done" and run["global_step"] == declared["max_steps"]


def test_ssd_plans_no_steps(digits_repo, digits_base_model_dir, tmp_path) -> None:
    from mubench_hf.cli.unlearn import describe_plan
    from mubench_hf.pipeline import prepare, unlearning_trainer

    _, args, _ = parse_run(["--dataset", str(digits_repo), "--config", "digits_del5", "--model", "m",
                            "--method", "ssd", "--output_dir", str(tmp_path), *QUIET])  # fmt: skip
    prepared = prepare(
        str(digits_repo), "digits_del5", str(digits_base_model_dir), cache_dir=str(tmp_path / "c")
    )
    trainer = unlearning_trainer(prepared, args)
    assert trainer.planned_steps() == 0 and "no optimisation steps" in describe_plan(trainer)
