"""The leaderboard ranks models by the MU-Bench score found in their cards, locally and on a (local) Hub."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from mubench_hf import MubenchError
from mubench_hf.cli import main
from mubench_hf.hub import build_leaderboard, push_model, render_model_card
from tests.hub_server import LocalHub

ORG = "mubench-org"
SPLITS = f"{ORG}/mubench-splits"
BASE = f"{ORG}/mubench-digits-resnet"
# method -> (mubench_score, gap_to_retrain) on digits_del5
UNLEARNED = {"salun": (0.81, 0.05), "grad_ascent": (0.64, 0.30), "scrub": (0.77, 0.08)}


def card_for(kind: str, repo_id: str, method: str | None, config: str | None, results: dict[str, float]):
    return render_model_card(
        kind,
        task="digits",
        config=config,
        dataset_repo=SPLITS,
        dataset_hash="c" * 64,
        backbone="resnet",
        recipe={"learning_rate": 0.01},
        seed=0,
        results=results,
        base_model=BASE if kind == "unlearned" else None,
        method=method,
        unlearn_time_s=2.0 if kind == "unlearned" else None,
        model_name=repo_id,
    )


def model_folders(tiny_model_dir: Path, root: Path) -> dict[str, Path]:
    """Folders for a base model, three unlearned models and a retrain model, sharing the tiny weights."""
    folders = {}
    entries = [("base", BASE, None, None, {"test_accuracy": 0.97})]
    entries += [
        ("unlearned", f"{BASE}-{m}-del5-seed0", m, "digits_del5", {"mubench_score": s, "gap_to_retrain": g})
        for m, (s, g) in UNLEARNED.items()
    ]
    entries.append(("retrain", f"{BASE}-retrain-del5-seed0", None, "digits_del5", {"forget_accuracy": 0.96}))
    for kind, repo_id, method, config, results in entries:
        folder = root / repo_id.split("/")[1]
        shutil.copytree(tiny_model_dir, folder)
        card_for(kind, repo_id, method, config, results).save(folder / "README.md")
        folders[repo_id] = folder
    return folders


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_hub_leaderboard_lists_pushed_models_ranked(
    hub_server: LocalHub, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for repo_id, folder in model_folders(tiny_model_dir, tmp_path / "models").items():
        push_model(folder, repo_id)
    # Neither of these may appear: another author, and a model without the mubench tag.
    push_model(tmp_path / "models" / "mubench-digits-resnet-salun-del5-seed0", "someone-else/mubench-x")
    HfApi().create_repo(f"{ORG}/unrelated")
    HfApi().upload_file(
        path_or_fileobj=b"# just a model\n", path_in_repo="README.md", repo_id=f"{ORG}/unrelated"
    )

    out = tmp_path / "board"
    assert main(["leaderboard", "--hub-author", ORG, "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = read_csv(out / "leaderboard.csv")
    unlearned = [r for r in rows if r["kind"] == "unlearned"]
    assert [r["model"] for r in unlearned] == [f"{BASE}-salun-del5-seed0", f"{BASE}-scrub-del5-seed0", f"{BASE}-grad_ascent-del5-seed0"]  # fmt: skip
    assert [r["rank"] for r in unlearned] == ["1", "2", "3"]
    assert [float(r["mubench_score"]) for r in unlearned] == [0.81, 0.77, 0.64]
    assert {r["method"] for r in unlearned} == set(UNLEARNED)
    assert all(r["source"] == "hub" and r["task"] == "digits" for r in rows)
    assert {r["model"] for r in rows} == {
        BASE,
        f"{BASE}-retrain-del5-seed0",
        *(r["model"] for r in unlearned),
    }
    assert "someone-else" not in printed and "unrelated" not in printed
    assert f"| 1 | {BASE}-salun-del5-seed0 | unlearned | salun | 0 | 0.8100 | 0.0500 |" in printed
    assert "## digits — digits_del5" in printed
    assert (out / "leaderboard.md").read_text() in printed


def test_local_leaderboard_from_a_folder_of_model_folders(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folders = model_folders(tiny_model_dir, tmp_path / "models")
    (tmp_path / "models" / "notes").mkdir()
    (tmp_path / "models" / "notes" / "README.md").write_text("# not a model card\n")  # skipped when searching
    rows = build_leaderboard([tmp_path / "models"])
    scored = [(r["rank"], r["method"], r["mubench_score"]) for r in rows if r["rank"] is not None]
    assert scored == [(1, "salun", 0.81), (2, "scrub", 0.77), (3, "grad_ascent", 0.64)]
    # The base model has no config (its own group, first); unscored rows follow the ranked ones.
    assert [r["kind"] for r in rows] == ["base", "unlearned", "unlearned", "unlearned", "retrain"]
    assert rows[-1]["source"] == str(folders[f"{BASE}-retrain-del5-seed0"]) and rows[-1]["rank"] is None

    out = tmp_path / "board"
    assert (
        main(
            [
                "leaderboard",
                str(folders[f"{BASE}-scrub-del5-seed0"]),
                "--output",
                str(out),
                "--task",
                "digits",
            ]
        )
        == 0
    )
    assert [r["model"] for r in read_csv(out / "leaderboard.csv")] == [f"{BASE}-scrub-del5-seed0"]
    assert main(["leaderboard", str(tmp_path / "models"), "--task", "cifar10", "--output", str(out)]) == 0
    assert read_csv(out / "leaderboard.csv") == [] and "No models found." in capsys.readouterr().out


def test_leaderboard_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(MubenchError, match="nothing to rank"):
        build_leaderboard([])
    (tmp_path / "README.md").write_text("# not a model card\n")
    assert main(["leaderboard", str(tmp_path), "--output", str(tmp_path / "out")]) == 1
    assert "is not a mubench model card with results" in capsys.readouterr().err
    with pytest.raises(MubenchError, match="neither a model folder"):
        build_leaderboard([tmp_path / "missing"])
