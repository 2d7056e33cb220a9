"""The leaderboard ranks models by the scores in their cards, locally and on a (local) Hub, with the rule a
sweep's leaderboard uses: gap to retrain when a retrain reference was scored, else MU-Bench score."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from huggingface_hub import HfApi

from mubench_hf import MubenchError
from mubench_hf.cli import main
from mubench_hf.hub import build_leaderboard, push_model, render_model_card
from mubench_hf.hub.leaderboard import rank_rows
from mubench_hf.sweeps.ranking import RANKING_RULE
from tests.cli_harness import assert_clean_error, run_cli, snapshot
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
    scored = [(r["rank"], r["method"], r["gap_to_retrain"]) for r in rows if isinstance(r["rank"], int)]
    assert scored == [(1, "salun", 0.05), (2, "scrub", 0.08), (3, "grad_ascent", 0.30)]
    # The base model has no config (its own group, first, unranked); retrain leads its group as the reference.
    assert [r["kind"] for r in rows] == ["base", "retrain", "unlearned", "unlearned", "unlearned"]
    assert rows[0]["rank"] is None
    assert rows[1]["source"] == str(folders[f"{BASE}-retrain-del5-seed0"]) and rows[1]["rank"] == "ref"

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
    printed = capsys.readouterr().out
    assert RANKING_RULE in printed and "Ranked by gap to retrain" in printed


def test_a_filter_that_matches_nothing_is_an_error_naming_what_was_found(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_folders(tiny_model_dir, tmp_path / "models")
    out = tmp_path / "board"
    for flag, value, found in (("--task", "cifar10", "digits"), ("--config", "digits_del9", "digits_del5")):
        result = run_cli(["leaderboard", str(tmp_path / "models"), flag, value, "--output", str(out)], capsys)
        assert_clean_error(result, flag, value, found)
        assert not out.exists()
    result = run_cli(
        ["leaderboard", str(tmp_path / "models"), "--config", "digits_del5", "--output", str(out)], capsys
    )
    assert result.code == 0, result.err
    assert {r["config"] for r in read_csv(out / "leaderboard.csv")} == {"digits_del5"}


def test_empty_folder_missing_path_and_file_as_output_are_errors(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    assert_clean_error(run_cli(["leaderboard", str(tmp_path / "empty")], capsys), "no mubench model card")
    assert_clean_error(run_cli(["leaderboard", str(tmp_path / "missing")], capsys), "does not exist")
    folders = model_folders(tiny_model_dir, tmp_path / "models")
    a_file = tmp_path / "board.txt"
    a_file.write_text("keep me\n")
    before = snapshot(tmp_path)
    for output in (a_file, a_file / "sub"):
        result = run_cli(
            ["leaderboard", str(folders[f"{BASE}-salun-del5-seed0"]), "--output", str(output)], capsys
        )
        assert_clean_error(result, "--output", "is a file" if output == a_file else "which is a file")
    assert snapshot(tmp_path) == before


def _row(model: str, *, gap: float | None = None, score: float | None = None, kind: str = "unlearned"):
    return {
        "task": "t",
        "config": "c",
        "model": model,
        "kind": kind,
        "gap_to_retrain": gap,
        "mubench_score": score,
    }


def test_ranking_rule_gap_when_a_retrain_reference_was_scored_else_score() -> None:
    rows = rank_rows(
        [
            _row("b", gap=0.2, score=0.5),
            _row("a", gap=0.2, score=0.5),  # a full tie: the name decides
            _row("c", gap=0.2, score=0.9),  # same gap, higher score first
            _row("d", gap=0.1, score=0.1),
            _row("e", score=0.99),  # no gap: listed last, unranked
            _row("retrain", gap=0.0, score=0.3, kind="retrain"),
        ]
    )
    assert [(r["model"], r["rank"]) for r in rows] == [
        ("retrain", "ref"), ("d", 1), ("c", 2), ("a", 3), ("b", 4), ("e", None)
    ]  # fmt: skip
    by_score = rank_rows([_row("x", score=0.2), _row("y", score=0.7), _row("z", score=0.7), _row("w")])
    assert [(r["model"], r["rank"]) for r in by_score] == [("y", 1), ("z", 2), ("x", 3), ("w", None)]


def test_leaderboard_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Errors as raised by the API and as printed by the command."""
    with pytest.raises(MubenchError, match="nothing to rank"):
        build_leaderboard([])
    (tmp_path / "README.md").write_text("# not a model card\n")
    assert main(["leaderboard", str(tmp_path), "--output", str(tmp_path / "out")]) == 1
    assert "is not a mubench model card with results" in capsys.readouterr().err
    with pytest.raises(MubenchError, match="missing does not exist"):
        build_leaderboard([tmp_path / "missing"])


def test_card_rows_of_a_generation_task_rank_by_forget_quality_then_model_utility():
    from mubench_hf.hub.leaderboard import leaderboard_markdown, rank_rows

    def row(model, method, fq, mu, kind="unlearned"):
        return {"task": "fictitious_authors", "config": "fictitious_authors_del5", "model": model,
                "kind": kind, "method": method, "forget_quality": fq, "model_utility": mu}  # fmt: skip

    rows = rank_rows([row("a", "npo", 0.1, 0.4), row("r", "retrain", 1.0, 0.5, "retrain"), row("b", "idk", 0.1, 0.6),
                      row("c", "rmu", None, 0.7)])  # fmt: skip
    assert [(r["model"], r["rank"]) for r in rows] == [("r", "ref"), ("b", 1), ("a", 2), ("c", None)]
    text = leaderboard_markdown(rows)
    assert "Ranked by forget quality" in text and "| forget_quality | model_utility |" in text
