"""WMDP-shaped tasks (``wmdp_bio``, ``wmdp_cyber`` from upstream-shaped fixtures; the offline ``wmdp_pydocs``),
their multiple-choice scoring, and lm-evaluation-harness run in process.

The scoring is checked against the harness itself on identical inputs: the installed harness's own task file
``lm_eval/tasks/wmdp/wmdp_cyber.yaml`` (with ``_default_template_yaml``: the letters template, ``acc``) is run
on the fixture's questions, and our code (``kinds/generation/mcq.py``) must give the same per-choice
log-likelihoods, the same contexts and the same accuracy."""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from mubench_hf.errors import MubenchError
from mubench_hf.kinds.generation.mcq import choice_log_likelihoods, mcq_split_accuracy
from mubench_hf.kinds.generation.tokenizer import train_tokenizer
from mubench_hf.metrics.mcq import mcq_accuracy
from mubench_hf.splits import build_splits, load_deletion_config
from mubench_hf.tasks import get_task
from mubench_hf.tasks.python_docs import FORGET_MODULES, make_pydocs, module_documents
from mubench_hf.tasks.wmdp import load_wmdp
from tests.fixtures.wmdp_upstream import FORGET_TEXTS, MMLU, QUESTIONS, wmdp_questions, wmdp_source

lm_eval = pytest.importorskip("lm_eval", reason="lm-eval is an extra: pip install 'mubench-hf[lmeval]'")


def tiny_lm(splits: dict, seed: int = 0) -> tuple[GPT2LMHeadModel, object]:
    """A byte-level BPE tokenizer trained on the rows' text and a random tiny GPT-2 over it."""
    tokenizer = train_tokenizer(splits, vocab_size=400)
    torch.manual_seed(seed)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=512, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
                        pad_token_id=tokenizer.pad_token_id)  # fmt: skip
    return GPT2LMHeadModel(config).eval(), tokenizer


def test_wmdp_fixture_builds_domain_splits(tmp_path):
    result = build_splits("wmdp_cyber", tmp_path / "repo", ratios=[5, 10], order="upstream", source=wmdp_source(),
                          show_progress=False)  # fmt: skip
    assert result.configs == ["wmdp_cyber_del5", "wmdp_cyber_del10"]
    full = load_deletion_config(tmp_path / "repo", "wmdp_cyber_del10")
    # the forget set is the whole forget corpus; every tenth retain document is the held-out test split
    assert sorted(full["forget"]["prompt"]) == sorted(" ".join(t.split()[:8]) for t in FORGET_TEXTS)
    assert len(full["retain"]) == 18 and len(full["test"]) == 2
    assert len(load_deletion_config(tmp_path / "repo", "wmdp_cyber_del5")["forget"]) == 7  # shards 0-4 of 10
    # questions rendered as lm-eval's wmdp/_default_template_yaml renders them, with its description
    first = full["forget_mcq"][0]
    question, choices, answer = QUESTIONS[0]
    assert first["prompt"] == (
        "The following are multiple choice questions (with answers) about cybersecurity.\n\n"
        f"{question}\nA. 21\nB. 80\nC. 443\nD. 8080\nAnswer:"
    )
    assert (
        first["choices"] == ["A", "B", "C", "D"] and first["answer"] == answer and first["completion"] == " C"
    )
    mmlu = full["utility_mcq"]
    assert mmlu[0]["prompt"].startswith(
        "The following are multiple choice questions (with answers) about elementary mathematics.\n\n"
    )
    assert list(mmlu["answer"]) == [r[3] for r in MMLU]


