"""Task kinds as one layer: a ``Task`` is data, everything that differs by kind lives in the kind object found
by ``kind_of(task)``, a new kind is one module, and nothing below the kinds layer reaches up into it (or into
the training and scoring code above it), function-level imports included."""

from __future__ import annotations

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import mubench_hf
from mubench_hf.errors import MubenchError
from mubench_hf.kinds import CLASSIFICATION, GENERATION, KINDS, TaskKind, get_kind, kind_of, register_kind
from mubench_hf.objectives import ClassificationObjective, GenerationObjective
from mubench_hf.tasks import TASKS, Task, get_task, register_task
from mubench_hf.tasks.base import TASK_KINDS
from mubench_hf.tasks.generation import GenerationTask

PACKAGE = Path(mubench_hf.__file__).parent
# Package (first component under mubench_hf) → the packages it must never import, at any depth: nothing
# below the kinds layer imports it (the former ``Task`` facade did, through ``processing``, ``modeling`` and
# ``generation``), and the kinds import nothing of the training and scoring code above them. (The full
# layer order is import-linter's contract; this guards the kinds' own boundary.)
ABOVE = (
    "trainers",
    "evaluation",
    "evidence",
    "reference_models",
    "pipeline",
    "sweeps",
    "studies",
    "hub",
    "cli",
)
KINDS_AND_REMOVED = ("kinds", "generation", "processing")
FORBIDDEN = {
    "tasks": KINDS_AND_REMOVED,
    "modalities": (*KINDS_AND_REMOVED, "tasks"),
    "objectives": (*KINDS_AND_REMOVED, "tasks"),
    "metrics": KINDS_AND_REMOVED,
    "splits": KINDS_AND_REMOVED,
    "modeling": (*KINDS_AND_REMOVED, *ABOVE, "tasks", "modalities"),
    "kinds": ABOVE,
}


