"""The leaderboard as one self-contained HTML page, and as a static Hugging Face Space holding it.

The page needs nothing but a browser: styles, script and figures (base64 PNG) are inline, there is no
server, CDN or font to fetch, so it works from ``file://`` and offline. It has one tab per (task,
config), a table per tab sortable by every column (click a header; again to reverse), ``mean ± std``
where the rows hold ``<metric>_mean``/``<metric>_std`` and the 95 % interval where they hold
``<metric>_ci_low``/``<metric>_ci_high``, and each model linked to its Hub repo when it came from the
Hub. A Space folder is that page as ``index.html`` beside a ``README.md`` whose YAML says
``sdk: static``; :func:`push_space` publishes it (``mubench push`` does when given such a folder).
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Iterable
from itertools import groupby
from pathlib import Path
from typing import Any

from ..errors import MubenchError
from ..sweeps.ranking import RANKING_RULE
from .leaderboard import INFO_COLUMNS, metric_columns
from .leaderboard_sustainability import sustainability_section_html

PAGE_NAME = "index.html"
SPACE_CARD = "README.md"
# Statistics that ride along with a metric as their own keys: shown in the metric's cell.
STAT_SUFFIXES = ("_mean", "_std", "_ci_low", "_ci_high")
SHOWN_INFO = [c for c in INFO_COLUMNS if c not in ("task", "config")]
HIDDEN = {"task", "config", "source"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- columns and cells
def metric_bases(rows: Iterable[dict[str, Any]]) -> list[str]:
    """The metrics the rows hold (``forget_accuracy`` for ``forget_accuracy_mean`` too): the declared
    headline metrics first (:func:`~mubench_hf.hub.leaderboard.metric_columns`, plugins' included), then
    the others A-Z, the unlearning time last."""
    found: set[str] = set()
    for row in rows:
        for key, value in row.items():
            if key in HIDDEN or key in SHOWN_INFO or not _is_number(value):
                continue
            base = next((key[: -len(s)] for s in STAT_SUFFIXES if key.endswith(s) and len(key) > len(s)), key)
            found.add(base)
    ordered = [m for m in metric_columns() if m in found]
    ordered += sorted(found - set(ordered) - {"unlearn_time_s"})
    return ordered + (["unlearn_time_s"] if "unlearn_time_s" in found else [])


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value  # not NaN


def _number(value: float) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def metric_cell(row: dict[str, Any], metric: str) -> tuple[float | None, str]:
    """(the value the column sorts by, the cell's HTML): ``mean ± std`` and ``[low, high]`` when present."""
    value = row.get(metric)
    mean, std = row.get(f"{metric}_mean"), row.get(f"{metric}_std")
    low, high = row.get(f"{metric}_ci_low"), row.get(f"{metric}_ci_high")
    shown = value if _is_number(value) else mean if _is_number(mean) else None
    parts = []
    if shown is not None:
        text = _number(shown)
        if _is_number(std) and not _is_number(value):
            text += f" ± {_number(std)}"
        parts.append(html.escape(text))
    if _is_number(low) and _is_number(high):
        parts.append(f'<span class="ci" title="95 % interval">[{_number(low)}, {_number(high)}]</span>')
    sort_value = (
        shown if shown is not None else (low + high) / 2 if _is_number(low) and _is_number(high) else None
    )
    return sort_value, "<br>".join(parts)


def model_link(row: dict[str, Any], endpoint: str) -> str:
    """The model's name, linked to its Hub repo when it has one (it came from the Hub, or names its URL)."""
    name = str(row.get("model") or "")
    url = row.get("url")
    if not url and row.get("source") == "hub" and "/" in name:
        url = f"{endpoint.rstrip('/')}/{name}"
    if not url:
        return html.escape(name)
    return f'<a href="{html.escape(str(url), quote=True)}">{html.escape(name)}</a>'


def _sort_attr(value: Any) -> str:
    if value is None:
        return ' data-sort=""'
    return f' data-sort="{html.escape(str(value), quote=True)}"'


def _table(rows: list[dict[str, Any]], endpoint: str) -> str:
    info = [c for c in SHOWN_INFO if any(r.get(c) is not None for r in rows)]
    metrics = metric_bases(rows)
    head = "".join(
        f'<th scope="col" data-column="{html.escape(c)}" aria-sort="none" tabindex="0">{html.escape(c)}</th>'
        for c in info + metrics
    )
    body = []
    for row in rows:
        cells = []
        for column in info:
            value = row.get(column)
            text = (
                model_link(row, endpoint)
                if column == "model"
                else html.escape("" if value is None else str(value))
            )
            sort_value = value if _is_number(value) else ("" if value is None else str(value))
            cells.append(f'<td class="{html.escape(column)}"{_sort_attr(sort_value)}>{text}</td>')
        for metric in metrics:
            sort_value, text = metric_cell(row, metric)
            cells.append(f'<td class="num"{_sort_attr(sort_value)}>{text}</td>')
        reference = ' class="reference"' if row.get("rank") == "ref" else ""
        body.append(
            f'<tr data-method="{html.escape(str(row.get("method") or ""))}"{reference}>{"".join(cells)}</tr>'
        )
    return f'<table class="board"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


# --------------------------------------------------------------------------- the page
def figure_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The PNG figures of sweep folders among ``paths`` (their ``figures/`` folder), in name order."""
    found: list[Path] = []
    for path in map(Path, paths):
        folder = path if path.name == "figures" else path / "figures"
        if folder.is_dir():
            found += sorted(p for p in folder.glob("*.png") if p.is_file())
    return found


def _figure(path: Path) -> str:
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        raise MubenchError(f"{path} is not a PNG image; give PNG figures (as mubench run writes them)")
    encoded = base64.b64encode(data).decode("ascii")
    caption = html.escape(path.stem.replace("_", " "))
    return (
        f'<figure><img alt="{caption}" src="data:image/png;base64,{encoded}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def render_page(
    rows: list[dict[str, Any]],
    figures: Iterable[str | os.PathLike] = (),
    *,
    title: str = "mubench leaderboard",
    endpoint: str | None = None,
) -> str:
    """The page for ranked leaderboard rows (:func:`~mubench_hf.hub.build_leaderboard`) and PNG figures."""
    if endpoint is None:
        from huggingface_hub import constants

        endpoint = constants.ENDPOINT
    groups = [
        (task, config, list(group))
        for (task, config), group in groupby(rows, key=lambda r: (r.get("task"), r.get("config")))
    ]
    tabs, sections = [], []
    for index, (task, config, group) in enumerate(groups):
        name = f"{task or 'unknown task'} — {config or 'no config'}"
        ident = f"tab{index}"
        selected = "true" if index == 0 else "false"
        tabs.append(
            f'<button role="tab" id="{ident}-button" aria-controls="{ident}" aria-selected="{selected}">'
            f"{html.escape(name)}</button>"
        )
        hidden = "" if index == 0 else " hidden"
        sections.append(
            f'<section role="tabpanel" id="{ident}" aria-labelledby="{ident}-button"'
            f' data-task="{html.escape(str(task))}" data-config="{html.escape(str(config))}"{hidden}><h2>{html.escape(name)}</h2>'
            f"{_table(group, endpoint)}</section>"
        )
    figure_html = "".join(_figure(Path(p)) for p in figures)
    if figure_html:
        figure_html = (
            f'<section id="figures"><h2>Figures</h2><div class="figures">{figure_html}</div></section>'
        )
    empty = "" if groups else "<p>No models found.</p>"
    return _PAGE.format(
        title=html.escape(title),
        rule=html.escape(RANKING_RULE),
        tabs="".join(tabs),
        sections="".join(sections) + empty + sustainability_section_html(rows),
        figures=figure_html,
        style=_STYLE,
        script=_SCRIPT,
        count=len(rows),
    )


def write_page(
    rows: list[dict[str, Any]],
    output_dir: str | os.PathLike,
    figures: Iterable[str | os.PathLike] = (),
    **kwargs: Any,
) -> Path:
    """Write the page as ``output_dir/index.html`` (atomically); returns its path."""
    out = _folder(output_dir, "--html")
    path = out / PAGE_NAME
    _write(path, render_page(rows, figures, **kwargs))
    return path


def space_card(title: str = "mubench leaderboard") -> str:
    """The README of a static Space: the YAML the Hub reads (``sdk: static``) and a line of text."""
    meta = {
        "title": title,
        "emoji": "🧹",
        "colorFrom": "blue",
        "colorTo": "green",
        "sdk": "static",
        "app_file": PAGE_NAME,
        "pinned": False,
        "tags": ["mubench", "leaderboard", "machine-unlearning"],
    }
    yaml = "\n".join(f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in meta.items())
    return (
        f"---\n{yaml}\n---\n\n# {title}\n\nMachine-unlearning results collected by "
        f"[mubench-hf](https://github.com/CLU-UML/MU-Bench) from model cards. {RANKING_RULE}\n"
    )


def write_space(
    rows: list[dict[str, Any]],
    output_dir: str | os.PathLike,
    figures: Iterable[str | os.PathLike] = (),
    **kwargs: Any,
) -> Path:
    """Write a static Space folder (``README.md`` with ``sdk: static`` and ``index.html``); returns it."""
    out = _folder(output_dir, "--space")
    _write(out / PAGE_NAME, render_page(rows, figures, **kwargs))
    _write(out / SPACE_CARD, space_card(kwargs.get("title", "mubench leaderboard")))
    return out


def is_space_folder(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` is a static Space as :func:`write_space` writes it."""
    card = Path(folder) / SPACE_CARD
    if not (Path(folder) / PAGE_NAME).is_file() or not card.is_file():
        return False
    text = card.read_text(encoding="utf-8", errors="replace")
    head = text.split("---", 2)[1] if text.startswith("---") and text.count("---") >= 2 else ""
    return any(line.strip().replace('"', "") == "sdk: static" for line in head.splitlines())


def push_space(
    folder: str | os.PathLike,
    repo_id: str,
    token: str | None = None,
    private: bool = False,
    commit_message: str | None = None,
) -> Any:
    """Publish a Space folder (``index.html`` + ``README.md``) as the Space repo ``repo_id`` in one commit,
    after the same token scan as a model push; returns the :class:`~mubench_hf.hub.push.PushResult`."""
    from huggingface_hub import CommitOperationAdd

    from ..secrets import active_tokens, refuse_if_token_in
    from .client import hub_api, hub_errors, require_token
    from .naming import check_repo_id
    from .push import _commit

    check_repo_id(repo_id)
    folder = Path(folder)
    if not is_space_folder(folder):
        raise MubenchError(
            f"{folder} is not a static Space folder (index.html and a README.md whose YAML says "
            "sdk: static); write one with mubench leaderboard RUNS... --space DIR"
        )
    token = require_token(token, repo_id)
    files = [folder / SPACE_CARD, folder / PAGE_NAME]
    refuse_if_token_in([(p.name, p) for p in files], f"{folder} to Space {repo_id}", active_tokens(token))
    api = hub_api(token)
    with hub_errors(
        f"pushing the Space {folder} to {repo_id}", "check the repo name, your token and connection"
    ):
        # The Hub asks a new Space for its SDK (the shared model/dataset helper does not pass one).
        url = str(
            api.create_repo(repo_id, repo_type="space", space_sdk="static", private=private, exist_ok=True)
        )
        head = api.repo_info(repo_id, repo_type="space").sha
        operations = [CommitOperationAdd(p.name, str(p)) for p in files]
        message = commit_message or "Update the mubench leaderboard page"
        return _commit(api, repo_id, "space", url, head, operations, message)


def _folder(output_dir: str | os.PathLike, flag: str) -> Path:
    out = Path(output_dir)
    for ancestor in (out, *out.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise MubenchError(f"{flag} {out}: {ancestor} is a file; give a folder for {PAGE_NAME}")
            break
    out.mkdir(parents=True, exist_ok=True)
    return out


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- inline style and script
_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1f2328;background:#fff}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.15rem}
.rule{color:#57606a;max-width:60rem}
[role=tablist]{display:flex;flex-wrap:wrap;gap:.3rem;margin:1rem 0;border-bottom:1px solid #d0d7de}
[role=tab]{border:1px solid #d0d7de;border-bottom:none;background:#f6f8fa;padding:.4rem .8rem;cursor:pointer;
border-radius:6px 6px 0 0;font:inherit}
[role=tab][aria-selected=true]{background:#fff;font-weight:600}
table.board{border-collapse:collapse;font-size:.9rem}
.board th,.board td{border:1px solid #d0d7de;padding:.3rem .55rem;text-align:left;vertical-align:top}
.board td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.board th{background:#f6f8fa;cursor:pointer;user-select:none;white-space:nowrap}
.board th[aria-sort=ascending]::after{content:" ▲"}.board th[aria-sort=descending]::after{content:" ▼"}
.board tr.reference{background:#fff8c5}
.ci{color:#57606a;font-size:.8rem}
.figures{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}figure img{max-width:36rem;width:100%}
figcaption{color:#57606a;font-size:.85rem}
"""

# Sorting: numbers compare as numbers, text as text; empty cells always go last. Sorting is stable,
# so clicking one column and then another sorts by the second, ties in the order of the first.
_SCRIPT = """
(function(){
  function key(cell){var v=cell.getAttribute('data-sort');if(v===null||v==='')return null;
    var n=Number(v);return isNaN(n)?v.toLowerCase():n;}
  function compare(a,b){if(a===null&&b===null)return 0;if(a===null)return 1;if(b===null)return -1;
    if(typeof a===typeof b)return a<b?-1:a>b?1:0;return typeof a==='number'?-1:1;}
  function sortBy(th){
    var table=th.closest('table'),index=Array.prototype.indexOf.call(th.parentNode.children,th);
    var ascending=th.getAttribute('aria-sort')!=='ascending';
    Array.prototype.forEach.call(th.parentNode.children,function(h){h.setAttribute('aria-sort','none');});
    th.setAttribute('aria-sort',ascending?'ascending':'descending');
    var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
    var keyed=rows.map(function(r,i){return{row:r,key:key(r.cells[index]),i:i};});
    keyed.sort(function(x,y){var c=compare(x.key,y.key);
      if(x.key!==null&&y.key!==null&&!ascending)c=-c;return c||x.i-y.i;});
    keyed.forEach(function(k){body.appendChild(k.row);});
  }
  document.querySelectorAll('table.board th').forEach(function(th){
    th.addEventListener('click',function(){sortBy(th);});
    th.addEventListener('keydown',function(e){
      if(e.key==='Enter'||e.key===' '){e.preventDefault();sortBy(th);}});
  });
  var tabs=document.querySelectorAll('[role=tab]');
  tabs.forEach(function(tab){tab.addEventListener('click',function(){
    tabs.forEach(function(t){t.setAttribute('aria-selected',t===tab?'true':'false');
      document.getElementById(t.getAttribute('aria-controls')).hidden=(t!==tab);});
  });});
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<h1>{title}</h1>
<p class="rule">{rule} Click a column header to sort by it (again to reverse). {count} model(s).</p>
<div role="tablist">{tabs}</div>
{sections}
{figures}
<script>{script}</script>
</body>
</html>
"""
