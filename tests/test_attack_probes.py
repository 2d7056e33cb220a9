"""The paraphrase attack on the forgetting (issue 23): Df asked again in other words.

Checked against TOFU's definition as open-unlearning runs it (``configs/eval/tofu.yaml``: ``question_key`` may be
``paraphrased_question``, a column of TOFU's ``forget*_perturbed`` configs, which ``tests/fixtures/
generation_upstream.py`` reproduces) and MUSE's KnowMem prompts (``swj0419/muse_bench``: few-shot
``Question: ...\\nAnswer: ``):

* the probes are what ``mubench_hf.kinds.generation.probes`` defines, by value: the last question of a prompt
  inside a template (the few-shot examples kept), other prompts after a framing line, the template drawn by
  ``default_rng(seed).integers`` per row, a row's own paraphrased prompt first unless ``templates`` is asked;
  TOFU's ``paraphrased_question`` reaches the task's rows as ``paraphrased_prompt``;
* on a tiny GPT-2 unlearned by gradient ascent, the report's ``<metric>_after_paraphrase`` of an identity probe
  (each row's paraphrased prompt = its prompt) is the unattacked value, KnowMem included (recovery 0); with the
  templates the attack's values are the forget metrics of the reworded rows, finite and in [0, 1];
* bad settings and a classification task are refused with the reason; every key is declared for generation only.
"""

from __future__ import annotations

import datasets
import numpy as np
import pytest
from generation_testlib import qa_rows, quiet_lm_args, tiny_gpt2, tiny_tokenizer

from mubench_hf import MubenchError
from mubench_hf.evaluation.attacks import PROBE_ATTACKS, AttackSettings, as_attack_settings, parse_attacks
from mubench_hf.kinds import get_kind
from mubench_hf.kinds.generation.attack_scores import generation_forget_scores
from mubench_hf.kinds.generation.probes import (
    QUESTION_TEMPLATES,
    TEXT_TEMPLATES,
    probe_prompts,
    probe_rows,
    reworded_prompt,
)
from mubench_hf.metrics.declarations import metric_spec, metric_specs

pytestmark = pytest.mark.usefixtures("one_torch_thread")
#: what a TOFU-shaped task (questions, no MUSE probes) reports after an attack
TOFU_SHAPED = ("forget_rouge_l", "forget_answer_prob", "extraction_strength")


# ----------------------------------------------------------------------------- the probes, by value
def test_a_question_is_reworded_inside_its_scaffold_and_other_prompts_get_a_framing_line():
    assert reworded_prompt("Question: Where was Ann born?\nAnswer:", 0) == (
        "Question: Could you tell me this: Where was Ann born?\nAnswer:"
    )
    # MUSE's few-shot KnowMem prompt: only the last question is reworded, its "Answer: " cue kept
    few_shot = "Question: Who won?\nAnswer: Bob\n\nQuestion: Where is it?\nAnswer: "
    assert reworded_prompt(few_shot, 2) == (
        "Question: Who won?\nAnswer: Bob\n\nQuestion: Where is it? Please answer from what you know.\nAnswer: "
    )
    assert (
        reworded_prompt("Question: Where? Answer:", 5)
        == "Question: I have a question for you. Where? Answer:"
    )
    # a passage prefix (MUSE's forget corpus) or a dialogue: a framing line before the prompt
    assert (
        reworded_prompt("The mayor said on Tuesday", 3)
        == "Please go on from here.\nThe mayor said on Tuesday"
    )
    assert reworded_prompt("Question: unanswered", 0) == "Continue the following text.\nQuestion: unanswered"
    assert len(QUESTION_TEMPLATES) == len(TEXT_TEMPLATES)  # one draw per row serves both


def _rows(own: list[str] | None = None) -> datasets.Dataset:
    columns = {"prompt": [f"Question: Q{i}?\nAnswer:" for i in range(12)], "completion": [f" A{i}" for i in range(12)],
               "sample_id": list(range(100, 112))}  # fmt: skip
    if own is not None:
        columns["paraphrased_prompt"] = own
    return datasets.Dataset.from_dict(columns)


