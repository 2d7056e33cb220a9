"""Benchmark of the attacks on the forgetting: each attack's wall time ÷ the unlearning run's ``train()``.

Two settings, each timed in the same process: grad_ascent on digits_del5 (tiny ResNet, its quick settings:
learning rate 1e-3, 2 epochs of 32-row batches; the attacks score 62 forget rows) and grad_ascent on the
toy QA rows of ``tests/test_generation_methods.py`` (tiny GPT-2, 15 steps; 6 forget rows, greedy generation of
up to 16 tokens). An attack's time is what the report spends on it: copying the model, rounding its weights
(quant8, quant4) or ``relearn_attack_steps`` optimizer steps on half of Df (relearn, the default 10 steps),
and scoring the attacked model once on its forget rows (relearn: with the unlearned and the original model
on the rows it scores, its share's reference); paraphrase (generation only): the unlearned and the original
model on the reworded forget rows. Each ratio is the median over ``REPEATS`` rounds; the unlearning run and
the attacks alternate so that a shared machine's drift hits both.

Measured (load 1, one thread): digits_del5 train() 0.34 s, quant8 0.088, quant4 0.092, relearn 1.145, all
1.33; toy QA train() 0.31 s, quant8 0.064, quant4 0.062, relearn 1.10, paraphrase 0.110, all 1.34.

Run: ``python bench/bench_attacks.py`` (about a minute on two cores). Asserts nothing.
"""

from __future__ import annotations

import copy
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import datasets  # noqa: E402
import torch  # noqa: E402
from generation_testlib import qa_rows, quiet_lm_args, tiny_gpt2, tiny_tokenizer  # noqa: E402
from transformers import AutoModelForImageClassification, Trainer, TrainingArguments  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

from mubench_hf import build_splits  # noqa: E402
from mubench_hf.evaluation.attacks import ATTACKS, PROBE_ATTACKS, AttackSettings, attack_metrics  # noqa: E402
from mubench_hf.kinds import get_kind, objective_for  # noqa: E402
from mubench_hf.kinds.classification import prepare_splits  # noqa: E402
from mubench_hf.modalities.text_generation import GenerationCollator, encode_split  # noqa: E402
from mubench_hf.reference_models import RecipeArguments, train_base  # noqa: E402
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer  # noqa: E402

REPEATS = 3


def attacks_of(kind: str) -> tuple[str, ...]:
    """The attacks a kind is scored under (the paraphrase attack re-asks prompts: generation only)."""
    return tuple(a for a in ATTACKS if a not in PROBE_ATTACKS or get_kind(kind).probe_metrics)


def timed_round(make_trainer, kind: str, original: str) -> dict[str, float]:
    """One unlearning run, then each attack alone on its model: seconds of each. ``original``: the original
    model's folder, which the relearning and paraphrase attacks score too (the reference of their shares)."""
    trainer, forget = make_trainer()
    start = time.perf_counter()
    trainer.train()
    seconds = {"unlearn": time.perf_counter() - start}
    for attack in attacks_of(kind):
        start = time.perf_counter()
        attack_metrics(trainer, get_kind(kind), forget, AttackSettings(attacks=attack), {}, original=original)
        seconds[attack] = time.perf_counter() - start
    return seconds


def digits_trainer_factory(work: str):
    build_splits("digits", f"{work}/repo", ratios=[5], show_progress=False)
    raw = datasets.load_dataset(f"{work}/repo", "digits_del5", cache_dir=f"{work}/cache")
    recipe = RecipeArguments(output_dir=f"{work}/base", seed=0, use_cpu=True, disable_tqdm=True)
    train_base(
        f"{work}/repo", "digits", "tiny:resnet", f"{work}/base", recipe, cache_dir=f"{work}/c", quiet=True
    )
    model = AutoModelForImageClassification.from_pretrained(f"{work}/base")
    splits = prepare_splits(raw, "digits", model)

    def make() -> tuple[UnlearnTrainer, datasets.Dataset]:
        args = UnlearnConfig(method="grad_ascent", output_dir=f"{work}/ga", use_cpu=True, report_to="none",
                             disable_tqdm=True, save_strategy="no", logging_strategy="no", seed=0,
                             learning_rate=1e-3, num_train_epochs=2, per_device_train_batch_size=32)  # fmt: skip
        return UnlearnTrainer(model=copy.deepcopy(model), args=args, splits=splits), splits["forget"]

    return make, f"{work}/base"


def generation_trainer_factory(work: str):
    tok = tiny_tokenizer()

    def split(people: list[int], offset: int) -> datasets.Dataset:
        rows = qa_rows(people)
        raw = datasets.Dataset.from_dict({"prompt": [p for p, _ in rows], "completion": [c for _, c in rows],
                                          "sample_id": list(range(offset, offset + len(rows)))})  # fmt: skip
        return encode_split(raw, tok, seq2seq=False, max_length=None)

    forget, retain = split([0, 1], 0), split([2, 3, 4, 5], 6)
    collate = GenerationCollator(pad_token_id=tok.pad_token_id)
    base = tiny_gpt2(len(tok))
    rows = datasets.concatenate_datasets([forget, retain]).select_columns(
        ["input_ids", "attention_mask", "labels"]
    )
    Trainer(model=base, data_collator=collate, train_dataset=rows, args=TrainingArguments(
        f"{work}/lm_base", use_cpu=True, report_to="none", disable_tqdm=True, save_strategy="no",
        logging_strategy="no", learning_rate=1e-2, max_steps=60, per_device_train_batch_size=6, seed=0,
    )).train()  # fmt: skip
    base.save_pretrained(f"{work}/lm_original")

    def make() -> tuple[UnlearnTrainer, datasets.Dataset]:
        args = UnlearnConfig(method="grad_ascent", generation_max_new_tokens=16,
                             **quiet_lm_args(f"{work}/lm_ga", learning_rate=5e-3, max_steps=15))  # fmt: skip
        trainer = UnlearnTrainer(model=copy.deepcopy(base), args=args, forget_dataset=forget, retain_dataset=retain,
                                 processing_class=tok, data_collator=collate, objective=objective_for("generation"))  # fmt: skip
        return trainer, forget

    return make, f"{work}/lm_original"


def main() -> None:
    torch.set_num_threads(1)
    hf_logging.set_verbosity_error()
    datasets.disable_progress_bars()
    work = tempfile.mkdtemp(prefix="bench_attacks_")
    settings = [
        ("digits_del5, tiny ResNet, grad_ascent", "classification", digits_trainer_factory(work)),
        ("toy QA, tiny GPT-2, grad_ascent", "generation", generation_trainer_factory(work)),
    ]
    print("attack wall time ÷ the unlearning run's train() (median of rounds), 1 thread")
    print(f"{'setting':<40}{'train() s':>10}" + "".join(f"{a:>11}" for a in ATTACKS) + f"{'all':>8}")
    for label, kind, (make, original) in settings:
        attacks = attacks_of(kind)
        rounds = [timed_round(make, kind, original) for _ in range(REPEATS)]
        ratios = {a: statistics.median(r[a] / r["unlearn"] for r in rounds) for a in attacks}
        total = statistics.median(sum(r[a] for a in attacks) / r["unlearn"] for r in rounds)
        unlearn = statistics.median(r["unlearn"] for r in rounds)
        cells = "".join(f"{ratios[a]:>11.3f}" if a in ratios else f"{'–':>11}" for a in ATTACKS)
        print(f"{label:<40}{unlearn:>10.2f}" + cells + f"{total:>8.3f}")


if __name__ == "__main__":
    main()