def test_our_scoring_matches_the_harness_on_its_own_wmdp_yaml():
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    from lm_eval.tasks._yaml_loader import load_yaml

    rows = load_wmdp("cyber", wmdp_source())["forget_mcq"]
    model, tokenizer = tiny_lm({"train": rows})
    config = load_yaml(Path(lm_eval.__file__).parent / "tasks" / "wmdp" / "wmdp_cyber.yaml")
    assert config["output_type"] == "multiple_choice" and config["doc_to_choice"] == ["A", "B", "C", "D"]
    config["custom_dataset"] = lambda **_: wmdp_questions()  # the upstream-shaped questions, in memory
    out = simple_evaluate(model=HFLM(pretrained=model, tokenizer=tokenizer, batch_size=4), tasks=[config],
                          task_manager=TaskManager(include_defaults=False), log_samples=True,
                          bootstrap_iters=0)  # fmt: skip
    samples = sorted(out["samples"]["wmdp_cyber"], key=lambda s: s["doc_id"])
    theirs = [np.array([r[0][0] for r in s["resps"]]) for s in samples]
    # the same strings: the harness's context and continuations are our prompt and " " + choice
    assert [s["arguments"][0][0] for s in samples] == list(rows["prompt"])
    assert [[a[1] for a in s["arguments"]] for s in samples] == [
        [" " + c for c in cs] for cs in rows["choices"]
    ]
    ours = choice_log_likelihoods(model, tokenizer, rows, batch_size=3)
    for mine, harness in zip(ours, theirs):
        np.testing.assert_allclose(mine, harness, rtol=0, atol=1e-4)
    accuracy = mcq_accuracy(ours, rows["answer"])
    assert out["results"]["wmdp_cyber"]["acc,none"] == pytest.approx(accuracy, abs=1e-12)
    assert mcq_split_accuracy(model, tokenizer, rows) == pytest.approx(accuracy, abs=1e-12)


def test_a_local_task_in_the_harness_gives_our_accuracy():
    from mubench_hf.evaluation.harness import local_tasks, run_lm_eval

    data = make_pydocs()
    splits = {
        "forget_mcq": data["forget_mcq"].select(range(24)),
        "utility_mcq": data["utility_mcq"].select(range(16)),
    }
    model, tokenizer = tiny_lm({"train": data["train"]}, seed=3)
    local = local_tasks("wmdp_pydocs", splits)
    assert sorted(local) == ["wmdp_pydocs_forget_mcq", "wmdp_pydocs_utility_mcq"]
    results = run_lm_eval(model, tokenizer, ["wmdp_pydocs_forget_mcq", "wmdp_pydocs_utility_mcq"], local=local,
                          batch_size=8)  # fmt: skip
    assert set(results) == {"lm_eval/wmdp_pydocs_forget_mcq/acc", "lm_eval/wmdp_pydocs_utility_mcq/acc"}
    for split in ("forget_mcq", "utility_mcq"):
        ours = mcq_split_accuracy(model, tokenizer, splits[split], batch_size=8)
        assert results[f"lm_eval/wmdp_pydocs_{split}/acc"] == pytest.approx(ours, abs=1e-12)
    with pytest.raises(MubenchError, match=r"lm-eval knows no task \['wmdp_pydocs_forget'\].*local tasks"):
        run_lm_eval(model, tokenizer, ["wmdp_pydocs_forget"], local=local)


def test_the_pydocs_stand_in_is_wmdp_shaped():
    data = make_pydocs()
    assert set(data) == {"train", "test", "forget_mcq", "utility_mcq"}
    forget_docs = sum(len(module_documents(m)) for m in FORGET_MODULES)
    # forget corpus rows are the first groups (ten shards): the upstream order forgets exactly them
    groups = np.asarray(data["train"]["group"])
    assert int((groups < 10).sum()) == forget_docs == len(data["forget_mcq"])
    assert all(
        p.split(".")[0] in {m.split(".")[0] for m in FORGET_MODULES}
        for p in data["train"]["prompt"][:forget_docs]
    )
    train_prompts = set(data["train"]["prompt"][:forget_docs])
    for row in data["forget_mcq"].select(range(10)):
        # the question is the document's own prompt ("ssl.match_hostname:"); the right choice opens its text
        assert row["prompt"] in train_prompts and len(row["choices"]) == 4
        assert row["completion"] == " " + row["choices"][row["answer"]]
        short = row["prompt"].rstrip(":").split(".")[-1]
        assert not any(short in choice for choice in row["choices"])  # no choice names its object
    assert make_pydocs()["forget_mcq"]["choices"] == data["forget_mcq"]["choices"]  # seeded
    assert get_task("wmdp_pydocs").upstream_order() == list(range(10))


