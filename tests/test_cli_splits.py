"""``mubench build-splits`` and friends, called as a user would."""

from __future__ import annotations

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
    assert "unknown task 'nope'; known tasks: cifar10, cifar100, digits, imdb" in capsys.readouterr().err
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
