"""``mubench leaderboard --html/--space``: the self-contained page (cells, links, figures, escaping, no
network), the static Space folder and its push with ``mubench push`` to the local Hub server. The page
in a real browser (sorting, tabs, screenshot) is tests/e2e/test_leaderboard_browser.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mubench_hf import MubenchError
from mubench_hf.cli import main
from mubench_hf.hub.leaderboard_page import (
    figure_files,
    is_space_folder,
    metric_bases,
    metric_cell,
    model_link,
    push_space,
    render_page,
    write_space,
)
from tests.hub_server import LocalHub
from tests.test_hub_leaderboard import ORG, UNLEARNED, model_folders

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def test_metric_cell_shows_mean_std_and_interval_and_sorts_by_the_value() -> None:
    row = {"x_mean": 0.5, "x_std": 0.25, "x_ci_low": 0.125, "x_ci_high": 0.875, "y": 2, "z_ci_low": 0.1}
    assert metric_cell(row, "x") == (
        0.5,
        '0.5000 ± 0.2500<br><span class="ci" title="95 % interval">[0.1250, 0.8750]</span>',
    )
    assert metric_cell(row, "y") == (2, "2")
    assert metric_cell(row, "z") == (None, "")  # half an interval is not shown
    assert metric_cell({"w": 0.3, "w_std": 0.1}, "w") == (0.3, "0.3000")  # a single value has no ± std
    assert metric_bases([row, {"unlearn_time_s": 1.0, "gap_to_retrain": 0.1, "seed": 3}]) == [
        "gap_to_retrain", "x", "y", "z", "unlearn_time_s",
    ]  # fmt: skip


def test_models_from_the_hub_link_to_their_repo_others_do_not() -> None:
    assert model_link({"model": "org/m", "source": "hub"}, "https://hf.example/") == (
        '<a href="https://hf.example/org/m">org/m</a>'
    )
    assert model_link({"model": "org/m", "source": "/runs/m"}, "https://hf.example") == "org/m"
    assert model_link({"model": "a<b", "url": 'https://x/"q'}, "") == '<a href="https://x/&quot;q">a&lt;b</a>'


def test_page_is_self_contained_and_escapes_what_the_cards_say(tmp_path: Path) -> None:
    rows = [
        {"task": "digits", "config": "digits_del5", "model": "<script>alert(1)</script>", "method": "m<1>",
         "rank": 1, "mubench_score": 0.5, "source": "hub"},
    ]  # fmt: skip
    figure = tmp_path / "figures" / "scores.png"
    figure.parent.mkdir()
    figure.write_bytes(PNG)
    page = render_page(rows, [figure], title="T & co", endpoint="https://hf.example")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'data-method="m&lt;1&gt;"' in page and "<title>T &amp; co</title>" in page
    assert "data:image/png;base64," in page and "<figcaption>scores</figcaption>" in page
    # Nothing is fetched: no external script, style, font or image; the only URL is the model's link.
    assert not re.search(r"""<(script|img|link|iframe)[^>]+(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert re.findall(r"https?://[^\"'<> ]+", page) == [
        "https://hf.example/&lt;script&gt;alert(1)&lt;/script&gt;"
    ]


def test_a_figure_that_is_not_a_png_is_refused(tmp_path: Path) -> None:
    (tmp_path / "figures").mkdir()
    bad = tmp_path / "figures" / "x.png"
    bad.write_text("not an image")
    assert figure_files([tmp_path]) == [bad]
    with pytest.raises(MubenchError, match=r"x.png is not a PNG image; give PNG figures"):
        render_page([], [bad], endpoint="")


def test_cli_writes_the_page_and_a_static_space_and_mubench_push_publishes_it(
    hub_server: LocalHub, tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = tmp_path / "models"
    model_folders(tiny_model_dir, models)
    (models / "figures").mkdir()
    (models / "figures" / "forget_vs_test.png").write_bytes(PNG)
    html_dir, space_dir = tmp_path / "html", tmp_path / "space"
    argv = ["leaderboard", str(models), "--output", str(tmp_path / "board"), "--html", str(html_dir)]
    assert main([*argv, "--space", str(space_dir), "--title", "Digits board"]) == 0
    printed = capsys.readouterr().out
    assert f"wrote {html_dir / 'index.html'}" in printed and f"mubench push {space_dir} ORG/NAME" in printed
    page = (html_dir / "index.html").read_text()
    for method in [*UNLEARNED, "retrain"]:
        assert f'data-method="{method}"' in page
    assert page.count('role="tabpanel"') == 2  # the base model (no config) and digits_del5
    assert "<title>Digits board</title>" in page and "data:image/png;base64," in page
    assert (space_dir / "index.html").read_text() == page
    card = (space_dir / "README.md").read_text()
    assert card.startswith("---\n") and '\nsdk: "static"\n' in card and 'app_file: "index.html"' in card
    assert is_space_folder(space_dir) and not is_space_folder(html_dir)

    repo = f"{ORG}/leaderboard"
    assert main(["push", str(space_dir), repo]) == 0
    assert f"pushed 2 files to {hub_server.url}/spaces/{repo}" in capsys.readouterr().out
    files = hub_server.files(repo, "space")
    assert files["README.md"] == card.encode() and files["index.html"] == page.encode()
    assert set(files) == {"README.md", "index.html", ".gitattributes"}  # the Hub adds .gitattributes
    assert main(["push", str(space_dir), repo]) == 0  # nothing changed: nothing to commit
    assert "already holds these files" in capsys.readouterr().out


def test_pushing_a_folder_that_is_not_a_space_says_what_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>")
    (tmp_path / "README.md").write_text("---\nsdk: gradio\n---\n")
    with pytest.raises(MubenchError, match=r"is not a static Space folder .* --space DIR"):
        push_space(tmp_path, f"{ORG}/x", token="hf_x")


def test_space_over_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(MubenchError, match=r"--space .*file is a file; give a folder for index.html"):
        write_space([], tmp_path / "file" / "space")