def test_probe_prompts_follow_the_definition():
    own = ["Question: Tell me Q0\nAnswer:", "", *[""] * 9, "Question: Tell me Q11\nAnswer:"]
    rows = _rows(own)
    drawn = np.random.default_rng(7).integers(0, len(QUESTION_TEMPLATES), size=12)
    expected = [
        own[i] or f"Question: {QUESTION_TEMPLATES[t].format(question=f'Q{i}?')}\nAnswer:"
        for i, t in enumerate(drawn)
    ]
    assert probe_prompts(rows, 7) == (expected, 2)
    assert probe_prompts(rows, 7, "auto") == probe_prompts(rows, 7)
    templated, upstream = probe_prompts(rows, 7, "templates")
    assert (
        upstream == 0
        and templated[0] == f"Question: {QUESTION_TEMPLATES[drawn[0]].format(question='Q0?')}\nAnswer:"
    )
    assert probe_prompts(_rows(), 7)[0] == templated  # no paraphrase column: the templates
    assert probe_prompts(_rows(), 8)[0] != templated  # another seed, other draws
    # the probe split: prompts replaced, every other column and the row order as they were
    probed = probe_rows(rows, 7)
    assert probed.column_names == rows.column_names and probed["prompt"] == expected
    assert probed["completion"] == rows["completion"] and probed["sample_id"] == rows["sample_id"]


def test_tofus_paraphrased_questions_become_the_rows_paraphrased_prompts():
    from fixtures.generation_upstream import tofu_like

    from mubench_hf.tasks import get_task
    from mubench_hf.tasks.generation_hub import load_tofu

    splits = load_tofu(tofu_like())
    train = splits["train"]
    # forget10_perturbed covers the last 20 authors, retain_perturbed the first 400 rows; the rest have none
    question = train[3999]["prompt"].removeprefix("Question: ").removesuffix("\nAnswer:")
    assert train[3999]["paraphrased_prompt"] == f"Question: Tell me: {question}\nAnswer:"
    assert train[0]["paraphrased_prompt"].startswith("Question: Tell me: What is fact 0")
    assert train[2000]["paraphrased_prompt"] == ""
    assert splits["test"][0]["paraphrased_prompt"] == ""  # holdout10 has no paraphrased questions
    assert (
        splits["world_facts"][0]["paraphrased_prompt"] == "Question: Tell me: What is world fact 0?\nAnswer:"
    )
    assert "paraphrased_prompt" in get_task("tofu").features
    # so the attack re-asks TOFU's own paraphrase there, and a template elsewhere
    forget = train.select(range(3980, 4000))
    probes, upstream = probe_prompts(forget, 0)
    assert upstream == 20 and probes == forget["paraphrased_prompt"]


# ----------------------------------------------------------------------------- settings, declarations
def test_bad_settings_and_classification_are_refused():
    assert parse_attacks("paraphrase,quant8") == ("quant8", "paraphrase") and PROBE_ATTACKS == ("paraphrase",)
    assert as_attack_settings(
        {"attacks": "paraphrase", "paraphrase_source": "templates"}
    ).paraphrase_source == ("templates")
    with pytest.raises(
        MubenchError, match=r"paraphrase_source must be one of \['auto', 'templates'\], got 'gpt'"
    ):
        AttackSettings(attacks="paraphrase", paraphrase_source="gpt")
    with pytest.raises(MubenchError, match="paraphrase_source must be one of"):
        probe_prompts(_rows(), 0, "human")
    with pytest.raises(
        MubenchError, match="re-asks a generation task's prompts in other words; classification"
    ):
        get_kind("classification").probe_scores(None, None, {}, seed=0)


