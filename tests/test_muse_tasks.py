"""MUSE's tasks: ``muse_news`` / ``muse_books`` built from an upstream-shaped fixture (the configs and
columns swj0419/muse_bench's ``load_data.py`` reads: raw, verbmem, knowmem), their deletion configs, the
probes matched to documents, the MUSE piece of the generation report, and the offline stand-in
``muse_manpages`` (Debian's ``manpages``; skipped with the reason where it is not installed)."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest
import torch

from mubench_hf.errors import MubenchError
from mubench_hf.kinds.generation.muse_report import muse_probe_splits
from mubench_hf.kinds.generation.report import generation_report
from mubench_hf.metrics.generative.muse import knowmem, verbmem
from mubench_hf.splits import build_splits
from mubench_hf.tasks.manpage_text import parse_manpage
from mubench_hf.tasks.muse import load_muse, muse_upstream_order
from mubench_hf.tasks.muse_manpages import PACKAGE_FILES, load_muse_manpages, manpages_upstream_order

TOPICS = [
    "harbour",
    "orchard",
    "lantern",
    "meadow",
    "quarry",
    "glacier",
    "canyon",
    "delta",
    "tundra",
    "atoll",
]


def _article(topic: str, n: int) -> str:
    return " ".join(
        f"The {topic} report number {i} says the {topic} council met on day {i} of spring." for i in range(n)
    )


def muse_fixture() -> dict[str, datasets.DatasetDict]:
    """Upstream-shaped MUSE configs: 3 forget, 3 + 2 retain and 2 holdout articles, probes about them."""
    docs = {
        "forget": [_article(t, 30) for t in TOPICS[:3]],
        "retain1": [_article(t, 30) for t in TOPICS[3:6]],
        "retain2": [_article(t, 30) for t in TOPICS[6:8]],
        "holdout": [_article(t, 30) for t in TOPICS[8:]],
    }
    raw = datasets.DatasetDict({s: datasets.Dataset.from_dict({"text": t}) for s, t in docs.items()})
    verb = datasets.DatasetDict(
        {
            "forget": datasets.Dataset.from_dict(
                {
                    "prompt": [" ".join(d.split()[40:72]) for d in docs["forget"]][::-1],
                    "gt": [" ".join(d.split()[72:150]) for d in docs["forget"]][::-1],
                }
            )
        }
    )
    qa = lambda topics: {  # noqa: E731
        "question": [f"When did the {t} council meet?" for t in topics],
        "answer": [f"the {t} council met on day 3" for t in topics],
    }
    know = datasets.DatasetDict(
        {
            "forget_qa": datasets.Dataset.from_dict(qa(TOPICS[1:3])),
            "retain_qa": datasets.Dataset.from_dict(qa(TOPICS[6:8])),
            "forget_qa_icl": datasets.Dataset.from_dict(
                {"question": ["Who met?"], "answer": ["the council"]}
            ),
            "retain_qa_icl": datasets.Dataset.from_dict(
                {"question": ["Who met?"], "answer": ["the council"]}
            ),
        }
    )
    return {"raw": raw, "verbmem": verb, "knowmem": know}


def test_muse_tasks_are_listed_with_the_offline_stand_in(capsys: pytest.CaptureFixture[str]) -> None:
    from mubench_hf.cli import main

    assert main(["tasks", "--json"]) == 0
    tasks = {t["name"]: t for t in json.loads(capsys.readouterr().out)}
    assert tasks["muse_news"]["offline"] is False and tasks["muse_books"]["offline"] is False
    assert tasks["muse_manpages"]["offline"] is True
    assert {tasks[n]["kind"] for n in ("muse_news", "muse_books", "muse_manpages")} == {"generation"}


def test_upstream_shaped_muse_builds_documents_probes_and_groups() -> None:
    data = load_muse("news", muse_fixture())
    assert set(data) == {"train", "test", "verbmem", "knowmem"}
    # 30 sentences of 14 words = 420 words: one 300-word passage and the rest (120 words)
    train = data["train"]
    assert sorted(set(train["group"])) == list(range(8)) and len(train) == 16
    assert set(data["test"]["group"]) == {8, 9}
    first = train[0]
    assert len(first["prompt"].split()) == 32 and first["completion"].startswith(" ")
    # verbmem prompts were cut from forget articles 2, 1, 0 (listed in reverse)
    assert data["verbmem"]["group"] == [2, 1, 0]
    # each question goes to the article holding its answer: orchard/lantern (forget 1, 2), canyon/delta (6, 7)
    assert data["knowmem"]["group"] == [1, 2, 6, 7]
    assert data["knowmem"][0]["prompt"].startswith(
        "Question: Who met?\nAnswer: the council\n\nQuestion: When"
    )
    assert muse_upstream_order("news", muse_fixture()) == [0, 1, 2]


def test_upstream_order_is_museS_forget_corpus_and_smaller_ratios_nest(tmp_path: Path) -> None:
    build_splits(
        "muse_news", tmp_path, ratios=[5, 10], order="upstream", source=muse_fixture(), show_progress=False
    )
    del10 = datasets.load_dataset(str(tmp_path), "muse_news_del10")
    del5 = datasets.load_dataset(str(tmp_path), "muse_news_del5")
    assert sorted(set(del10["forget"]["group"])) == [0, 1, 2]  # exactly MUSE's forget articles
    assert set(del5["forget"]["group"]) < set(del10["forget"]["group"])
    assert set(del10["retain"]["group"]) == {3, 4, 5, 6, 7}
    assert {"verbmem", "knowmem", "test"} <= set(del10)


def test_a_missing_config_or_column_is_named() -> None:
    fixture = muse_fixture()
    del fixture["verbmem"]
    with pytest.raises(MubenchError, match="no 'verbmem' config"):
        load_muse("books", fixture)
    fixture = muse_fixture()
    fixture["raw"]["forget"] = fixture["raw"]["forget"].rename_column("text", "body")
    with pytest.raises(MubenchError, match="raw/forget has no 'text' column"):
        load_muse("news", fixture)
    with pytest.raises(MubenchError, match="one of"):
        load_muse("poems", muse_fixture())


def test_the_report_scores_verbmem_and_knowmem_on_this_configS_documents(tmp_path: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    from mubench_hf.kinds.generation.tokenizer import train_tokenizer
    from mubench_hf.tasks import get_task

    data = get_task("muse_news").load(source=muse_fixture())  # canonical: with sample_id
    forget = data["train"].filter(lambda r: r["group"] in (0, 1, 2))
    retain = data["train"].filter(lambda r: r["group"] not in (0, 1, 2))
    splits = {
        "forget": forget,
        "retain": retain,
        "test": data["test"],
        "verbmem": data["verbmem"],
        "knowmem": data["knowmem"],
    }
    tok = train_tokenizer({"train": data["train"]})
    probes = muse_probe_splits(splits, tok, max_new_tokens=8)
    assert set(probes) == {"verbmem_forget", "knowmem_forget", "knowmem_retain"}
    assert probes["knowmem_retain"]["group"] == [6, 7]
    # the truth is cut to the 8-token budget, as MUSE's verbmem.py cuts gt
    assert all(len(tok(c)["input_ids"]) <= 8 for c in probes["verbmem_forget"]["completion"])
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
                         pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)  # fmt: skip
    model = LlamaForCausalLM(config)
    report = generation_report(
        model, tok, {**{n: splits[n] for n in ("forget", "retain", "test")}, **probes},
        holdout_split="test", max_new_tokens=8, output_dir=tmp_path, progress=False,
    )  # fmt: skip
    lines = [json.loads(line) for line in (tmp_path / "generations.jsonl").read_text().splitlines()]
    by_split: dict[str, list] = {}
    for line in lines:
        by_split.setdefault(line["split"], []).append(line)
    for name, score in (
        ("verbmem_forget", verbmem),
        ("knowmem_forget", knowmem),
        ("knowmem_retain", knowmem),
    ):
        rows = by_split[name]
        assert report[name] == pytest.approx(
            score([r["prediction"] for r in rows], [r["reference"] for r in rows])
        )
        assert 0.0 <= report[name] <= 1.0
    # as the unlearning report calls it on a MUSE-shaped task: the probes generated on, never teacher-forced
    lean = generation_report(
        model, tok, {**{n: splits[n] for n in ("forget", "retain", "test")}, **probes}, holdout_split="test",
        max_new_tokens=8, progress=False, generate_splits=list(probes), generation_only=list(probes),
    )  # fmt: skip
    assert {k: lean[k] for k in probes} == {k: report[k] for k in probes}
    assert lean["forget_rouge_l"] is None and "knowmem_retain_answer_prob" not in lean
    assert report["knowmem_retain_answer_prob"] is not None


def test_roff_pages_become_text_and_definitions() -> None:
    page = parse_manpage(
        '.\\" a comment\n.TH group 5 2022-10-30 "Linux man-pages 6.03"\n.SH NAME\ngroup \\- user group file\n'
        ".SH DESCRIPTION\nThe\n.I /etc/group\nfile defines groups.\n.PP\n.EX\ncode: not prose\n.EE\n"
        ".TP\n.I GID\nthe numeric group ID.\n.TP\n.BR \\-v , \\-\\-verbose\nPrint \\fBmore\\fR.\n"
    )
    assert (page.title, page.section, page.summary) == ("group", "5", "user group file")
    assert page.text == (
        "NAME group - user group file DESCRIPTION The /etc/group file defines groups. "
        "GID the numeric group ID. -v,--verbose Print more."
    )
    assert page.definitions == [("GID", "the numeric group ID."), ("-v,--verbose", "Print more.")]


needs_manpages = pytest.mark.skipif(
    not PACKAGE_FILES.is_file(),
    reason="Debian package 'manpages' not installed (apt-get install -y manpages)",
)


@needs_manpages
def test_the_man_page_stand_in_is_shaped_like_muse() -> None:
    data = load_muse_manpages()
    order = manpages_upstream_order()
    train, knowmem_rows = data["train"], data["knowmem"]
    assert len(order) >= 10 and set(order) < set(train["group"])
    assert not set(data["test"]["group"]) & set(train["group"])  # the holdout pages are never trained on
    assert set(data["verbmem"]["group"]) == set(train["group"])
    text_of: dict[int, str] = {}
    for row in train:
        text_of[row["group"]] = text_of.get(row["group"], "") + " " + row["prompt"] + row["completion"]
    # every answer is in the trained words of the page it is about (and the question is not)
    for row in knowmem_rows:
        assert row["completion"] in " ".join(text_of[row["group"]].split())
    assert any(row["group"] in order for row in knowmem_rows) and any(
        row["group"] not in order for row in knowmem_rows
    )
    assert load_muse_manpages()["train"]["completion"] == train["completion"]  # deterministic
