"""Reliability defects found by replaying real sessions (issue 22), each checked where it used to go wrong.

Settings that were accepted without a word (a negative epoch count hidden under a method's defaults,
``--lora_alpha 0``, ``--lora_rank`` with SSD, ``study bias --shares 1.5``, ``--html`` and ``--space`` on one
folder), checks that came after outputs were written (``ulira --model``, ``leaderboard --html FILE``),
messages that named the wrong problem (class-wise configs of a generation task, an image classifier given
to a generation task, a missing local model reported as a connection failure), ``build-splits --overwrite``
deleting a foreign folder's files, ``--push_to_hub`` offline and a malformed Ray address printing
tracebacks. Each case ends in a one-line error before anything is written. The cases that need several
processes (the sweep lock, SIGTERM, Ray addresses that must not hang) are in
``test_cli_reliability_processes.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_harness import assert_clean_error, run_cli, snapshot

from mubench_hf import build_splits

QUIET = ["--use_cpu", "true", "--report_to", "none", "--disable_tqdm", "true"]


@pytest.fixture(scope="module")
def generation_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Deletion splits of the offline generation task (fictitious authors' question/answer pairs)."""
    out = tmp_path_factory.mktemp("generation_repo") / "mubench"
    build_splits("fictitious_authors", out, ratios=(5,), show_progress=False)
    return out


def _unlearn(repo: Path, model: Path, out: Path, *extra: str, method: str = "finetune") -> list[str]:
    return ["unlearn", "--dataset", str(repo), "--config", "digits_del5", "--model", str(model),
            "--method", method, "--output_dir", str(out), *QUIET, *extra]  # fmt: skip


# --------------------------------------------------------------------------- settings accepted silently
def test_a_negative_epoch_count_in_unlearn_args_is_refused_though_method_defaults_replace_it(
    tmp_path, capsys
):
    # finetune's built-in digits settings set num_train_epochs, so the grid's -1 used to vanish unread
    grid = {"task": "digits", "methods": ["finetune"], "unlearn_args": {"num_train_epochs": -1}}
    grid["output"] = str(tmp_path / "sweep")
    (tmp_path / "grid.json").write_text(json.dumps(grid))
    result = run_cli(["run", str(tmp_path / "grid.json"), "--no-progress"], capsys)
    assert_clean_error(result, "grid key 'unlearn_args'", "num_train_epochs must be > 0, got -1")
    assert not (tmp_path / "sweep").exists()


def test_a_negative_epoch_count_beside_max_steps_is_refused(tmp_path, capsys):
    grid = {
        "task": "digits",
        "methods": ["finetune"],
        "unlearn_args": {"max_steps": 5, "num_train_epochs": -1},
    }
    grid["output"] = str(tmp_path / "sweep")
    (tmp_path / "grid.json").write_text(json.dumps(grid))
    result = run_cli(["run", str(tmp_path / "grid.json"), "--no-progress"], capsys)
    assert_clean_error(result, "num_train_epochs must be >= 0, got -1", "max_steps 5 sets the length")
    assert not (tmp_path / "sweep").exists()


@pytest.mark.parametrize(
    ("extra", "method", "needles"),
    [
        (["--lora_rank", "4", "--lora_alpha", "0"], "finetune", ["--lora_alpha must be > 0", "got 0"]),
        (["--lora_alpha", "8"], "finetune", ["--lora_alpha 8 only applies with LoRA", "--lora_rank"]),
        (["--lora_rank", "-2"], "finetune", ["--lora_rank must be >= 1", "got -2"]),
        (["--lora_rank", "4"], "ssd", ["ssd makes no gradient steps", "drop --lora_rank"]),
    ],
    ids=["alpha-zero", "alpha-without-rank", "negative-rank", "lora-with-ssd"],
)
def test_lora_settings_that_would_train_nothing_are_refused_before_loading(
    extra, method, needles, tmp_path, digits_repo, tiny_model_dir, capsys
):
    out = tmp_path / "out"
    result = run_cli(_unlearn(digits_repo, tiny_model_dir, out, *extra, method=method), capsys)
    assert_clean_error(result, *needles)
    assert snapshot(out) == {}


def test_lora_rank_zero_says_it_means_full_fine_tuning(tmp_path, digits_repo, capsys):
    # the model is missing, so the command stops after its checks: the notice comes first
    argv = _unlearn(digits_repo, tmp_path / "missing_model", tmp_path / "out", "--lora_rank", "0")
    result = run_cli(argv, capsys)
    assert "--lora_rank 0: full fine-tuning (every weight is trained; no LoRA adapters)" in result.err
    assert_clean_error(result, "missing_model", "no such folder")