def test_flags_config_and_grid_carry_the_source(tmp_path):
    from mubench_hf.cli import evaluate
    from mubench_hf.sweeps.cells import cell_arguments
    from mubench_hf.sweeps.grid import make_grid
    from mubench_hf.trainers import UnlearnConfig

    parser = evaluate.build_parser()
    base = ["--model", "m", "--dataset", "d", "--config", "tofu_del1", "--attacks", "paraphrase"]
    settings = evaluate.attack_settings(parser.parse_args([*base, "--paraphrase-attack-source", "templates"]))
    assert settings == AttackSettings(attacks=("paraphrase",), paraphrase_source="templates")
    assert evaluate.attack_settings(parser.parse_args(base)).paraphrase_source == "auto"
    with pytest.raises(SystemExit):
        parser.parse_args([*base, "--paraphrase-attack-source", "llm"])
    config = UnlearnConfig(output_dir=str(tmp_path), method="npo", attacks="paraphrase",
                           paraphrase_attack_source="templates", report_to="none")  # fmt: skip
    assert as_attack_settings(None, config).paraphrase_source == "templates"
    with pytest.raises(MubenchError, match="paraphrase_source must be one of"):
        UnlearnConfig(
            output_dir=str(tmp_path), method="npo", attacks="paraphrase", paraphrase_attack_source="x"
        )
    attacked = {"attacks": "paraphrase", "paraphrase_attack_source": "templates"}
    grid = make_grid({"task": "fictitious_authors_small", "methods": ["retrain", "npo"], "output": str(tmp_path),
                      "unlearn_args": attacked})  # fmt: skip
    assert cell_arguments(grid, "retrain", "fictitious_authors_small_del5") == attacked
    # a classification grid refuses it when it is read, not after every cell has unlearned
    with pytest.raises(
        MubenchError,
        match=r"\['paraphrase'\] re-ask a generation task's prompts.*'digits' is a classification task",
    ):
        make_grid({"task": "digits", "methods": ["npo"], "output": str(tmp_path), "unlearn_args": attacked})
    with pytest.raises(MubenchError, match="re-ask a generation task's prompts"):
        make_grid({"task": "digits", "methods": ["npo"], "output": str(tmp_path),
                   "hyperparameters": {"npo": {"attacks": "quant8,paraphrase"}}})  # fmt: skip
    assert make_grid(
        {"task": "digits", "methods": ["npo"], "output": str(tmp_path), "unlearn_args": {"attacks": "quant8"}}
    )


def test_the_paraphrase_share_compares_the_part_removed_on_each_wording():
    from mubench_hf.evaluation.attacks.run import paraphrase_share

    # as trained: 0.9 -> 0.3 (2/3 of the level removed); reworded: the original 0.6, the unlearned 0.4 (1/3)
    assert paraphrase_share(0.4, 0.6, 0.3, 0.9) == pytest.approx(0.5)
    assert paraphrase_share(0.2, 0.6, 0.3, 0.9) == pytest.approx(0.0)  # the same part removed: nothing back
    assert paraphrase_share(0.6, 0.6, 0.3, 0.9) == pytest.approx(
        1.0
    )  # reworded, it is at the original's level
    # the demo's npo (measured): 0.969 -> 0.020 as trained; 0.458 (original) and 0.048 on the reworded
    # questions: it answers hardly any of them, a small share (a difference-based share would read 0.57)
    assert paraphrase_share(0.048, 0.458, 0.020, 0.969) == pytest.approx(0.086, abs=1e-3)
    assert paraphrase_share(0.2, None, 0.3, 0.9) is None and paraphrase_share(0.2, 0.5, 0.9, 0.9) is None
    assert paraphrase_share(0.0, 0.0, 0.3, 0.9) is None  # the original answers none of the probes


def test_the_paraphrase_keys_are_declared_for_generation_only():
    probe_metrics = get_kind("generation").probe_metrics
    # the same metrics as the weight attacks: a TOFU-shaped task's forget ROUGE-L, a MUSE-shaped one's VerbMem
    # and KnowMem (each task reports those it has)
    assert probe_metrics == get_kind("generation").attack_metrics
    assert {"forget_rouge_l", "verbmem_forget", "knowmem_forget"} <= set(probe_metrics)
    for metric in probe_metrics:
        for key in (
            f"{metric}_after_paraphrase",
            f"{metric}_recovery_paraphrase",
            f"original_{metric}_after_paraphrase",
        ):
            assert metric_spec(key, "generation").kind == "generation", key
    assert metric_spec("forget_rouge_l_after_paraphrase", "generation").column == "forget ROUGE-L paraphrased"
    assert get_kind("classification").probe_metrics == ()
    # a card carries them in its model-index and names them by their declared label, no card code involved
    from mubench_hf.hub.cards import read_results, render_model_card

    results = {
        "forget_rouge_l": 0.25,
        "forget_rouge_l_after_paraphrase": 0.5,
        "knowmem_forget_recovery_paraphrase": 0.1,
    }
    card = render_model_card(
        "unlearned", task="fictitious_authors", config="fictitious_authors_del5", dataset_repo="org/splits",
        dataset_hash="ab" * 32, backbone="tiny:llama", recipe={}, seed=0, results=results, base_model="org/base",
        method="npo", model_name="org/npo",
    )  # fmt: skip
    assert read_results(card) == results
    assert "Forget ROUGE-L recall on Df asked in other words" in str(card)
    assert not [s.name for s in metric_specs("classification") if "paraphrase" in s.name]