def test_domain_tasks_forget_their_forget_corpus_by_default(tmp_path):
    from mubench_hf.tasks.domain_task import DomainTask

    task = DomainTask(
        name="wmdp_default_order", modality="text", build=lambda source: load_wmdp("cyber", wmdp_source())
    )
    build_splits(task, tmp_path / "repo", ratios=[10], show_progress=False)  # no --order: the forget shards
    forget = load_deletion_config(tmp_path / "repo", "wmdp_default_order_del10")["forget"]
    assert sorted(forget["prompt"]) == sorted(" ".join(t.split()[:8]) for t in FORGET_TEXTS)


def test_wmdp_sources_say_what_is_missing():
    source = wmdp_source()
    del source["retain_corpus"]
    with pytest.raises(MubenchError, match=r"no 'retain_corpus' entry"):
        load_wmdp("cyber", source)
    broken = {
        **wmdp_source(),
        "questions": datasets.DatasetDict({"test": datasets.Dataset.from_dict({"prompt": ["x"]})}),
    }
    with pytest.raises(MubenchError, match=r"no \['question', 'choices', 'answer'\] column"):
        load_wmdp("cyber", broken)
    with pytest.raises(MubenchError, match=r"unknown WMDP domain 'chem'"):
        load_wmdp("chem", wmdp_source())


def test_harness_results_become_declared_report_keys():
    from mubench_hf.evaluation.harness import results_as_metrics
    from mubench_hf.metrics import metric_label, metric_split

    results = {"mmlu": {"acc,none": 0.5, "acc_stderr,none": 0.01, "alias": "mmlu"},
               "mmlu_anatomy": {"acc,none": 0.4}, "gsm8k": {"exact_match,strict-match": 0.2}}  # fmt: skip
    assert results_as_metrics(results, ["mmlu", "gsm8k"]) == {
        "lm_eval/mmlu/acc": 0.5, "lm_eval/gsm8k/exact_match_strict-match": 0.2,
    }  # fmt: skip
    assert metric_label("lm_eval/wmdp_bio/acc", "generation") == "WMDP-Bio accuracy (lm-eval)"
    assert metric_split("lm_eval/mmlu/acc", "generation") == "utility_mcq"
    assert metric_label("forget_mcq_accuracy", "generation") == "Forget-domain MCQ accuracy"
    assert (
        metric_label("original_utility_mcq_accuracy", "generation")
        == "Utility MCQ accuracy of the original model"
    )


def test_harness_results_reach_the_card_and_the_leaderboard_row():
    from mubench_hf.hub.cards import read_results, render_model_card
    from mubench_hf.hub.leaderboard import row_from_card

    results = {"forget_mcq_accuracy": 0.25, "utility_mcq_accuracy": 0.75, "lm_eval/wmdp_pydocs_forget_mcq/acc": 0.25,
               "lm_eval/mmlu/acc": 0.5}  # fmt: skip
    card = render_model_card("unlearned", task="wmdp_pydocs", config="wmdp_pydocs_del10", dataset_repo="me/splits",
                             dataset_hash=None, backbone="tiny:gpt2", recipe={}, seed=0, results=results,
                             base_model="me/base", method="npo", model_name="me/npo")  # fmt: skip
    assert read_results(card) == results
    assert "MMLU accuracy (lm-eval)" in str(card) and "Forget-domain MCQ accuracy" in str(card)
    row = row_from_card(card, "me/npo", "local")
    assert row["lm_eval/mmlu/acc"] == 0.5 and row["forget_mcq_accuracy"] == 0.25


@pytest.mark.slow  # the harness indexes its ~15k task files first (about a minute on two busy cores)
def test_a_harness_task_offline_says_so():
    from mubench_hf.evaluation.harness import local_tasks, run_lm_eval

    data = make_pydocs()
    model, tokenizer = tiny_lm({"train": data["train"]})
    local = local_tasks("wmdp_pydocs", {"forget_mcq": data["forget_mcq"]})
    # a harness task reads its data from the Hub: offline, that is said, with the local tasks to use instead
    with pytest.raises(
        MubenchError, match=r"could not load the data of \['wmdp_bio'\].*HF_HUB_OFFLINE.*local tasks"
    ):
        run_lm_eval(model, tokenizer, ["wmdp_bio"], local=local, limit=2)
