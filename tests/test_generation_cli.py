"""The generation report's settings reach it from every entry point, and LoRA on a language model trains
adapters only.

* ``mubench unlearn --generation_max_new_tokens 1``: every prediction in ``generations.jsonl`` is one token;
  ``mubench evaluate --max-new-tokens 3`` on the same model: at most three, and more than one somewhere
  (so the value, not a fixed limit, decides); ``--chat-template on`` reaches the report (a tokenizer
  without a template is refused by it); a classification task refuses the flags, naming them.
* ``UnlearnConfig``'s generation fields (batch size, context length, chat template) are what the report
  is called with, and bad values are refused when the config is built.
* ``pipeline.prepare(lora_rank=...)`` on a generation task: only ``lora_`` parameters are trainable (the
  output layer, tied to the embeddings, stays frozen).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mubench_hf import build_splits
from mubench_hf.errors import MubenchError
from mubench_hf.tasks import TASKS, register_task
from mubench_hf.tasks.fictitious_authors import make_fictitious_authors
from mubench_hf.tasks.generation import GenerationTask

pytestmark = pytest.mark.usefixtures("one_torch_thread")

AUTHORS_CLI = GenerationTask(
    name="authors_cli",
    modality="text",
    build=lambda source: make_fictitious_authors(num_authors=10, num_holdout=2, seed=3),
    group_column="group",
    extra_columns=("paraphrased_completion", "perturbed_completions"),
)
CONFIG = "authors_cli_del10"


@pytest.fixture(scope="module", autouse=True)
def _authors_cli_task():
    """Registered only while this module runs, so other tests see the shipped registry."""
    register_task(AUTHORS_CLI, replace=True)
    yield
    TASKS.pop(AUTHORS_CLI.name, None)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("authors_cli") / "mubench"
    build_splits("authors_cli", out, ratios=(10,), show_progress=False)
    return out


@pytest.fixture(scope="module")
def small_report(monkeypatch_module):
    """Greedy generation on 10 retain rows instead of 200: the settings, not the sample, are tested."""
    import mubench_hf.kinds.generation.unlearning_report as report

    monkeypatch_module.setattr(report, "RETAIN_ROWS", 10)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _predictions(folder: Path) -> list[dict]:
    lines = (folder / "generations.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _token_counts(model_dir: Path, rows: list[dict]) -> list[int]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    return [len(tokenizer(row["prediction"], add_special_tokens=False)["input_ids"]) for row in rows]


@pytest.fixture(scope="module")
def unlearned(repo: Path, small_report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``mubench unlearn`` (one grad-ascent step of a fresh tiny Llama) with 1-token generations."""
    from mubench_hf.cli import unlearn

    out = tmp_path_factory.mktemp("unlearned")
    status = unlearn.main(
        ["--dataset", str(repo), "--config", CONFIG, "--model", "tiny:llama", "--method", "grad_ascent",
         "--max_steps", "1", "--per_device_train_batch_size", "4", "--generation_max_new_tokens", "1",
         "--report_to", "none", "--disable_tqdm", "true", "--output_dir", str(out)]
    )  # fmt: skip
    assert status == 0
    return out


def test_unlearn_flag_sets_the_generation_length(unlearned: Path) -> None:
    rows = _predictions(unlearned)
    assert {row["split"] for row in rows} >= {"forget", "retain"}
    counts = _token_counts(unlearned, rows)
    assert max(counts) == 1, counts  # fresh weights rarely stop early: most rows reach the limit
    results = json.loads((unlearned / "unlearning_results.json").read_text())
    assert results["generation_settings"]["max_new_tokens"] == 1
    run = json.loads((unlearned / "unlearn_run.json").read_text())
    assert run["arguments"]["generation_max_new_tokens"] == 1


def test_evaluate_flag_sets_the_generation_length(unlearned: Path, repo: Path, tmp_path: Path) -> None:
    from mubench_hf.cli import evaluate

    out = tmp_path / "scored"
    argv = ["--model", str(unlearned), "--dataset", str(repo), "--config", CONFIG, "--output_dir", str(out)]
    assert evaluate.main([*argv, "--max-new-tokens", "3", "--generation-batch-size", "7"]) == 0
    counts = _token_counts(unlearned, _predictions(out))
    assert max(counts) == 3 and min(counts) <= 3 and sum(c > 1 for c in counts) > 0, counts
    settings = json.loads((out / "unlearning_results.json").read_text())["generation_settings"]
    assert settings["max_new_tokens"] == 3 and settings["batch_size"] == 7
    with pytest.raises(MubenchError, match="no chat template"):
        evaluate.main([*argv, "--chat-template", "on"])


