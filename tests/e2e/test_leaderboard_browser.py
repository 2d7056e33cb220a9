"""The leaderboard page in a real browser: headless Chromium loads ``index.html`` from ``file://`` (no
server, no network), every method of every tab is in the DOM, a click on a header re-sorts the rows
(and a second click reverses them), a tab switch shows the other config, and a screenshot is written
(to ``$E2E_ARTIFACTS`` when set, e.g. by ``make e2e``, else to the test's temporary folder)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mubench_hf.hub.leaderboard import rank_rows
from mubench_hf.hub.leaderboard_page import write_page
from tests.e2e.chromium_cdp import Chromium, find_chromium

CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (apt-get install chromium, or set CHROMIUM)"),
]
PNG = b"\x89PNG\r\n\x1a\n"
# method -> (mubench_score, gap_to_retrain), chosen so that sorting by either differs from the rank
SCORES = {"salun": (0.81, 0.05), "grad_ascent": (0.64, 0.30), "scrub": (0.77, 0.08), "finetune": (0.90, 0.12)}


def _rows() -> list[dict]:
    rows = []
    for config in ("digits_del5", "digits_del10"):
        for method, (score, gap) in SCORES.items():
            rows.append({
                "task": "digits", "config": config, "model": f"org/digits-{method}-{config}", "kind": "unlearned",
                "method": method, "seed": 0, "mubench_score": score, "gap_to_retrain": gap,
                "forget_accuracy_mean": score - 0.1, "forget_accuracy_std": 0.01,
                "forget_accuracy_ci_low": score - 0.12, "forget_accuracy_ci_high": score - 0.08,
                "source": "hub" if method == "salun" else f"/runs/{method}",
            })  # fmt: skip
        rows.append({"task": "digits", "config": config, "model": f"org/retrain-{config}", "kind": "retrain",
                     "method": "retrain", "seed": 0, "forget_accuracy": 0.95, "source": "/runs/retrain"})  # fmt: skip
    return rank_rows(rows)


def _column(browser: Chromium, panel: str, column: str) -> list[str]:
    """The text of one column of the table in ``panel``, top to bottom, as the browser shows it."""
    script = (
        f"(function(){{var t=document.querySelector('#{panel} table');"
        f"var i=[...t.tHead.rows[0].cells].findIndex(c=>c.dataset.column==={json.dumps(column)});"
        "return [...t.tBodies[0].rows].map(r=>r.cells[i].innerText);})()"
    )
    return browser.evaluate(script)


def test_page_lists_every_method_sorts_on_click_and_switches_tabs(tmp_path: Path) -> None:
    figure = tmp_path / "run" / "figures" / "forget_vs_test.png"
    figure.parent.mkdir(parents=True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.plot([0, 1], [0, 1])
    plt.savefig(figure)
    plt.close("all")
    page = write_page(_rows(), tmp_path / "site", [figure])
    artifacts = Path(os.environ.get("E2E_ARTIFACTS") or tmp_path / "artifacts")

    with Chromium(CHROMIUM) as browser:
        browser.open(page.resolve().as_uri())
        methods = browser.evaluate(
            "[...document.querySelectorAll('tr[data-method]')].map(r=>r.dataset.method)"
        )
        assert sorted(set(methods)) == sorted([*SCORES, "retrain"])
        assert len(methods) == 2 * (len(SCORES) + 1)  # both tabs' tables are in the DOM
        tabs = browser.evaluate("[...document.querySelectorAll('[role=tab]')].map(t=>t.innerText)")
        assert tabs == ["digits — digits_del10", "digits — digits_del5"]
        first = browser.evaluate("document.querySelector('[role=tabpanel]').id")

        # Ranked by gap to retrain, retrain (the reference) first.
        assert _column(browser, first, "method") == ["retrain", "salun", "scrub", "finetune", "grad_ascent"]
        browser.click(f"#{first} th[data-column=mubench_score]")
        scores = _column(browser, first, "mubench_score")
        assert scores == ["0.6400", "0.7700", "0.8100", "0.9000", ""]  # ascending, the empty cell last
        assert browser.evaluate(f"document.querySelector('#{first} th[data-column=mubench_score]')"
                                ".getAttribute('aria-sort')") == "ascending"  # fmt: skip
        browser.click(f"#{first} th[data-column=mubench_score]")
        assert _column(browser, first, "mubench_score") == ["0.9000", "0.8100", "0.7700", "0.6400", ""]
        browser.click(f"#{first} th[data-column=method]")
        assert _column(browser, first, "method") == sorted([*SCORES, "retrain"])
        forget = _column(browser, first, "forget_accuracy")
        assert "0.7100 ± 0.0100\n[0.6900, 0.7300]" in forget  # salun: mean ± std, then the interval

        # The Hub model is a link, the local ones are not; the figure is an inline PNG.
        links = browser.evaluate("[...document.querySelectorAll('td.model a')].map(a=>a.href)")
        assert links and all(link.endswith("org/digits-salun-" + link.rsplit("-", 1)[1]) for link in links)
        assert len(links) == 2
        src = browser.evaluate("document.querySelector('#figures img').src")
        assert src.startswith("data:image/png;base64,")
        assert browser.evaluate("document.querySelector('#figures img').naturalWidth") > 0  # it decoded

        second = browser.evaluate("document.querySelectorAll('[role=tabpanel]')[1].id")
        assert browser.evaluate(f"document.getElementById('{second}').hidden") is True
        browser.click("[role=tab]:nth-child(2)")
        assert browser.evaluate(f"document.getElementById('{second}').hidden") is False
        assert browser.evaluate(f"document.getElementById('{first}').hidden") is True
        browser.click("[role=tab]:nth-child(1)")
        shot = browser.screenshot(artifacts / "leaderboard.png")
    assert shot.read_bytes().startswith(PNG) and shot.stat().st_size > 5000
