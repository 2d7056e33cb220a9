"""The attacks on the forgetting of a MUSE-shaped task: quantization, relearning and paraphrase report VerbMem
and KnowMem on the forget documents (MUSE's axes, as the report scores them), relearning splits Df by
document (so a document's VerbMem probe, a passage of the document itself, is never relearned on and
scored), and the leaderboard's robustness section gets a VerbMem and a KnowMem table."""

from __future__ import annotations

import datasets
import pytest
import torch
from test_muse_tasks import muse_fixture

from mubench_hf.errors import MubenchError
from mubench_hf.evaluation.attacks.relearn import relearn_parts
from mubench_hf.kinds import get_kind

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_relearning_splits_by_document_when_asked():
    groups = [7, 7, 3, 3, 3, 9, 9, 1, 1, 1]
    learned, scored = relearn_parts(len(groups), 0.5, 42, groups=groups)
    assert sorted([*learned, *scored]) == list(range(10))
    learned_docs, scored_docs = {groups[i] for i in learned}, {groups[i] for i in scored}
    assert not learned_docs & scored_docs and len(learned_docs) == len(scored_docs) == 2  # 4 documents, half
    # the same seed draws the same documents; the rows of a document go together
    assert [list(p) for p in relearn_parts(len(groups), 0.5, 42, groups=groups)] == [
        list(learned),
        list(scored),
    ]
    assert {
        groups[i] for i in relearn_parts(len(groups), 0.1, 42, groups=groups)[0]
    } != set()  # >= 1 each side
    with pytest.raises(MubenchError, match="at least 2 forget documents"):
        relearn_parts(3, 0.5, 0, groups=[4, 4, 4])
    with pytest.raises(MubenchError, match="2 group ids for 3 rows"):
        relearn_parts(3, 0.5, 0, groups=[1, 2])


def test_only_a_muse_shaped_task_relearns_by_document():
    kind = get_kind("generation")
    forget = datasets.Dataset.from_dict({"prompt": ["a", "b"], "completion": [" c", " d"], "group": [5, 6]})
    assert kind.relearn_groups(forget, {"forget": forget}) is None  # no probes: row by row
    assert kind.relearn_groups(forget, {"forget": forget, "verbmem": forget}) == [5, 6]
    assert get_kind("classification").relearn_groups(forget, {"forget": forget, "verbmem": forget}) is None


@pytest.fixture(scope="module")
def muse_unlearned(tmp_path_factory):
    """A tiny Llama trained on the upstream-shaped MUSE fixture's corpora, then gradient ascent on the three
    forget documents."""
    from transformers import LlamaConfig, LlamaForCausalLM, Trainer, TrainingArguments

    from mubench_hf.kinds import objective_for
    from mubench_hf.kinds.generation.tokenizer import train_tokenizer
    from mubench_hf.modalities.text_generation import GenerationCollator, encode_split
    from mubench_hf.tasks import get_task
    from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

    tmp = tmp_path_factory.mktemp("muse_attacks")
    data = get_task("muse_news").load(source=muse_fixture())
    tok = train_tokenizer({"train": data["train"]})
    encode = lambda split: encode_split(split, tok, seq2seq=False, max_length=None)  # noqa: E731
    splits = {
        "forget": encode(data["train"].filter(lambda r: r["group"] in (0, 1, 2))),
        "retain": encode(data["train"].filter(lambda r: r["group"] not in (0, 1, 2))),
        "test": encode(data["test"]),
        "verbmem": data["verbmem"],
        "knowmem": data["knowmem"],
    }
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
                         pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)  # fmt: skip
    base = LlamaForCausalLM(config)
    collate = GenerationCollator(pad_token_id=tok.pad_token_id)
    train = datasets.concatenate_datasets([splits["forget"], splits["retain"]]).select_columns(
        ["input_ids", "attention_mask", "labels"]
    )
    Trainer(model=base, data_collator=collate, train_dataset=train, args=TrainingArguments(
        str(tmp / "base_run"), use_cpu=True, report_to="none", disable_tqdm=True, save_strategy="no",
        logging_strategy="no", learning_rate=1e-2, max_steps=80, per_device_train_batch_size=8, seed=0,
    )).train()  # fmt: skip
    base.save_pretrained(tmp / "base")
    model = type(base).from_pretrained(tmp / "base")  # its folder is the original model the report loads
    args = UnlearnConfig(
        method="grad_ascent", attacks="quant8,quant4,relearn,paraphrase", relearn_attack_steps=10,
        relearn_attack_lr=1e-2, relearn_attack_batch_size=4, generation_max_new_tokens=8,
        output_dir=str(tmp / "ga"), use_cpu=True, report_to="none", disable_tqdm=True, save_strategy="no",
        logging_strategy="no", per_device_train_batch_size=4, seed=0, learning_rate=1e-2, max_steps=8,
    )  # fmt: skip
    trainer = UnlearnTrainer(model=model, args=args, forget_dataset=splits["forget"],
                             retain_dataset=splits["retain"], processing_class=tok, data_collator=collate,
                             objective=objective_for("generation"))  # fmt: skip
    trainer.train()
    return trainer, splits