def test_lora_alpha_zero_is_refused_by_the_library_too(digits_repo):
    from mubench_hf import MubenchError
    from mubench_hf.pipeline import prepare

    with pytest.raises(MubenchError, match=r"LoRA alpha must be > 0 .* got 0"):
        prepare(str(digits_repo), "digits_del5", "tiny:resnet", lora_rank=2, lora_alpha=0)


def test_bias_shares_below_the_class_share_are_refused_before_any_training(tmp_path, capsys):
    argv = ["study", "bias", "--task", "digits", "--methods", "finetune", "--shares", "1.5",
            "--output", str(tmp_path / "study"), "--no-progress"]  # fmt: skip
    result = run_cli(argv, capsys)
    # 1.5 is read as 1.5 %: below class 0's ~10 % of digits, it skews the forget set away from the class
    assert_clean_error(
        result, "--shares 1.5 (percent of the forget set)", "below class 0's share", "25,50,100"
    )
    assert not (tmp_path / "study" / "bias").exists()


def test_leaderboard_html_and_space_in_one_folder_are_refused(tmp_path, tiny_model_dir, capsys):
    from tests.test_hub_leaderboard import model_folders

    model_folders(tiny_model_dir, tmp_path / "models")
    same = tmp_path / "page"
    argv = ["leaderboard", str(tmp_path / "models"), "--output", str(tmp_path / "board")]
    result = run_cli([*argv, "--html", str(same), "--space", str(same)], capsys)
    assert_clean_error(result, "--html and --space name the same folder", "would replace the page")
    assert snapshot(tmp_path / "board") == {} and not same.exists()


# --------------------------------------------------------------------------- checked before writing
def test_leaderboard_html_over_a_file_fails_before_writing_the_tables(tmp_path, tiny_model_dir, capsys):
    from tests.test_hub_leaderboard import model_folders

    model_folders(tiny_model_dir, tmp_path / "models")
    (tmp_path / "page.html").write_text("<p>mine</p>")
    argv = ["leaderboard", str(tmp_path / "models"), "--output", str(tmp_path / "board")]
    result = run_cli([*argv, "--html", str(tmp_path / "page.html")], capsys)
    assert_clean_error(result, "--html", "page.html is a file", "give a folder for the page (index.html)")
    assert snapshot(tmp_path / "board") == {}  # no leaderboard.md or leaderboard.csv
    assert (tmp_path / "page.html").read_text() == "<p>mine</p>"

    result = run_cli([*argv, "--space", str(tmp_path / "page.html" / "space")], capsys)
    assert_clean_error(result, "--space", "which is a file", "the Space (README.md, index.html)")
    assert snapshot(tmp_path / "board") == {}


def test_ulira_with_a_missing_model_fails_before_the_shadow_sweep_writes(tmp_path, capsys):
    output = tmp_path / "ulira"
    argv = [
        "ulira",
        "--task",
        "digits",
        "--method",
        "finetune",
        "--model",
        "missing",
        "--output",
        str(output),
    ]
    result = run_cli([*argv, "--no-progress"], capsys)
    assert_clean_error(result, "'missing'", "no folder", "no Hub model of that name is in the local cache")
    assert not output.exists()


def test_a_missing_model_path_in_a_grid_is_refused_before_the_splits(tmp_path, capsys):
    argv = ["run", "--task", "digits", "--methods", "finetune", "--model", str(tmp_path / "nope" / "model")]
    result = run_cli([*argv, "--output", str(tmp_path / "sweep"), "--no-progress"], capsys)
    assert_clean_error(result, "no such folder", "nope/model")
    assert not (tmp_path / "sweep").exists()


# --------------------------------------------------------------------------- misleading messages
def test_forget_class_of_a_generation_task_says_it_has_no_classes(tmp_path, capsys):
    argv = [
        "build-splits",
        "--task",
        "fictitious_authors",
        "--forget-class",
        "0",
        "--output",
        str(tmp_path / "r"),
    ]
    result = run_cli([*argv, "--quiet"], capsys)
    assert_clean_error(
        result, "'fictitious_authors' is a generation task and has no classes", "--forget-class"
    )
    assert "[0, 0)" not in result.err and not (tmp_path / "r").exists()