# ----------------------------------------------------------------------------- the report, on a tiny model
def _split(people: list[int], offset: int, tok, own: str = "identity") -> datasets.Dataset:
    from mubench_hf.modalities.text_generation import encode_split

    rows = qa_rows(people)
    prompts = [p for p, _ in rows]
    raw = datasets.Dataset.from_dict({
        "prompt": prompts, "completion": [c for _, c in rows], "group": [people[i // 3] for i in range(len(rows))],
        "paraphrased_prompt": prompts if own == "identity" else [""] * len(rows),
        "sample_id": list(range(offset, offset + len(rows))),
    })  # fmt: skip
    return encode_split(raw, tok, seq2seq=False, max_length=None)


def _knowmem(people: list[int], own: str) -> datasets.Dataset:
    """KnowMem-shaped rows about each person (tagged with their group): the questions as trained, so the
    original model answers them and unlearning has something to remove."""
    rows = qa_rows(people)
    prompts = [p for p, _ in rows]
    return datasets.Dataset.from_dict({
        "prompt": prompts, "completion": [c.strip() for _, c in rows], "group": [people[i // 3] for i in range(len(rows))],
        "paraphrased_prompt": prompts if own == "identity" else [""] * len(rows),
        "sample_id": list(range(100, 100 + len(rows))),
    })  # fmt: skip


@pytest.fixture(scope="module")
def unlearned(tmp_path_factory):
    """A tiny GPT-2 trained on 5 people's QA, then 6 steps of gradient ascent on two of them."""
    from transformers import Trainer, TrainingArguments

    from mubench_hf.kinds import objective_for
    from mubench_hf.modalities.text_generation import GenerationCollator
    from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

    tmp = tmp_path_factory.mktemp("probes")
    tok = tiny_tokenizer()
    splits = {
        "forget": _split([0, 1], 0, tok),
        "retain": _split([2, 3, 4], 6, tok),
        "test": _split([5], 15, tok),
    }
    collate = GenerationCollator(pad_token_id=tok.pad_token_id)
    base = tiny_gpt2(len(tok))
    train = datasets.concatenate_datasets([splits["forget"], splits["retain"]]).select_columns(
        ["input_ids", "attention_mask", "labels"]
    )
    Trainer(model=base, data_collator=collate, train_dataset=train, args=TrainingArguments(
        str(tmp / "base_run"), use_cpu=True, report_to="none", disable_tqdm=True, save_strategy="no",
        logging_strategy="no", learning_rate=1e-2, max_steps=60, per_device_train_batch_size=6, seed=0,
    )).train()  # fmt: skip
    base.save_pretrained(tmp / "base")
    model = type(base).from_pretrained(tmp / "base")  # its folder is the original model the report loads
    args = UnlearnConfig(method="grad_ascent", attacks="paraphrase", generation_max_new_tokens=8,
                         **quiet_lm_args(tmp / "ga", learning_rate=5e-3, max_steps=6))  # fmt: skip
    trainer = UnlearnTrainer(model=model, args=args, forget_dataset=splits["forget"], retain_dataset=splits["retain"],
                             processing_class=tok, data_collator=collate, objective=objective_for("generation"))  # fmt: skip
    trainer.train()
    return trainer, splits, tok


def test_an_identity_probe_gives_the_unattacked_values(unlearned):
    trainer, splits, _ = unlearned
    report = trainer.evaluate_unlearning(splits=splits)
    for metric in TOFU_SHAPED:
        assert report[f"{metric}_after_paraphrase"] == pytest.approx(report[metric], abs=1e-6), metric
        recovery = report[f"{metric}_recovery_paraphrase"]
        assert recovery is None or recovery == pytest.approx(0.0, abs=1e-4), metric
    assert report["forget_answer_prob"] < report["original_forget_answer_prob"]  # the share is defined there
    assert report["forget_answer_prob_recovery_paraphrase"] == pytest.approx(0.0, abs=1e-4)
    assert "knowmem_forget_after_paraphrase" not in report  # no KnowMem questions in these splits
    assert "verbmem_forget_after_paraphrase" not in report
    assert report["attacks_time_s"] > 0
    # a MUSE-shaped task: KnowMem of the forget documents' questions, asked as the report asks them
    muse = trainer.evaluate_unlearning(splits={**splits, "knowmem": _knowmem([0, 1, 2, 3], "identity")})
    assert muse["knowmem_forget"] < muse["original_knowmem_forget"]  # measured: 0.80 -> 0.00
    assert muse["knowmem_forget_after_paraphrase"] == pytest.approx(muse["knowmem_forget"], abs=1e-6)
    assert muse["knowmem_forget_recovery_paraphrase"] == pytest.approx(0.0, abs=1e-4)
    # as its report, a MUSE-shaped task is not asked its forget passages: no forget ROUGE-L after the attack
    assert muse["forget_rouge_l"] is None and "forget_rouge_l_after_paraphrase" not in muse


def test_the_templated_probes_are_scored_as_the_forget_rows_reworded(unlearned):
    from mubench_hf.kinds.generation.attack_scores import _score
    from mubench_hf.kinds.generation.unlearning_report import settings_of
    from mubench_hf.metrics.generative.muse import knowmem as knowmem_score

    trainer, splits, tok = unlearned
    forget = splits["forget"]
    report = trainer.evaluate_unlearning(splits={**splits, "forget": _split([0, 1], 0, tok, own="none")})
    seed = int(trainer.args.seed)
    reworded = probe_rows(forget.with_format(None), seed, "templates")
    assert reworded["prompt"] != forget["prompt"]  # the probes are not the questions as trained
    expected = generation_forget_scores(trainer, trainer.model, reworded)
    # the original model is asked the same probes: the share compares what unlearning removed on each wording
    original = type(trainer.model).from_pretrained(trainer.original_model_path())
    on_probes = generation_forget_scores(trainer, original, reworded)
    for metric, value in expected.items():
        after = report[f"{metric}_after_paraphrase"]
        assert np.isfinite(after) and 0.0 <= after <= 1.0
        assert after == pytest.approx(value, abs=1e-6), metric
        assert report[f"original_{metric}_after_paraphrase"] == pytest.approx(on_probes[metric], abs=1e-6)
        original_level, unlearned_level = report[f"original_{metric}"], report[metric]
        share = None
        if on_probes[metric] and original_level and original_level != unlearned_level:
            removed_on_probes = (on_probes[metric] - value) / on_probes[metric]
            share = 1 - removed_on_probes / ((original_level - unlearned_level) / original_level)
        assert report[f"{metric}_recovery_paraphrase"] == pytest.approx(share, abs=1e-6), metric
    # asked of the kind directly: KnowMem of the forget documents' KnowMem questions, reworded
    knowmem = _knowmem([0, 1, 2], "none")
    scores = get_kind("generation").probe_scores(
        trainer, trainer.model, {**splits, "knowmem": knowmem}, seed=seed, source="templates"
    )
    assert set(scores) == {"knowmem_forget"}  # MUSE-shaped: its probes are asked, not its forget passages
    asked = probe_rows(knowmem.select(range(6)), seed, "templates")  # groups 0 and 1: the forget people
    generated = _score(trainer, trainer.model, asked, settings_of(trainer), None, score=False, name="knowmem")
    assert scores["knowmem_forget"] == knowmem_score(generated.predictions, asked["completion"])
    assert 0.0 <= scores["knowmem_forget"] <= 1.0


def test_a_classification_report_refuses_the_paraphrase_attack_before_scoring(tmp_path):
    from transformers import Trainer, TrainingArguments

    from mubench_hf.evaluation import evaluate_unlearning

    trainer = Trainer(
        model=tiny_gpt2(8), args=TrainingArguments(str(tmp_path), use_cpu=True, report_to="none")
    )
    forget = datasets.Dataset.from_dict({"label": [0, 1], "sample_id": [0, 1]})
    with pytest.raises(MubenchError, match="classification tasks have no prompt to reword"):
        evaluate_unlearning(trainer, {"forget": forget}, log=False, attacks="quant8,paraphrase")


def test_the_robustness_table_gets_a_paraphrased_column():
    from mubench_hf.sweeps.robustness import robustness_table

    row = {"method": "npo", "original_forget_rouge_l_mean": 0.9, "forget_rouge_l_mean": 0.1,
           "forget_rouge_l_after_paraphrase_mean": 0.3, "forget_rouge_l_recovery_paraphrase_mean": 0.25}  # fmt: skip
    table = robustness_table([row], "generation")
    assert (
        "| method | forget_rouge_l before | forget_rouge_l | paraphrased | recovered (paraphrased) |" in table
    )
    assert "| npo | 0.900 | 0.100 | 0.300 | 0.250 |" in table
