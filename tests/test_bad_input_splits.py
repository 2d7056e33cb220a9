"""Bad input to ``build-splits``, ``info``, ``verify``, ``tasks`` and ``push-splits``, one case per row.

Every case must end in a non-zero exit with a one-line error on stderr that names the fix, no traceback,
and no partial output: the watched folders are byte-identical afterwards (or still absent), no staging
folder is left beside them, and a sentinel file outside the repo is untouched. No case reaches a server:
the Hub is offline in the tests, and push-splits fails before any request.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from mubench_hf import build_splits
from tests.cli_harness import assert_clean_error, run_cli, snapshot
from tests.fixtures.upstream import imdb_like

SENTINEL = b"sentinel outside the repo\n"


@pytest.fixture(scope="module")
def base_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bad_input") / "mubench"
    build_splits("digits", out, ratios=(1, 5), show_progress=False)
    return out


@dataclass
class Ctx:
    """A case's sandbox: ``tmp`` for its files, ``repo()`` for a fresh copy of a built repo."""

    tmp: Path
    base: Path

    def repo(self, name: str = "repo") -> Path:
        copy = self.tmp / name
        shutil.copytree(self.base, copy, symlinks=True)
        return copy

    def file(self, name: str, content: str | bytes) -> Path:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path

    def folder(self, name: str) -> Path:
        path = self.tmp / name
        path.mkdir(parents=True)
        return path

    @property
    def sentinel(self) -> Path:
        return self.tmp / "outside" / "secret.parquet"

    def manifest(self, repo: Path, change: Callable[[dict], None]) -> Path:
        manifest = json.loads((repo / "mubench.json").read_text())
        change(manifest)
        (repo / "mubench.json").write_text(json.dumps(manifest))
        return repo

    def crafted(self, rel: str) -> Path:
        """A repo whose manifest lists ``rel`` as a file of digits, read by digits_del1's forget split."""

        def add(manifest: dict) -> None:
            entry = manifest["tasks"]["digits"]
            entry["files"][rel] = {"sha256": "0" * 64, "num_rows": 1}
            entry["configs"]["digits_del1"]["forget"].append(rel)

        return self.manifest(self.repo(), add)

    def linked(self) -> Path:
        """A repo whose test split is a symlink to the sentinel outside it."""
        repo = self.repo()
        (repo / "data/digits/test.parquet").unlink()
        os.symlink(self.sentinel, repo / "data/digits/test.parquet")
        return repo

    def readme(self, repo: Path, old: str, new: str) -> Path:
        text = (repo / "README.md").read_text()
        assert old in text
        (repo / "README.md").write_text(text.replace(old, new, 1))
        return repo

    def readonly_parent(self) -> Path:
        """A folder this process cannot create anything in (root ignores modes: use /sys there)."""
        folder = self.folder("readonly")
        folder.chmod(0o555)
        return folder if not os.access(folder, os.W_OK) else Path("/sys")


# Each case: (argv built from the sandbox, the paths whose contents must not change, needles in stderr).
Make = Callable[[Ctx], tuple[list[str], list[Path]]]


def build(ctx: Ctx, *args: str, output: Path | None = None) -> tuple[list[str], list[Path]]:
    out = output if output is not None else ctx.tmp / "out"
    return ["build-splits", "--task", "digits", "--output", str(out), "--quiet", *args], [out]


def order(ctx: Ctx, content: str | bytes) -> tuple[list[str], list[Path]]:
    return build(ctx, "--ratios", "5", "--order", str(ctx.file("order.txt", content)))


def on(command: str, target: Path, *extra: str) -> tuple[list[str], list[Path]]:
    return [command, str(target), *extra], [target]


def push(target: Path, *extra: str, repo_id: str = "mubench-org/splits") -> tuple[list[str], list[Path]]:
    return ["push-splits", str(target), repo_id, "--token", "hf_never_sent", *extra], [target]


