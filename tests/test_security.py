"""No Hub token is ever written or uploaded; pushes upload an allow-list; loading runs no one's code.

The leak test passes one fake token every way a user can (``--hub_token``, ``--token``, ``HF_TOKEN``, and
a Hub error that echoes it) through ``train-base``, ``unlearn`` (with checkpoints and pushes during
training), ``push`` and ``push-splits``, then reads every byte written under the output folders (zip
members decompressed) and every byte the local Hub received: the token appears nowhere.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from huggingface_hub import HfApi
from transformers import AutoModelForImageClassification, ResNetConfig, ResNetForImageClassification

from mubench_hf import MubenchError, get_task
from mubench_hf.hub import push_model
from mubench_hf.hub.client import hub_errors
from mubench_hf.kinds.classification import build_model
from mubench_hf.modeling import loading_policy
from mubench_hf.secrets import REDACTED, active_tokens, file_contains_token, redact, redact_value
from tests.cli_harness import assert_clean_error, run_cli
from tests.hub_server import HubError, LocalHub
from tests.test_hub_models import write_card

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TOKEN = "hf_FakeSecretTokenForMubenchLeakTests0123"  # shaped like a real user access token
QUIET = ["--use_cpu", "true", "--report_to", "none", "--disable_tqdm", "true"]


# --------------------------------------------------------------------------- helpers
def _byte_sources(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and, for zip files (npz, torch pickles), each member decompressed."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        out[str(path)] = path.read_bytes()
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    out[f"{path}!{member}"] = archive.read(member)
    return out


def _hub_bytes(hub: LocalHub) -> dict[str, bytes]:
    """Every file of every commit of every repo on the test hub, and every uploaded LFS object."""
    out = {f"lfs:{oid}": content for oid, content in hub.lfs_objects.items()}
    for (kind, repo_id), repo in hub.repos.items():
        for commit in repo.commits:
            out.update({f"{kind}:{repo_id}@{commit.oid[:7]}/{p}": b.content for p, b in commit.files.items()})
            out[f"{kind}:{repo_id}@{commit.oid[:7]} message"] = (commit.title + commit.message).encode()
    return out


def _hits(sources: dict[str, bytes]) -> list[str]:
    needles = [TOKEN.encode(codec) for codec in ("utf-8", "utf-16-le", "utf-32-le")]  # numpy keeps UTF-32
    return [name for name, data in sources.items() if any(n in data for n in needles)]


def _pickle_only_model(folder: Path) -> ResNetForImageClassification:
    digits = get_task("digits")
    torch.manual_seed(0)
    config = ResNetConfig(
        num_channels=1, embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1],
        num_labels=digits.num_labels, id2label=digits.id2label, label2id=digits.label2id,
    )  # fmt: skip
    model = ResNetForImageClassification(config)
    config.save_pretrained(folder)
    torch.save(model.state_dict(), folder / "pytorch_model.bin")  # an old-style (pickled) checkpoint
    return model


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# --------------------------------------------------------------------------- the leak test
def test_no_token_is_written_or_uploaded_whichever_way_it_is_given(
    hub_server: LocalHub, digits_repo: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    base, out = tmp_path / "base", tmp_path / "unlearned"
    data = ["--dataset", str(digits_repo), "--cache_dir", str(tmp_path / "cache")]

    trained = run_cli(["train-base", *data, "--task", "digits", "--model", "tiny:resnet",
                       "--output_dir", str(base), "--max_steps", "4", "--hub_token", TOKEN, *QUIET], capsys)  # fmt: skip
    assert trained.code == 0, trained.err

    repo_id = "mubench-org/leak-test-grad_ascent"
    unlearned = run_cli([
        "unlearn", *data, "--config", "digits_del5", "--model", str(base), "--method", "grad_ascent",
        "--output_dir", str(out), "--max_steps", "2", "--learning_rate", "1e-3", "--save_strategy", "steps",
        "--save_steps", "1", "--hub_token", TOKEN, "--push_to_hub", "true", "--hub_model_id", repo_id, *QUIET,
    ], capsys)  # fmt: skip
    assert unlearned.code == 0, unlearned.err
    checkpoints = sorted(out.glob("checkpoint-*"))
    assert checkpoints and all((c / "training_args.bin").is_file() for c in checkpoints)
    assert len(hub_server.commits(repo_id)) >= 3  # the repo, each save's push, the final one

    # the arguments are kept: a pickle without the token and a JSON copy that says it was removed
    saved = torch.load(out / "training_args.bin", weights_only=False)
    assert saved.hub_token is None and saved.max_steps == 2
    assert json.loads((out / "training_args.json").read_text())["hub_token"] == "<HUB_TOKEN>"
    assert json.loads((out / "unlearn_run.json").read_text())["arguments"]["hub_token"] == "<HUB_TOKEN>"

    # a Hub error that echoes the token back: the message is redacted and nothing is chained
    original_commit = hub_server.commit

    def echoing_commit(*args, **kwargs):
        raise HubError(500, f"Internal Error - token {TOKEN} is rate limited")

    monkeypatch.setattr(hub_server, "commit", echoing_commit)
    failed = run_cli(["push", str(out), "mubench-org/leak-test-push", "--token", TOKEN], capsys)
    assert failed.code == 1 and "500" in failed.err, failed.err
    assert TOKEN not in failed.err + failed.out
    monkeypatch.setattr(hub_server, "commit", original_commit)

    pushed = run_cli(["push", str(out), "mubench-org/leak-test-push", "--token", TOKEN], capsys)
    assert pushed.code == 0, pushed.err
    assert "training_args.bin" in pushed.out and "unlearn_run.json" in pushed.out  # kept local, and said
    remote = hub_server.files("mubench-org/leak-test-push")
    assert {"model.safetensors", "config.json", "README.md", "unlearning_results.json", "predictions.npz",
            "training_args.json"} <= set(remote)  # fmt: skip
    assert "training_args.bin" not in remote and not any(name.startswith("checkpoint-") for name in remote)
    splits = run_cli(
        ["push-splits", str(digits_repo), "mubench-org/leak-test-splits", "--token", TOKEN], capsys
    )
    assert splits.code == 0, splits.err
    printed = [r.out + r.err for r in (trained, unlearned, failed, pushed, splits)]
    assert not any(TOKEN in text for text in printed)

    written = {**_byte_sources(base), **_byte_sources(out)}
    assert len(written) > 20
    assert _hits(written) == []
    assert _hits(_hub_bytes(hub_server)) == []


# --------------------------------------------------------------------------- the push allow-list
def test_a_push_of_a_file_holding_the_token_is_refused_and_names_it(
    hub_server: LocalHub, tiny_model_dir: Path, capsys
) -> None:
    write_card(tiny_model_dir, "mubench-org/m", {"mubench_score": 0.5})
    (tiny_model_dir / "unlearning_results.json").write_text(json.dumps({"note": f"run with {TOKEN}"}))
    result = run_cli(["push", str(tiny_model_dir), "mubench-org/m", "--token", TOKEN], capsys)
    assert result.code == 1 and "unlearning_results.json" in result.err and "token" in result.err
    assert TOKEN not in result.err
    with pytest.raises(MubenchError, match="unlearning_results.json contains your Hugging Face token"):
        push_model(tiny_model_dir, "mubench-org/m", token=TOKEN)
    # the HF_TOKEN of the environment is found too, without being passed
    (tiny_model_dir / "unlearning_results.json").write_text("hf_mubench_test_token")
    with pytest.raises(MubenchError, match="unlearning_results.json contains"):
        push_model(tiny_model_dir, "mubench-org/m")
    assert hub_server.request_log == []  # refused before any request


def test_an_allow_listed_push_round_trips_and_leaves_the_rest_local(
    hub_server: LocalHub, tiny_model_dir: Path
) -> None:
    write_card(tiny_model_dir, "mubench-org/m", {"mubench_score": 0.5})
    (tiny_model_dir / "training_args.bin").write_bytes(b"a pickle")
    (tiny_model_dir / "optimizer.pt").write_bytes(b"another pickle")
    (tiny_model_dir / "train_results.json").write_text("{}")
    result = push_model(tiny_model_dir, "mubench-org/m")
    assert result.uploaded == ["README.md", "config.json", "model.safetensors", "train_results.json"]
    assert result.left_out == ["optimizer.pt", "training_args.bin"]
    local = AutoModelForImageClassification.from_pretrained(tiny_model_dir)
    remote = AutoModelForImageClassification.from_pretrained("mubench-org/m")
    assert _same_weights(local, remote)


def test_a_folder_with_only_pickled_weights_is_not_pushed(hub_server: LocalHub, tmp_path: Path) -> None:
    _pickle_only_model(tmp_path)
    write_card(tmp_path, "mubench-org/m", {"mubench_score": 0.5})
    with pytest.raises(MubenchError, match=r"only pickled weights \(pytorch_model.bin\).*safetensors"):
        push_model(tmp_path, "mubench-org/m")


# --------------------------------------------------------------------------- loading
def test_a_pickle_only_model_is_refused_unless_allowed(hub_server: LocalHub, tmp_path: Path) -> None:
    folder = tmp_path / "pickled"
    folder.mkdir()
    model = _pickle_only_model(folder)
    api = HfApi()
    api.create_repo("mubench-org/pickled")
    api.upload_folder(folder_path=str(folder), repo_id="mubench-org/pickled")
    for source in (str(folder), "mubench-org/pickled"):
        with pytest.raises(MubenchError, match=r"only pickled weights \(pytorch_model.bin\).*--allow-pickle"):
            build_model("digits", source)
        assert _same_weights(build_model("digits", source, allow_pickle=True), model)
        with loading_policy(allow_pickle=True):
            assert _same_weights(build_model("digits", source), model)


def test_the_commands_take_allow_pickle_and_refuse_pickles_without_it(
    digits_repo: Path, tmp_path: Path, capsys
) -> None:
    folder = tmp_path / "pickled"
    folder.mkdir()
    _pickle_only_model(folder)
    argv = ["evaluate", "--model", str(folder), "--dataset", str(digits_repo), "--config", "digits_del5",
            "--cache_dir", str(tmp_path / "cache"), "--output_dir", str(tmp_path / "scores"), "--use_cpu"]  # fmt: skip
    refused = run_cli(argv, capsys)
    assert refused.code == 1 and "--allow-pickle" in refused.err and "arbitrary code" in refused.err
    allowed = run_cli([*argv, "--allow-pickle"], capsys)
    assert allowed.code == 0, allowed.err

    from mubench_hf.cli.unlearn import parse_args

    script, _ = parse_args(["--dataset", "d", "--config", "digits_del5", "--model", "m", "--method",
                            "grad_ascent", "--output_dir", "o", "--allow-pickle", "--trust_remote_code"])  # fmt: skip
    assert script.allow_pickle and script.trust_remote_code


def test_trust_remote_code_is_passed_only_when_asked(tiny_model_dir: Path, monkeypatch) -> None:
    from transformers import AutoImageProcessor

    from mubench_hf.kinds.classification import load_processor

    seen: list[object] = []
    model_loader = AutoModelForImageClassification.from_pretrained.__func__
    processor_loader = AutoImageProcessor.from_pretrained.__func__

    def record_model(cls, *args, **kwargs):
        seen.append(kwargs.get("trust_remote_code", "absent"))
        return model_loader(cls, *args, **kwargs)

    def record_processor(cls, *args, **kwargs):
        seen.append(kwargs.get("trust_remote_code", "absent"))
        return processor_loader(cls, *args, **kwargs)

    monkeypatch.setattr(AutoModelForImageClassification, "from_pretrained", classmethod(record_model))
    monkeypatch.setattr(AutoImageProcessor, "from_pretrained", classmethod(record_processor))
    build_model("digits", str(tiny_model_dir))
    load_processor("digits", str(tiny_model_dir))
    assert seen == [False, False]
    with loading_policy(trust_remote_code=True):
        build_model("digits", str(tiny_model_dir))
        load_processor("digits", str(tiny_model_dir))
    assert seen == [False, False, True, True]


def _never_unpickle() -> None:
    raise AssertionError("a predictions file was unpickled")


class _Payload:
    def __reduce__(self):  # what a crafted file would run on unpickling
        return _never_unpickle, ()


def test_predictions_holding_pickled_objects_are_refused_not_unpickled(tmp_path: Path) -> None:
    from mubench_hf.evaluation.predictions import load_predictions

    path = tmp_path / "predictions.npz"
    np.savez(path, **{"forget/logits": np.array([_Payload()], dtype=object),
                      "forget/labels": np.array([0])})  # fmt: skip
    with pytest.raises(ValueError, match="allow_pickle"):
        load_predictions(path)


# --------------------------------------------------------------------------- the redaction helpers
def test_redaction_covers_known_tokens_and_token_shaped_strings(monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "plain-env-secret-123")
    assert "plain-env-secret-123" in active_tokens()
    assert redact("a plain-env-secret-123 b") == f"a {REDACTED} b"
    assert redact(f"see {TOKEN}.", tokens=()) == f"see {REDACTED}."  # never seen, but shaped like one
    assert redact_value({"args": [TOKEN, 3], "n": 1.5}) == {"args": [REDACTED, 3], "n": 1.5}


def test_a_hub_error_echoing_the_token_is_redacted_and_not_chained(monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with pytest.raises(MubenchError) as caught, hub_errors("pushing x to org/y", "retry"):
        raise RuntimeError(f"401: bad token {TOKEN}\nmore")
    assert TOKEN not in str(caught.value) and REDACTED in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    with pytest.raises(MubenchError) as plain, hub_errors("pushing x to org/y"):
        raise RuntimeError("500: server down")
    assert isinstance(plain.value.__cause__, RuntimeError)  # nothing to hide: the cause stays chained


def test_the_file_scan_reads_compressed_zip_members(tmp_path: Path) -> None:
    path = tmp_path / "a.npz"
    np.savez_compressed(path, meta=np.array(json.dumps({"t": TOKEN})))
    assert file_contains_token(path, [TOKEN])
    assert not file_contains_token(path, ["hf_someOtherTokenValue1234567890"])


# --------------------------------------------------------------------------- sweeps
def _tiny_grid(tmp_path: Path, **grad_ascent: object) -> Path:
    grid = {
        "task": "digits", "methods": ["grad_ascent"], "ratios": [5], "seeds": [1],
        "base_recipe": {"num_train_epochs": 1, "max_steps": 2},
        "hyperparameters": {"grad_ascent": {"max_steps": 2, **grad_ascent}},
        "output": str(tmp_path / "sweep"),
    }  # fmt: skip
    path = tmp_path / "grid.yaml"
    path.write_text(json.dumps(grid))  # JSON is YAML too
    return path


def test_a_sweep_writes_no_token_from_the_environment(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    result = run_cli(["run", str(_tiny_grid(tmp_path))], capsys)
    assert result.code == 0, result.err
    written = _byte_sources(tmp_path / "sweep")
    assert any(name.endswith("cell.json") for name in written)
    assert _hits(written) == [] and TOKEN not in result.out + result.err


def test_a_sweep_refuses_a_token_given_as_a_hyperparameter(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    result = run_cli(["run", str(_tiny_grid(tmp_path, hub_token=TOKEN))], capsys)
    assert_clean_error(result, "hub_token", "HF_TOKEN")
    assert TOKEN not in result.out + result.err
    assert _hits(_byte_sources(tmp_path / "sweep")) == []