def _imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, first package under mubench_hf) of every mubench import in ``path``, wherever it stands."""
    module_parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if module_parts[-1] == "__init__":
        module_parts = module_parts[:-1]
    package_parts = module_parts if path.name == "__init__.py" else module_parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package_parts[: len(package_parts) - node.level + 1])
                target = [*base, *(node.module.split(".") if node.module else [])]
            else:
                target = (node.module or "").split(".")
            if target[0] != "mubench_hf":
                continue
            names = [target] if len(target) > 1 else [[*target, alias.name] for alias in node.names]
            found += [(node.lineno, t[1]) for t in names]
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name.split(".")[1]) for a in node.names if a.name.startswith("mubench_hf.")
            ]
    return found


def test_lower_layers_never_import_upwards() -> None:
    """tasks, modalities, objectives, metrics and the model-loading base never import kinds or anything
    above; kinds never imports the trainers, evaluation, reference models or pipeline (function-level
    imports count: they close import circles just the same)."""
    offences = []
    for package, forbidden in FORBIDDEN.items():
        root = PACKAGE / package
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]
        for path in files:
            for line, target in _imported_packages(path):
                if target in forbidden:
                    offences.append(f"{path.relative_to(PACKAGE)}:{line} imports mubench_hf.{target}")
    assert offences == []


def test_importing_the_tasks_loads_nothing_above_them() -> None:
    """The former circle (tasks -> builtin -> generation task -> generation package -> tasks) is gone: the
    task registry and the generation tasks import in a fresh interpreter, in either order, and load
    neither the kinds nor the training or scoring code."""
    code = (
        "import sys, importlib; importlib.import_module(sys.argv[1]); import mubench_hf.tasks; "
        "up = ('kinds','trainers','evaluation','reference_models','pipeline','generation','processing'); "
        "print(sorted(m for m in sys.modules if m.startswith('mubench_hf.') and m.split('.')[1] in up))"
    )
    for first in ("mubench_hf.tasks.fictitious_authors", "mubench_hf.tasks.generation", "mubench_hf.tasks"):
        out = subprocess.run([sys.executable, "-c", code, first], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "[]", (first, out.stdout, out.stderr)


def test_every_task_has_a_kind_and_a_task_is_data() -> None:
    assert kind_of("digits") is CLASSIFICATION and kind_of(get_task("fictitious_authors")) is GENERATION
    for name, task in TASKS.items():
        assert kind_of(task).name == task.kind, name
    assert isinstance(CLASSIFICATION.objective(), ClassificationObjective)
    assert isinstance(GENERATION.objective(), GenerationObjective)
    assert (CLASSIFICATION.base_recipe, GENERATION.base_recipe) == ("trainer", "sft")
    # what differs by kind is the kind's: a task no longer builds, processes, trains or scores anything
    for behaviour in ("load_processor", "build_model", "process_splits", "fit"):
        assert not hasattr(Task, behaviour) and not hasattr(GenerationTask, behaviour), behaviour
    with pytest.raises(
        MubenchError, match=r"unknown task kind 'regression'; known kinds: \['classification', "
    ):
        get_kind("regression")


class _EchoKind(TaskKind):
    """A third kind for the test: a classifier under another name, recording what the pipeline asks of it."""

    name = "echo"
    base_recipe = "trainer"
    measures_relearn = False
    ranking_rule = "Ranking: alphabetical."

    def __init__(self) -> None:
        self.calls: list[str] = []

    def objective(self) -> Any:
        self.calls.append("objective")
        return ClassificationObjective()

    def load_processor(self, task, source, splits, *, trust_remote_code=None):  # type: ignore[no-untyped-def]
        self.calls.append("load_processor")
        return CLASSIFICATION.load_processor(task, source, splits, trust_remote_code=trust_remote_code)

    def build_model(self, task, model, splits, processor, **options):  # type: ignore[no-untyped-def]
        self.calls.append("build_model")
        return CLASSIFICATION.build_model(task, model, splits, processor, **options)

    def process_splits(self, task, splits, model, processor):  # type: ignore[no-untyped-def]
        self.calls.append("process_splits")
        return CLASSIFICATION.process_splits(task, splits, model, processor)

    def collator(self, task, processor):  # type: ignore[no-untyped-def]
        self.calls.append("collator")
        return CLASSIFICATION.collator(task, processor)

    def report(self, trainer, splits, **options):  # type: ignore[no-untyped-def]
        self.calls.append("report")
        return {"echo": float(len(splits["forget"]))}

    def rank(self, rows, *, name, is_reference, **metrics):  # type: ignore[no-untyped-def]
        return "name", [(row, i + 1) for i, row in enumerate(sorted(rows, key=name))]


@pytest.fixture
def echo_kind():
    kind = register_kind(_EchoKind())
    task = register_task(dataclasses.replace(get_task("digits"), name="digits_echo", kind="echo"))
    try:
        yield kind, task
    finally:
        KINDS.pop("echo", None)
        TASK_KINDS.remove("echo")
        TASKS.pop(task.name, None)


def test_a_new_kind_is_one_registration(echo_kind, tmp_path: Path, fresh_cache: str) -> None:
    """A kind registered from outside serves its tasks through the pipeline, the report and the ranking;
    before it is registered, a task of that kind is refused with the kinds there are."""
    from mubench_hf import build_splits
    from mubench_hf.pipeline import prepare, score, unlearning_trainer
    from mubench_hf.sweeps.ranking import RANKING_RULES, rank_for
    from mubench_hf.trainers import UnlearnConfig

    kind, task = echo_kind
    assert kind_of("digits_echo") is kind and "echo" in TASK_KINDS
    with pytest.raises(ValueError, match="already registered"):
        register_kind(_EchoKind())
    repo = tmp_path / "repo"
    build_splits(task, repo, ratios=(5,), show_progress=False)
    prepared = prepare(str(repo), "digits_echo_del5", "tiny:resnet", cache_dir=fresh_cache)
    assert kind.calls == ["load_processor", "build_model", "process_splits", "collator"]
    trainer = unlearning_trainer(prepared, UnlearnConfig(output_dir=str(tmp_path / "out"), method="finetune"))
    assert kind.calls[-1] == "objective" and isinstance(trainer.objective, ClassificationObjective)
    metrics = score(prepared, output_dir=None)
    assert kind.calls[-1] == "report" and metrics == {"echo": float(len(prepared.raw["forget"]))}
    with pytest.raises(
        MubenchError, match="generation settings apply to generation tasks; 'digits_echo' is a"
    ):
        score(prepared, output_dir=None, generation={"max_new_tokens": 2})
    assert rank_for("echo", ["b", "a"], name=str, is_reference=lambda r: False)[1] == [("a", 1), ("b", 2)]
    assert RANKING_RULES["echo"] == "Ranking: alphabetical." and "echo" in RANKING_RULES


def test_a_task_of_an_unregistered_kind_is_refused() -> None:
    with pytest.raises(
        MubenchError,
        match=r"kind must be one of \['classification', 'generation', 'image_generation'\], not 'echo'",
    ):
        dataclasses.replace(get_task("digits"), name="digits_echo", kind="echo")


def test_classification_refuses_generation_settings(
    digits_repo: Path, tmp_path: Path, fresh_cache: str
) -> None:
    """Report settings are a parameter of the report (no attribute on the trainer); a classification task's
    report generates nothing and says so before any scoring."""
    from mubench_hf.pipeline import prepare, score

    prepared = prepare(str(digits_repo), "digits_del5", "tiny:resnet", cache_dir=fresh_cache)
    with pytest.raises(MubenchError, match="generation settings apply to generation tasks; 'digits' is a"):
        score(prepared, output_dir=None, generation={"max_new_tokens": 2})
