"""``mubench build-splits`` and friends, called as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

from mubench_hf.cli import main


def test_build_splits_cli_all_flags(
    tmp_path: Path, fresh_cache: str, capsys: pytest.CaptureFixture[str]
) -> None:
    order = tmp_path / "order.txt"
    order.write_text("\n".join(str(i) for i in range(300, 425)) + "\n")
    out = tmp_path / "repo"
    code = main(
        ["build-splits", "--task", "digits", "--output", str(out), "--ratios", "1,5", "--seed", "3",
         "--order", str(order), "--forget-class", "2", "--forget-class", "7", "--quiet"]
    )  # fmt: skip
    assert code == 0
    splits = datasets.load_dataset(str(out), "digits_del1", cache_dir=fresh_cache)
    assert sorted(splits["forget"]["sample_id"]) == list(range(300, 312))
    assert set(
        datasets.load_dataset(str(out), "digits_class7", cache_dir=fresh_cache)["forget"]["label"]
    ) == {7}
    assert main(["info", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "digits_del5" in printed and "digits_class2" in printed and "imported from order.txt" in printed
    assert main(["verify", str(out)]) == 0
    assert "OK" in capsys.readouterr().out


def test_cli_errors_exit_nonzero_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build-splits", "--task", "nope", "--output", str(tmp_path / "x")]) == 1
    assert (
        "unknown task 'nope'; known tasks: cifar10, cifar100, ddi, debian_summaries, digit_pairs, digits"
        in (capsys.readouterr().err)
    )
    assert main(["build-splits", "--task", "digits", "--output", str(tmp_path / "x"), "--ratios", "200"]) == 1
    assert "out of range" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2
    assert "known commands" in capsys.readouterr().err
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.txt").write_text("keep me")
    assert main(["build-splits", "--task", "digits", "--output", str(tmp_path / "x"), "--quiet"]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert (tmp_path / "x" / "a.txt").read_text() == "keep me"


def test_default_output_is_mubench_in_the_working_dir(tmp_path: Path, fresh_cache: str, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["build-splits", "--task", "digits", "--ratios", "5", "--quiet"]) == 0
    # exactly the call the product brief shows, from the folder above ./mubench
    assert len(datasets.load_dataset("mubench", "digits_del5", cache_dir=fresh_cache)["forget"]) == 62


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "mubench"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, check=True)
    assert "build-splits" in result.stdout and "unlearn" in result.stdout


def test_tasks_json_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    from mubench_hf.tasks import TASKS

    assert main(["tasks", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records] == sorted(TASKS)
    for record in records:
        task = TASKS[record["name"]]
        assert record["modality"] == task.modality and record["kind"] == task.kind
        labels = task.num_labels if task.kind == "classification" else None  # generation: no classes
        assert record["num_labels"] == labels and isinstance(record["source"], str)
        assert record["offline"] is (task.loader is not None)
    by_name = {r["name"]: r for r in records}
    assert by_name["digits"]["offline"] is True and by_name["digits"]["source"].startswith("offline loader")
    assert by_name["cifar100"] == {**by_name["cifar100"], "offline": False, "num_labels": 100,
                                   "source": "uoft-cs/cifar100@main"}  # fmt: skip
    assert by_name["imdb"]["ood_source"] == "cornell-movie-review-data/rotten_tomatoes@main"
    assert main(["tasks"]) == 0  # the plain table stays
    table = capsys.readouterr().out.splitlines()
    assert len(table) == len(TASKS) and table[0].split()[:4] == ["cifar10", "image", "10", "classes"]


def test_verify_lists_mismatches_and_fails_with_a_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "repo"
    assert main(["build-splits", "--task", "digits", "--output", str(out), "--ratios", "5", "--quiet"]) == 0
    (out / "data/digits/test.parquet").write_bytes(b"tampered")
    text = (out / "README.md").read_text()
    (out / "README.md").write_text(text.replace("num_examples: 62", "num_examples: 60"))
    assert main(["verify", str(out)]) == 1
    captured = capsys.readouterr()
    assert "MISMATCH digits: data/digits/test.parquet has changed" in captured.out
    assert "MISMATCH README.md: YAML dataset_info" in captured.out
    assert f"mubench verify: error: {out} does not match its manifest (2 problems" in captured.err
    assert "--overwrite" in captured.err
