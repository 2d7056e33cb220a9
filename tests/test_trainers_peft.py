"""Text models and PEFT: a tiny BERT with a LoRA adapter, a tokenizer trained here with ``tokenizers``.

Only the adapter and the classification head (``modules_to_save``) may change; paired batches of
text are padded together; teachers are frozen copies of the whole ``PeftModel``.
"""

from __future__ import annotations

import datasets
import pytest
import torch
from peft import LoraConfig, get_peft_model
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from trainer_testlib import quiet_args, state
from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding, PreTrainedTokenizerFast

from mubench_hf.kinds.classification import prepare_splits, tiny_config
from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

WORDS = "good great fine bad awful poor movie film plot acting really very not so the a".split()


def _sentences(n: int, seed: int) -> tuple[list[str], list[int]]:
    g = torch.Generator().manual_seed(seed)
    texts, labels = [], []
    for _ in range(n):
        length = int(torch.randint(3, 12, (1,), generator=g))  # varied lengths: padding matters
        words = [WORDS[int(i)] for i in torch.randint(0, len(WORDS), (length,), generator=g)]
        texts.append(" ".join(words))
        labels.append(int(sum(w in ("good", "great", "fine") for w in words) >= 1))
    return texts, labels


@pytest.fixture(scope="module")
def tokenizer():
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(
        [" ".join(WORDS)], trainers.WordLevelTrainer(special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"])
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]"
    )


@pytest.fixture(scope="module")
def text_splits():
    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "label": datasets.ClassLabel(names=["neg", "pos"]),
            "sample_id": datasets.Value("int64"),
        }
    )

    def make(n: int, seed: int) -> datasets.Dataset:
        texts, labels = _sentences(n, seed)
        return datasets.Dataset.from_dict(
            {"text": texts, "label": labels, "sample_id": list(range(n))}, features=features
        )

    return datasets.DatasetDict(
        {"forget": make(8, 1), "retain": make(24, 2), "validation": make(8, 3), "test": make(8, 4)}
    )


def lora_model(vocab_size: int):
    torch.manual_seed(0)
    base = AutoModelForSequenceClassification.from_config(tiny_config("imdb", "bert", vocab_size=vocab_size))
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value"], modules_to_save=["classifier"])
    return get_peft_model(base, config)


@pytest.mark.parametrize("method", ["grad_diff", "scrub", "salun", "npo", "ssd"])
def test_lora_unlearning_changes_only_adapter_and_head(method, tokenizer, text_splits, tmp_path):
    model = lora_model(len(tokenizer))
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or "classifier" in n for n in trainable)
    before = state(model)
    splits = prepare_splits(text_splits, "imdb", model, tokenizer)
    hyper = dict(max_steps=4, learning_rate=5e-2, per_device_train_batch_size=4)
    if method == "ssd":
        hyper = dict(per_device_train_batch_size=4, selection_weighting=1.0)
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method=method, **quiet_args(tmp_path, **hyper)),
        splits=splits,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    trainer.train()
    after = state(trainer.model)
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    frozen_changed = {name for name in changed if "lora_" not in name and "classifier" not in name}
    assert not frozen_changed, f"frozen weights changed: {sorted(frozen_changed)[:3]}"
    assert changed, "nothing changed"
    if method in ("scrub", "npo"):  # the frozen θo copy is the whole PeftModel, adapters included
        reference = trainer.original_model
        assert all(not p.requires_grad for p in reference.parameters())
        assert torch.equal(state(reference)[sorted(changed)[0]], before[sorted(changed)[0]])


def test_paired_text_batches_are_padded_together(tokenizer, text_splits, tmp_path):
    model = lora_model(len(tokenizer))
    splits = prepare_splits(text_splits, "imdb", model, tokenizer)
    trainer = UnlearnTrainer(
        model=model,
        args=UnlearnConfig(method="grad_diff", **quiet_args(tmp_path, per_device_train_batch_size=4)),
        splits=splits,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
    )
    batch = next(iter(trainer.get_train_dataloader()))
    assert set(batch) == {"forget", "retain"}
    forget, retain = batch["forget"], batch["retain"]
    assert set(forget) == set(retain) >= {"input_ids", "attention_mask", "labels"}
    assert "sample_id" not in forget and "text" not in forget  # filtered like ordinary rows
    assert forget["input_ids"].shape[0] == retain["input_ids"].shape[0] == 4
    assert forget["input_ids"].shape[1] == retain["input_ids"].shape[1]  # one padded length