def _drop_files(manifest: dict) -> None:
    del manifest["tasks"]["digits"]["files"]


def _drop_sha(manifest: dict) -> None:
    del manifest["tasks"]["digits"]["files"]["data/digits/test.parquet"]["sha256"]


CASES: dict[str, tuple[Make, tuple[str, ...]]] = {
    # ------------------------------------------------------------------ build-splits: arguments
    "build-unknown-task": (
        lambda c: (["build-splits", "--task", "nope", "--output", str(c.tmp / "out")], [c.tmp / "out"]),
        (
            "unknown task 'nope'",
            "known tasks: cifar10, cifar100, ddi, debian_summaries, digit_pairs, digits, digits_t2i, fashion_mnist",
        ),
    ),
    "build-no-task": (
        lambda c: (["build-splits", "--output", str(c.tmp / "out")], [c.tmp / "out"]),
        ("--task",),
    ),
    "build-ratio-not-a-number": (lambda c: build(c, "--ratios", "abc"), ("'abc' is not a number", "e.g. 5")),
    "build-ratio-zero": (lambda c: build(c, "--ratios", "0"), ("out of range", "(0, 100]")),
    "build-ratio-negative": (lambda c: build(c, "--ratios=-5"), ("'-5' is out of range", "(0, 100]")),
    "build-ratio-above-100": (lambda c: build(c, "--ratios", "1,101"), ("'101' is out of range", "(0, 100]")),
    "build-ratio-duplicate": (
        lambda c: build(c, "--ratios", "5,5.0"),
        ("ratio '5.0' repeats ratio '5'", "give each ratio once"),
    ),
    "build-ratio-same-samples": (
        lambda c: build(c, "--ratios", "1,1.01"),
        ("both select 12 samples", "drop one of them"),
    ),
    "build-ratio-too-small": (
        lambda c: build(c, "--ratios", "0.05"),
        ("too small", "smallest usable ratio here is 0.08"),
    ),
    "build-ratio-empty": (
        lambda c: build(c, "--ratios", ","),
        ("no deletion ratios given", "--ratios 1,5,10"),
    ),
    "build-ratio-too-many-decimals": (
        lambda c: build(c, "--ratios", "1/3"),
        ("no short decimal form", "6 decimals"),
    ),
    "build-seed-not-an-int": (lambda c: build(c, "--seed", "x"), ("--seed", "invalid int value")),
    "build-seed-negative": (lambda c: build(c, "--seed=-1"), ("seed must be a non-negative integer",)),
    "build-forget-class-out-of-range": (
        lambda c: build(c, "--forget-class", "10"),
        ("forget class '10' is not a label", "[0, 10)"),
    ),
    "build-forget-class-unknown-name": (
        lambda c: build(c, "--forget-class", "cat"),
        ("'cat' is not a label", "one of"),
    ),
    # ------------------------------------------------------------------ build-splits: order files
    "build-order-missing": (
        lambda c: build(c, "--order", str(c.tmp / "missing.txt")),
        ("does not exist", "one train index per line"),
    ),
    "build-order-empty": (lambda c: order(c, ""), ("is empty", "one train index per line")),
    "build-order-blank-lines-only": (lambda c: order(c, "\n\n"), ("is empty",)),
    "build-order-duplicates": (lambda c: order(c, "1\n2\n1\n"), ("line 3: index 1 repeats line 1",)),
    "build-order-out-of-range": (lambda c: order(c, "1\n5000\n"), ("index 5000 is out of range [0, 1257)",)),
    "build-order-negative": (lambda c: order(c, "-3\n"), ("index -3 is out of range",)),
    "build-order-not-an-integer": (lambda c: order(c, "1\nseven\n"), ("line 2: 'seven' is not an integer",)),
    "build-order-too-short": (
        lambda c: order(c, "".join(f"{i}\n" for i in range(10))),
        ("lists 10 indices but the largest ratio needs 62",),
    ),
    "build-order-binary": (lambda c: order(c, b"\xff\xfe\x00\x01"), ("is not UTF-8 text",)),
    "build-order-a-folder": (
        lambda c: build(c, "--order", str(c.folder("orders"))),
        ("is a folder", "one train index per line"),
    ),
    # ------------------------------------------------------------------ build-splits: outputs
    "build-output-is-a-file": (
        lambda c: build(c, output=c.file("out.txt", "mine")),
        ("exists and is not a folder", "--output DIR"),
    ),
    "build-output-under-a-file": (
        lambda c: build(c, output=c.file("plain", "mine") / "sub" / "out"),
        ("cannot create the output folder", "--output folder you can write to"),
    ),
    "build-output-not-writable": (
        lambda c: build(c, output=c.readonly_parent() / "mubench-test-out"),
        ("cannot create the output folder", "--output folder you can write to"),
    ),
    "build-output-foreign-folder": (
        lambda c: build(c, output=c.file("stuff/notes.txt", "mine").parent),
        ("is not a mubench deletion repo", "--overwrite"),
    ),
    "build-output-corrupt-manifest": (
        lambda c: build(c, output=c.file("broken/mubench.json", "{nope").parent),
        ("is not valid JSON", "rebuild"),
    ),
    "build-output-partial-manifest": (
        lambda c: build(c, output=c.manifest(c.repo(), _drop_files)),
        ("tasks.digits.files is missing", "rebuild the repo"),
    ),
    "build-output-built-differently": (
        lambda c: build(c, "--ratios", "2", output=c.repo()),
        ("already holds task 'digits' built differently", "--overwrite"),
    ),
    "build-output-crafted-dotdot": (
        lambda c: build(c, "--overwrite", output=c.crafted("../outside/secret.parquet")),
        ("'../outside/secret.parquet'", "'..' component"),
    ),
    "build-output-crafted-absolute": (
        lambda c: build(c, "--overwrite", output=c.crafted("/etc/passwd")),
        ("'/etc/passwd' is an absolute path",),
    ),
    "build-output-symlink-outside": (
        lambda c: build(c, "--overwrite", output=c.linked()),
        ("'data/digits/test.parquet' leads outside the repo", "replace the link"),
    ),
    # ------------------------------------------------------------------ build-splits: sources
    "build-hub-task-offline": (
        lambda c: (["build-splits", "--task", "cifar10", "--output", str(c.tmp / "out")], [c.tmp / "out"]),
        ("reads uoft-cs/cifar10@main from the Hugging Face Hub", "offline", "--source PATH"),
    ),
    "build-ood-offline": (
        lambda c: (
            [
                "build-splits",
                "--task",
                "imdb",
                "--output",
                str(c.tmp / "out"),
                "--ratios",
                "10",
                "--source",
                _saved_imdb(c),
            ],
            [c.tmp / "out"],
        ),  # fmt: skip
        ("the OOD set of task 'imdb'", "offline", "--ood-source PATH", "--no-ood"),
    ),
    "build-source-missing": (
        lambda c: build(c, "--source", str(c.tmp / "nowhere")),
        ("source for task 'digits'", "does not exist", "give a local copy"),
    ),
    "build-source-not-a-dataset": (
        lambda c: build(c, "--source", str(c.file("junk/x.bin", b"\x00").parent)),
        ("did not load", "save_to_disk"),
    ),
    # ------------------------------------------------------------------ info
    "info-missing-folder": (
        lambda c: on("info", c.tmp / "missing"),
        ("does not exist", "mubench build-splits"),
    ),
    "info-a-file": (lambda c: on("info", c.file("f.txt", "x")), ("is a file, not a deletion repo folder",)),
    "info-empty-folder": (
        lambda c: on("info", c.folder("empty")),
        ("no mubench.json", "mubench build-splits"),
    ),
    "info-corrupt-manifest": (
        lambda c: on("info", c.file("r/mubench.json", "{oops").parent),
        ("mubench.json is not valid json", "rebuild"),
    ),
    "info-manifest-a-list": (
        lambda c: on("info", c.file("r/mubench.json", "[1, 2]").parent),
        ("holds a list, not a json object", "rebuild"),
    ),
    "info-partial-manifest": (
        lambda c: on("info", c.manifest(c.repo(), _drop_files)),
        ("tasks.digits.files is missing", "rebuild"),
    ),
    "info-crafted-dotdot": (
        lambda c: on("info", c.crafted("../outside/secret.parquet")),
        ("'..' component",),
    ),
    "info-crafted-etc-passwd": (
        lambda c: on("info", c.crafted("/etc/passwd")),
        ("'/etc/passwd' is an absolute path",),
    ),
    "info-symlink-outside": (lambda c: on("info", c.linked()), ("leads outside the repo",)),
    "info-two-paths": (lambda c: on("info", c.tmp / "a", str(c.tmp / "b")), ("unrecognized arguments",)),
    # ------------------------------------------------------------------ verify
    "verify-missing-folder": (
        lambda c: on("verify", c.tmp / "missing"),
        ("does not exist", "mubench build-splits"),
    ),
    "verify-a-file": (lambda c: on("verify", c.file("f.txt", "x")), ("is a file",)),
    "verify-empty-folder": (lambda c: on("verify", c.folder("empty")), ("no mubench.json",)),
    "verify-corrupt-manifest": (
        lambda c: on("verify", c.file("r/mubench.json", "{oops").parent),
        ("is not valid json", "rebuild"),
    ),
    "verify-manifest-a-number": (
        lambda c: on("verify", c.file("r/mubench.json", "7").parent),
        ("holds a number, not a json object",),
    ),
    "verify-partial-manifest": (
        lambda c: on("verify", c.manifest(c.repo(), _drop_sha)),
        ("tasks.digits.files['data/digits/test.parquet'].sha256 is missing",),
    ),
    "verify-tampered-parquet": (
        lambda c: on("verify", _tamper(c.repo(), "data/digits/test.parquet")),
        ("does not match its manifest (1 problem", "rebuild it with `mubench build-splits"),
    ),
    "verify-deleted-readme": (
        lambda c: on("verify", _delete(c.repo(), "README.md")),
        ("does not match its manifest (1 problem", "restore the files"),
    ),
    "verify-tampered-readme-configs": (
        lambda c: on("verify", c.readme(c.repo(), "config_name: digits_del5", "config_name: digits_del6")),
        ("does not match its manifest", "--overwrite"),
    ),
    "verify-tampered-readme-sizes": (
        lambda c: on("verify", c.readme(c.repo(), "num_examples: 62", "num_examples: 63")),
        ("does not match its manifest (1 problem",),
    ),
    "verify-crafted-dotdot": (
        lambda c: on("verify", c.crafted("../outside/secret.parquet")),
        ("'..' component",),
    ),
    "verify-crafted-etc-passwd": (lambda c: on("verify", c.crafted("/etc/passwd")), ("absolute path",)),
    "verify-symlink-outside": (lambda c: on("verify", c.linked()), ("leads outside the repo", "rebuild")),
    "verify-readme-data-file-outside": (
        lambda c: on(
            "verify",
            c.readme(c.repo(), "    - data/digits/test.parquet", "    - ../outside/secret.parquet"),
        ),
        ("configs entry 'digits_del1'", "'../outside/secret.parquet'", "'..' component"),
    ),
    # ------------------------------------------------------------------ tasks
    "tasks-unknown-option": (lambda c: (["tasks", "--yaml"], []), ("unrecognized arguments: --yaml",)),
    "tasks-extra-argument": (lambda c: (["tasks", "digits"], []), ("unrecognized arguments: digits",)),
    # ------------------------------------------------------------------ push-splits (never reaches a server)
    "push-no-token": (
        lambda c: (["push-splits", str(c.repo()), "mubench-org/splits"], [c.tmp / "repo"]),
        ("no Hugging Face token", "--token", "HF_TOKEN", "hf auth login"),
    ),
    "push-repo-id-without-namespace": (
        lambda c: push(c.repo(), repo_id="no-namespace"),
        ("invalid repo id", "namespace/name"),
    ),
    "push-repo-id-with-space": (lambda c: push(c.repo(), repo_id="org/has space"), ("invalid repo id",)),
    "push-repo-id-three-parts": (lambda c: push(c.repo(), repo_id="a/b/c"), ("invalid repo id",)),
    "push-not-a-deletion-repo": (
        lambda c: push(c.file("stuff/notes.txt", "mine").parent),
        ("is not a mubench deletion repo", "mubench build-splits"),
    ),
    "push-missing-folder": (lambda c: push(c.tmp / "missing"), ("does not exist",)),
    "push-tampered-parquet": (
        lambda c: push(_tamper(c.repo(), "data/digits/test.parquet")),
        ("does not match its manifest", "test.parquet has changed", "mubench build-splits"),
    ),
    "push-tampered-readme": (
        lambda c: push(c.readme(c.repo(), "num_examples: 62", "num_examples: 63")),
        ("does not match its manifest", "README.md"),
    ),
    "push-crafted-dotdot": (lambda c: push(c.crafted("../outside/secret.parquet")), ("'..' component",)),
    "push-crafted-etc-passwd": (lambda c: push(c.crafted("/etc/passwd")), ("absolute path",)),
    "push-symlink-outside": (lambda c: push(c.linked()), ("leads outside the repo",)),
    "push-offline": (lambda c: push(c.repo()), ("offline", "Nothing was changed locally")),
}


