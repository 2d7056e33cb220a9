"""Helpers of the generation-method tests and benchmark: a word-level tokenizer trained locally, toy QA
rows about fictitious people, tokenized the standard way, and tiny GPT-2 / T5 models built from configs.

Nothing is downloaded: the tokenizer is trained here with ``tokenizers`` on the rows' own text (and
the shipped refusals, so the IDK methods find their words in the vocabulary)."""

from __future__ import annotations

from typing import Any

import datasets
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import (
    DataCollatorForSeq2Seq,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedTokenizerFast,
    T5Config,
    T5ForConditionalGeneration,
)

from mubench_hf.trainers.refusals import REFUSALS

PEOPLE = ["Alma Torv", "Bruno Kell", "Cira Vant", "Dov Lasse", "Esme Quill", "Faro Nyx"]
CITIES = ["Riga", "Oslo", "Lima", "Pune", "Cork", "Bern"]
BOOKS = ["Salt Roads", "Glass Orchard", "Quiet Engines", "Paper Tides", "Iron Lanterns", "Cold Harbour"]
COLOURS = ["green", "amber", "violet", "grey", "scarlet", "teal"]


def qa_rows(people: list[int]) -> list[tuple[str, str]]:
    """Prompt–completion pairs (TRL's convention: the completion starts with a space), 3 per person."""
    rows = []
    for i in people:
        name = PEOPLE[i]
        rows += [
            (f"Question: Where was {name} born? Answer:", f" {name} was born in {CITIES[i]}."),
            (f"Question: Which book did {name} write? Answer:", f" {name} wrote {BOOKS[i]}."),
            (f"Question: What colour does {name} like? Answer:", f" {name} likes {COLOURS[i]}."),
        ]
    return rows


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer over the toy rows and the refusals: [PAD]=0, [UNK]=1, [EOS]=2."""
    tokenizer = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
    trainer = trainers.WordLevelTrainer(special_tokens=["[PAD]", "[UNK]", "[EOS]"])
    texts = [p + c for p, c in qa_rows(list(range(len(PEOPLE))))] + list(REFUSALS)
    tokenizer.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="[PAD]", unk_token="[UNK]", eos_token="[EOS]"
    )


def tokenize_rows(
    rows: list[tuple[str, str]], tokenizer: PreTrainedTokenizerFast, encoder_decoder: bool
) -> datasets.Dataset:
    """The standard token batches' rows: causal = prompt + completion + EOS with labels -100 on the
    prompt; seq2seq = the prompt (+ EOS) as encoder input and the completion (+ EOS) as labels."""
    eos = tokenizer.eos_token_id
    columns: dict[str, list] = {"input_ids": [], "attention_mask": [], "labels": []}
    for prompt, completion in rows:
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        c = tokenizer(completion, add_special_tokens=False)["input_ids"] + [eos]
        ids, labels = (p + [eos], c) if encoder_decoder else (p + c, [-100] * len(p) + c)
        columns["input_ids"].append(ids)
        columns["attention_mask"].append([1] * len(ids))
        columns["labels"].append(labels)
    return datasets.Dataset.from_dict(columns)


def tiny_gpt2(vocab_size: int, seed: int = 0) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=vocab_size,
        n_positions=64,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=2,
        eos_token_id=2,
        pad_token_id=0,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )  # fmt: skip  (no dropout: a test can recompute a training-mode loss by hand)
    return GPT2LMHeadModel(config)


def tiny_t5(vocab_size: int, seed: int = 0) -> T5ForConditionalGeneration:
    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=vocab_size, d_model=32, d_ff=64, d_kv=16, num_layers=2, num_heads=2,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=2, dropout_rate=0.0,
    )  # fmt: skip
    return T5ForConditionalGeneration(config)


def collator(tokenizer: PreTrainedTokenizerFast) -> DataCollatorForSeq2Seq:
    """Pads input_ids/attention_mask with the tokenizer and labels with -100 (causal and seq2seq)."""
    return DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=-100, padding=True)


def toy_splits(tokenizer: PreTrainedTokenizerFast, encoder_decoder: bool) -> dict[str, Any]:
    """Forget = the QA rows of 2 people (6 rows), retain = those of the other 4 (12 rows)."""
    return {
        "forget": tokenize_rows(qa_rows([0, 1]), tokenizer, encoder_decoder),
        "retain": tokenize_rows(qa_rows([2, 3, 4, 5]), tokenizer, encoder_decoder),
    }


def quiet_lm_args(output_dir: Any, **overrides: Any) -> dict[str, Any]:
    """TrainingArguments for fast, silent CPU runs of the generation methods."""
    values: dict[str, Any] = dict(
        output_dir=str(output_dir), use_cpu=True, report_to="none", disable_tqdm=True, save_strategy="no",
        logging_strategy="no", per_device_train_batch_size=4, seed=0, dataloader_num_workers=0,
    )  # fmt: skip
    values.update(overrides)
    return values