def test_evaluating_an_image_classifier_on_a_generation_task_names_the_mismatch(
    tmp_path, tiny_model_dir, generation_repo, capsys
):
    argv = ["evaluate", "--model", str(tiny_model_dir), "--dataset", str(generation_repo),
            "--config", "fictitious_authors_del5", "--output_dir", str(tmp_path / "out")]  # fmt: skip
    result = run_cli(argv, capsys)
    assert_clean_error(result, "is a ResNetForImageClassification (a classifier)", "is a generation task")
    assert "tokenizer" not in result.err and snapshot(tmp_path / "out") == {}


def test_evaluating_a_model_name_that_is_no_folder_says_so_offline(
    tmp_path, digits_repo, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    argv = ["evaluate", "--model", "nonexist", "--dataset", str(digits_repo), "--config", "digits_del5"]
    result = run_cli([*argv, "--output_dir", str(tmp_path / "out")], capsys)
    assert_clean_error(result, f"no folder 'nonexist' in {tmp_path}", "HF_HUB_OFFLINE=1")
    assert "connect" not in result.err and snapshot(tmp_path / "out") == {}


def test_overwrite_never_deletes_a_folder_that_is_not_a_deletion_repo(tmp_path, capsys):
    foreign = tmp_path / "thesis"
    (foreign / "figures").mkdir(parents=True)
    for name in ("chapter1.tex", "chapter2.tex", "refs.bib", "notes.md", "z_last.txt"):
        (foreign / name).write_text(name)
    before = snapshot(foreign)
    argv = ["build-splits", "--task", "digits", "--ratios", "5", "--output", str(foreign), "--overwrite"]
    result = run_cli([*argv, "--quiet"], capsys)
    assert_clean_error(
        result,
        "is not a mubench deletion repo",
        "chapter1.tex, chapter2.tex, figures/, notes.md, refs.bib and 1 more",
    )
    assert snapshot(foreign) == before

    empty = tmp_path / "empty"
    empty.mkdir()  # an empty folder holds nothing to lose: it is built into
    assert run_cli(["build-splits", "--task", "digits", "--ratios", "5", "--output", str(empty), "--quiet"],
                   capsys).code == 0  # fmt: skip
    assert (empty / "mubench.json").is_file()


def test_push_to_hub_offline_is_refused_before_training(tmp_path, digits_repo, tiny_model_dir, capsys):
    out = tmp_path / "out"
    result = run_cli(
        _unlearn(digits_repo, tiny_model_dir, out, "--push_to_hub", "true", "--max_steps", "1"), capsys
    )
    assert_clean_error(result, "--push_to_hub needs the Hugging Face Hub", "HF_HUB_OFFLINE=1", "mubench push")
    assert snapshot(out) == {}


@pytest.mark.parametrize(
    ("address", "needles"),
    [
        ("not_a_host:xyz", ["--address 'not_a_host:xyz'", "the port 'xyz' is not a number"]),
        ("127.0.0.1", ["is not a Ray cluster address", "HOST:PORT"]),
        ("http://127.0.0.1:8265", ["is not a Ray cluster address"]),
        ("127.0.0.1:70000", ["the port '70000' is not a number from 1 to 65535"]),
    ],
)
def test_a_malformed_ray_address_is_a_one_line_error(address, needles, tmp_path, capsys):
    argv = [
        "run",
        "--task",
        "digits",
        "--backend",
        "ray",
        "--address",
        address,
        "--output",
        str(tmp_path / "s"),
    ]
    result = run_cli(argv, capsys)
    assert_clean_error(result, *needles)
    assert not (tmp_path / "s").exists()


def test_a_malformed_ray_address_env_is_named_as_such(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "not_a_host:xyz")
    result = run_cli(["run", "--task", "digits", "--backend", "ray", "--output", str(tmp_path / "s")], capsys)
    assert_clean_error(result, "RAY_ADDRESS='not_a_host:xyz'", "not a number")


def test_a_hub_id_in_the_local_cache_passes_the_offline_check(tmp_path, monkeypatch):
    import huggingface_hub.constants as hf_constants

    from mubench_hf import MubenchError
    from mubench_hf.model_source import check_model_source

    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path))
    repo = tmp_path / "models--org--adapter"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    (repo / "snapshots" / "abc123" / "adapter_config.json").write_text("{}")  # a PEFT adapter: no config.json
    check_model_source("org/adapter")
    with pytest.raises(MubenchError, match="no Hub model of that name is in the local cache"):
        check_model_source("org/other")