def test_the_attacks_report_verbmem_and_knowmem_of_the_forget_documents(muse_unlearned):
    trainer, splits = muse_unlearned
    report = trainer.evaluate_unlearning(splits=splits)
    assert report["verbmem_forget"] < report["original_verbmem_forget"]  # the base memorised; ascent removed
    for metric in ("verbmem_forget", "knowmem_forget"):
        for attack in ("quant8", "quant4", "relearn", "paraphrase"):
            after = report[f"{metric}_after_{attack}"]
            assert 0.0 <= after <= 1.0, (metric, attack)
            assert f"{metric}_recovery_{attack}" in report
    # the paraphrase share's reference: the original model on the same reworded probes
    assert 0.0 <= report["original_verbmem_forget_after_paraphrase"] <= 1.0
    # ROUGE-L of the passages is not generated for a MUSE-shaped task, by the report or by an attack
    assert report["forget_rouge_l"] is None
    assert not [k for k in report if k.startswith("forget_rouge_l_after_")]
    # the teacher-forced forget metrics stay
    assert 0.0 <= report["forget_answer_prob_after_quant8"] <= 1.0
    # the attacks' scorer, on the model as it is, gives the report's own VerbMem and KnowMem
    unattacked = get_kind("generation").forget_scores(trainer, trainer.model, splits["forget"], splits=splits)
    assert set(unattacked) == {
        "verbmem_forget",
        "knowmem_forget",
        "forget_answer_prob",
        "extraction_strength",
    }
    for metric in unattacked:
        assert unattacked[metric] == pytest.approx(report[metric], abs=1e-6), metric
    # relearning on one forget document brings the others' continuations back (measured: VerbMem 0 -> 0.71;
    # the fixture's documents share their sentence pattern)
    assert report["verbmem_forget_after_relearn"] > report["verbmem_forget"]
    assert report["verbmem_forget_recovery_relearn"] > 0
    # 8-bit rounding of weights barely changes greedy continuations of this model
    assert report["verbmem_forget_after_quant8"] == pytest.approx(report["verbmem_forget"], abs=0.1)


def test_relearning_scores_the_documents_it_did_not_train_on(muse_unlearned):
    from mubench_hf.kinds.generation.attack_scores import _muse_probes

    trainer, splits = muse_unlearned
    forget = splits["forget"]
    groups = get_kind("generation").relearn_groups(forget, splits)
    assert sorted(set(groups)) == [0, 1, 2]
    learned, scored = relearn_parts(len(forget), 0.5, int(trainer.args.seed), groups=groups)
    learned_docs, scored_docs = {groups[i] for i in learned}, {groups[i] for i in scored}
    assert learned_docs and scored_docs and not learned_docs & scored_docs
    # the probes scored after relearning are those of the documents not relearned on, and all of them
    probes = _muse_probes(forget.select(scored), splits, trainer.processing_class, 8)
    assert set(probes["verbmem_forget"]["group"]) == scored_docs
    assert set(probes["knowmem_forget"]["group"]) <= scored_docs
    every = _muse_probes(forget, splits, trainer.processing_class, 8)
    assert len(probes["verbmem_forget"]) == sum(g in scored_docs for g in every["verbmem_forget"]["group"])


def test_the_robustness_section_of_a_muse_config_has_verbmem_and_knowmem_tables():
    from mubench_hf.sweeps.robustness import robustness_table

    row = {"method": "npo", "original_verbmem_forget_mean": 0.9, "verbmem_forget_mean": 0.2,
           "verbmem_forget_after_quant4_mean": 0.55, "verbmem_forget_recovery_quant4_mean": 0.5,
           "verbmem_forget_after_relearn_mean": 0.3, "verbmem_forget_recovery_relearn_mean": 1 / 7,
           "original_knowmem_forget_mean": 0.6, "knowmem_forget_mean": 0.1,
           "knowmem_forget_after_paraphrase_mean": 0.2, "knowmem_forget_recovery_paraphrase_mean": 0.2}  # fmt: skip
    table = robustness_table([row], "generation")
    verb, know = table.split("\n\nRobustness of the forgetting")
    assert "`verbmem_forget`" in verb and "| npo | 0.900 | 0.200 | 0.550 | 0.500 | 0.300 | 0.143 |" in verb
    assert "4-bit" in verb and "relearned" in verb and "paraphrased" not in verb.split("\n")[2]
    assert "`knowmem_forget`" in know and "| npo | 0.600 | 0.100 | 0.200 | 0.200 |" in know
    assert "forget_rouge_l" not in table