def _saved_imdb(ctx: Ctx) -> str:
    folder = ctx.tmp / "imdb_src"
    imdb_like().save_to_disk(str(folder))
    return str(folder)


def _tamper(repo: Path, rel: str) -> Path:
    (repo / rel).write_bytes(b"tampered")
    return repo


def _delete(repo: Path, rel: str) -> Path:
    (repo / rel).unlink()
    return repo


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No Hugging Face token anywhere: not in the environment, not in a token file."""
    import huggingface_hub.constants as hf_constants

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.setattr(hf_constants, "HF_TOKEN_PATH", str(tmp_path / "no_token"))
    monkeypatch.setattr(hf_constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no_stored_tokens"))


@pytest.fixture
def empty_caches(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Offline caches that hold nothing, whatever this machine downloaded before."""
    import datasets
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "empty_datasets_cache")
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "empty_hub_cache"))


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_cleanly_and_writes_nothing(
    case: str,
    base_repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_token: None,
    empty_caches: None,
) -> None:
    ctx = Ctx(tmp_path / "case", base_repo)
    ctx.tmp.mkdir()
    ctx.sentinel.parent.mkdir()
    ctx.sentinel.write_bytes(SENTINEL)
    make, needles = CASES[case]
    argv, watched = make(ctx)
    before = {str(path): snapshot(path) for path in watched}
    outside = snapshot(ctx.sentinel.parent)
    leftovers = sorted(p.name for p in ctx.tmp.iterdir())
    result = run_cli(argv, capsys)
    try:
        assert_clean_error(result, *needles)
        if result.code == 1:  # mubench's own errors: one line (argparse's, exit 2, come after its usage)
            assert len(result.err.strip().splitlines()) == 1, result.err
        assert {str(path): snapshot(path) for path in watched} == before
        for path in watched:
            assert not [p.name for p in path.parent.glob(f".{path.name}.*")], "staging folder left behind"
        assert sorted(p.name for p in ctx.tmp.iterdir()) == leftovers  # nothing new beside the inputs
        assert snapshot(ctx.sentinel.parent) == outside and ctx.sentinel.read_bytes() == SENTINEL
    finally:
        readonly = ctx.tmp / "readonly"
        if readonly.exists():
            readonly.chmod(0o755)  # let pytest clean up
