"""The wheel ships the card templates and metric modules, and an installed copy finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            str(ROOT),
            "-w",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (found,) = out.glob("mubench_hf-*.whl")
    return found


def test_wheel_holds_every_module_template_and_metric(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"mubench_hf/{p.relative_to(ROOT / 'mubench_hf')}" for p in (ROOT / "mubench_hf").rglob("*.py")
    }
    expected |= {f"mubench_hf/hub_cards/{p.name}" for p in (ROOT / "hub_cards").glob("*.md")}
    expected |= {
        f"mubench_hf/evaluate_metrics/{p.relative_to(ROOT / 'evaluate_metrics')}"
        for p in (ROOT / "evaluate_metrics").rglob("*")
        if p.suffix in {".py", ".md"} and "__pycache__" not in p.parts
    }
    missing = sorted(expected - names)
    assert not missing, f"not in the wheel (list the package in pyproject.toml): {missing}"
    assert "mubench_hf/hub_cards/dataset_card.md" in names


def test_installed_wheel_finds_its_resources(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import mubench_hf, mubench_hf.resources as r; "
        "print(mubench_hf.__file__); print(r.card_template('dataset_card.md')); print(r.evaluate_metrics_dir())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(target)],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.split()
    assert all(line.startswith(str(target)) for line in out), out