def test_evaluate_refuses_generation_flags_on_a_classification_task(
    digits_repo: Path, tmp_path: Path
) -> None:
    from mubench_hf.cli import evaluate

    argv = ["--model", "tiny:resnet", "--dataset", str(digits_repo), "--config", "digits_class3",
            "--output_dir", str(tmp_path), "--max-new-tokens", "8", "--chat-template", "off"]  # fmt: skip
    with pytest.raises(MubenchError, match=r"--max-new-tokens, --chat-template: only generation tasks"):
        evaluate.main(argv)
    assert not (tmp_path / "unlearning_results.json").exists()


def test_evaluate_refuses_bad_flag_values() -> None:
    from mubench_hf.cli import evaluate

    parser = evaluate.build_parser()
    base = ["--model", "m", "--dataset", "d", "--config", "c"]
    for bad in (
        ["--max-new-tokens", "0"],
        ["--chat-template", "sometimes"],
        ["--generation-batch-size", "-1"],
    ):
        with pytest.raises(SystemExit):
            parser.parse_args([*base, *bad])
    args = parser.parse_args([*base, "--max_new_tokens", "5"])
    assert evaluate.generation_settings(args) == {"max_new_tokens": 5}
    assert evaluate.generation_settings(parser.parse_args(base)) is None


def test_config_fields_are_what_the_report_is_called_with(tmp_path: Path, monkeypatch) -> None:
    import mubench_hf.kinds.generation.unlearning_report as generation
    from mubench_hf.kinds.generation.unlearning_report import GenerationSettings, generation_unlearning_report
    from mubench_hf.trainers import UnlearnConfig

    seen: dict = {}

    def fake_report(model, tokenizer, splits, **kwargs):
        seen.update(kwargs)
        return {"forget_rouge_l": 0.0}

    monkeypatch.setattr(generation, "generation_report", fake_report)
    args = UnlearnConfig(
        output_dir=str(tmp_path), method="grad_ascent", report_to="none", per_device_eval_batch_size=500,
        generation_max_new_tokens=5, generation_chat_template="off", generation_max_length=40,
    )  # fmt: skip

    class Trainer:
        def __init__(self, args):
            self.args, self.processing_class = args, None
            self.accelerator = type("A", (), {"unwrap_model": staticmethod(lambda m: m)})()
            import torch

            self.model = torch.nn.Linear(1, 1)

        def is_world_process_zero(self) -> bool:
            return True

    import datasets

    forget = datasets.Dataset.from_dict({"prompt": ["q"], "completion": ["a"], "sample_id": [0]})
    generation_unlearning_report(Trainer(args), {"forget": forget}, log=False)
    assert (seen["max_new_tokens"], seen["chat_template"], seen["max_length"]) == (5, False, 40)
    assert seen["batch_size"] == 64  # per_device_eval_batch_size, capped
    trainer = Trainer(UnlearnConfig(output_dir=str(tmp_path), method="grad_ascent", generation_batch_size=3))
    generation_unlearning_report(trainer, {"forget": forget}, log=False)
    assert (seen["batch_size"], seen["max_new_tokens"], seen["chat_template"]) == (3, 64, None)
    given = GenerationSettings(max_new_tokens=2, chat_template="on")  # score()'s way: an argument
    generation_unlearning_report(trainer, {"forget": forget}, log=False, generation=given)
    assert (seen["max_new_tokens"], seen["chat_template"]) == (2, True)
    generation_unlearning_report(trainer, {"forget": forget}, log=False, generation={"max_new_tokens": 3})
    assert (seen["max_new_tokens"], seen["batch_size"]) == (
        3,
        8,
    )  # this trainer: per_device_eval_batch_size 8
    with pytest.raises(MubenchError, match="must be a GenerationSettings or a dict of its fields, got int"):
        generation_unlearning_report(trainer, {"forget": forget}, log=False, generation=7)
    for bad in ({"generation_max_new_tokens": 0}, {"generation_chat_template": "yes"},
                {"generation_batch_size": -2}):  # fmt: skip
        with pytest.raises(MubenchError, match=next(iter(bad))):
            UnlearnConfig(output_dir=str(tmp_path), method="grad_ascent", **bad)


def test_the_settings_are_flags_of_mubench_unlearn() -> None:
    from mubench_hf.cli.unlearn import parse_args

    _, args = parse_args(["--dataset", "d", "--config", "c", "--model", "m", "--method", "npo",
                          "--output_dir", "o", "--generation_max_new_tokens", "32",
                          "--generation_chat_template", "off", "--generation_batch_size", "8"])  # fmt: skip
    assert (args.generation_max_new_tokens, args.generation_chat_template, args.generation_batch_size) == (
        32, "off", 8,
    )  # fmt: skip


def test_lora_on_a_generation_task_trains_only_the_adapters(repo: Path) -> None:
    from mubench_hf.pipeline import prepare

    prepared = prepare(str(repo), CONFIG, "tiny:llama", lora_rank=4)
    trainable = [name for name, p in prepared.model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in name for name in trainable), trainable
    base = prepared.model.get_base_model()
    assert not base.get_output_embeddings().weight.requires_grad
    assert not base.get_input_embeddings().weight.requires_grad
