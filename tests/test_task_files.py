"""Task files: a dataset of one's own (a local CSV, an imagefolder) as a task without Python, through
``mubench build-splits`` and ``mubench run`` with two methods on tiny models; ``mubench tasks --json`` lists
it with where it was declared; bad task files fail with the key and what it may hold."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from mubench_hf.cli import main
from mubench_hf.errors import MubenchError
from tests.cli_harness import assert_clean_error, run_cli

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# Reviews made from word lists: the sentiment word decides the class, the rest is filler.
POSITIVE = ["great", "wonderful", "lovely", "superb", "delightful", "excellent"]
NEGATIVE = ["awful", "dreadful", "boring", "terrible", "clumsy", "tedious"]
SUBJECTS = ["the film", "this book", "the show", "our dinner", "the concert", "that game", "the trip"]
FILLERS = ["honestly", "all in all", "for me", "in the end", "to be fair", "as expected"]
# a grid small enough for a test: one ratio, one seed, one-epoch base, two unlearning steps
TINY_RUN = {
    "methods": ["retrain", "grad_ascent", "finetune"],
    "ratios": [10],
    "seeds": [1],
    "base_recipe": {"num_train_epochs": 1},
    "hyperparameters": {"grad_ascent": {"max_steps": 2}, "finetune": {"max_steps": 2}},
}


def write_reviews_csv(path: Path, rows: int = 160) -> list[dict[str, str]]:
    rng = np.random.default_rng(0)
    records = []
    for i in range(rows):
        label = "positive" if i % 2 else "negative"
        word = rng.choice(POSITIVE if label == "positive" else NEGATIVE)
        text = f"{rng.choice(FILLERS)}, {rng.choice(SUBJECTS)} was {word}."
        records.append({"id": str(i), "sentence": text, "sentiment": label})
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "sentence", "sentiment"])
        writer.writeheader()
        writer.writerows(records)
    return records


def write_digit_folder(root: Path, classes: tuple[int, ...] = (0, 1, 7), per_class: int = 50) -> None:
    """sklearn digits as PNG files in root/<split>/<class name>/ (an imagefolder with split folders)."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    names = {0: "zero", 1: "one", 7: "seven"}
    for label in classes:
        rows = np.flatnonzero(digits.target == label)[:per_class]
        for i, row in enumerate(rows):
            split = "test" if i % 5 == 0 else "train"
            folder = root / split / names[label]
            folder.mkdir(parents=True, exist_ok=True)
            pixels = np.round(digits.images[row] * 255 / 16).astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(folder / f"{row}.png")


@pytest.fixture
def reviews_file(tmp_path: Path) -> Path:
    write_reviews_csv(tmp_path / "data" / "reviews.csv")
    task_file = tmp_path / "reviews.yaml"
    task_file.write_text(
        "name: reviews\nmodality: text\nfiles: data/reviews.csv\ninput_column: sentence\n"
        "label_column: sentiment\ndescription: made-up one-line reviews\n"
    )
    return task_file


@pytest.fixture
def forget_file_tasks():
    """Take the task files' tasks out of the registry afterwards (a later test declares them again)."""
    from mubench_hf.tasks import registry

    before = set(registry.TASKS)
    yield
    for name in set(registry.TASKS) - before:
        registry.TASKS.pop(name)
        registry.TASK_ORIGINS.pop(name, None)


def _forget(name: str) -> None:
    """As a new process would be: the task known only from where it is recorded."""
    from mubench_hf.tasks import registry
    from mubench_hf.tasks import task_file as task_files

    registry.TASKS.pop(name)
    registry.TASK_ORIGINS.pop(name)
    task_files._READ.clear()


def _cells(output: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in output.glob("cells/*/seed1/*/cell.json")}


@pytest.mark.usefixtures("forget_file_tasks")
def test_a_csv_task_file_builds_splits_and_runs_two_methods_from_the_recorded_declaration(
    reviews_file: Path, tmp_path: Path, capsys
) -> None:
    runs = tmp_path / "runs"
    argv = ["build-splits", "--task", str(reviews_file), "--output", str(runs / "mubench"), "--ratios", "10"]
    assert main([*argv, "--quiet"]) == 0
    manifest = json.loads((runs / "mubench" / "mubench.json").read_text())
    entry = manifest["tasks"]["reviews"]
    assert entry["class_names"] == ["negative", "positive"]  # sorted distinct values of the label column
    assert entry["declaration"]["task_file"] == str(reviews_file)
    # 160 rows: 32 test and 16 validation carved out with default_rng(0), 112 train; 10 % deletion order
    assert entry["num_train"] == 112 and entry["split_sizes"]["reviews_del10"]["forget"] == 11
    assert entry["split_sizes"]["reviews_del10"]["test"] == 32
    assert entry["split_sizes"]["reviews_del10"]["validation"] == 16

    _forget("reviews")  # the sweep finds the task in the folder's splits, without the file
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"task": "reviews", "output": str(runs), **TINY_RUN}))
    assert main(["run", str(grid), "--threads", "1", "--no-progress"]) == 0
    assert "| ref | retrain |" in capsys.readouterr().out
    cells = _cells(runs)
    assert sorted(cells) == ["finetune", "grad_ascent", "retrain"]
    for method, record in cells.items():
        assert record["status"] == "done", (method, record.get("error"))
        assert 0.0 <= record["metrics"]["test_accuracy"] <= 1.0
    assert main(["tasks", "--json"]) == 0
    listed = {t["name"]: t for t in json.loads(capsys.readouterr().out)}
    assert listed["reviews"]["origin"].startswith(f"deletion repo {(runs / 'mubench').resolve()}")


@pytest.mark.usefixtures("forget_file_tasks")
def test_train_base_and_unlearn_find_a_file_task_by_flag_and_by_the_repo(
    reviews_file: Path, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    assert (
        main(
            ["build-splits", "--task", str(reviews_file), "--output", str(repo), "--ratios", "10", "--quiet"]
        )
        == 0
    )
    _forget("reviews")
    base = tmp_path / "base"
    quick = ["--use_cpu", "--disable_tqdm", "true", "--report_to", "none"]
    assert main(["train-base", "--dataset", str(repo), "--task", "reviews", "--task_file", str(reviews_file),
                 "--model", "tiny:bert", "--output_dir", str(base), "--num_train_epochs", "1", *quick]) == 0  # fmt: skip
    config = json.loads((base / "config.json").read_text())
    assert config["id2label"] == {"0": "negative", "1": "positive"}
    _forget("reviews")  # unlearn knows the task from the repo's record alone
    assert main(["unlearn", "--dataset", str(repo), "--config", "reviews_del10", "--model", str(base),
                 "--method", "grad_ascent", "--max_steps", "1", "--output_dir", str(tmp_path / "ga"), *quick]) == 0  # fmt: skip
    run = json.loads((tmp_path / "ga" / "unlearn_run.json").read_text())
    assert run["task"] == "reviews" and run["status"] == "done"


@pytest.mark.usefixtures("forget_file_tasks")
def test_an_imagefolder_task_file_runs_from_a_grid_that_names_it(tmp_path: Path, capsys) -> None:
    write_digit_folder(tmp_path / "digits_png")
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "png_digits.json").write_text(
        json.dumps({"name": "png_digits", "modality": "image", "folder": "../digits_png", "split_seed": 3})
    )
    output = tmp_path / "runs"
    assert main(["build-splits", "--task", str(tmp_path / "tasks" / "png_digits.json"), "--output",
                 str(output / "mubench"), "--ratios", "10", "--quiet"]) == 0  # fmt: skip
    entry = json.loads((output / "mubench" / "mubench.json").read_text())["tasks"]["png_digits"]
    assert entry["class_names"] == ["one", "seven", "zero"]  # the imagefolder's ClassLabel (folder names)
    assert entry["declaration"]["class_names_from"] == "the ClassLabel names of column 'label'"
    # 120 train images: the folder has a test split, so only validation is carved out (12 rows)
    sizes = entry["split_sizes"]["png_digits_del10"]
    assert (entry["num_train"], sizes["validation"], sizes["test"]) == (108, 12, 30)

    grid = tmp_path / "grid.yaml"  # the task file's path is relative to the grid file
    grid.write_text(json.dumps({"task": "tasks/png_digits.json", "output": str(output), **TINY_RUN}))
    assert main(["run", str(grid), "--threads", "1", "--no-progress"]) == 0
    cells = _cells(output)
    assert sorted(cells) == ["finetune", "grad_ascent", "retrain"]
    assert all(record["status"] == "done" for record in cells.values())


@pytest.mark.usefixtures("forget_file_tasks")
def test_an_audiofolder_task_file_builds_splits_with_the_folder_names_as_classes(tmp_path: Path) -> None:
    import wave

    import datasets

    from mubench_hf import build_splits

    for label, pitch in (("high", 880.0), ("low", 220.0)):
        (tmp_path / "clips" / label).mkdir(parents=True)
        for i in range(10):
            samples = np.sin(2 * np.pi * pitch * (1 + i / 50) * np.arange(1600) / 16000)
            with wave.open(str(tmp_path / "clips" / label / f"{i}.wav"), "wb") as clip:
                clip.setnchannels(1), clip.setsampwidth(2), clip.setframerate(16000)
                clip.writeframes((samples * 20000).astype("<i2").tobytes())
    (tmp_path / "tones.yaml").write_text("name: tones\nmodality: audio\nfolder: clips\ntest_fraction: 0.3\n")
    result = build_splits(str(tmp_path / "tones.yaml"), tmp_path / "repo", ratios=(10,), show_progress=False)
    assert result.split_sizes["tones_del10"] == {
        "train": 12,
        "forget": 1,
        "retain": 11,
        "validation": 2,
        "test": 6,
    }
    built = datasets.load_dataset(str(tmp_path / "repo"), "tones_del10", cache_dir=str(tmp_path / "cache"))
    assert built["train"].features["label"].names == ["high", "low"]
    assert built["test"].features["audio"].sampling_rate == 16000


@pytest.mark.usefixtures("forget_file_tasks")
def test_tasks_json_lists_task_files_with_where_they_were_declared(
    reviews_file: Path, monkeypatch, capsys
) -> None:
    from mubench_hf.tasks import TASKS

    assert main(["tasks", "--json"]) == 0
    builtin = json.loads(capsys.readouterr().out)
    assert {r["origin"] for r in builtin if r["name"] in ("cifar10", "cifar100")} == {
        "built in (mubench_hf.tasks.cifar)"
    }
    assert all(r["origin"].startswith("built in (mubench_hf.tasks.") for r in builtin)
    assert not any("builtin" in r["origin"] for r in builtin)  # each module registers its own tasks

    monkeypatch.setenv("MUBENCH_TASK_FILES", str(reviews_file))
    assert main(["tasks", "--json"]) == 0
    records = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert records["reviews"]["origin"] == f"task file {reviews_file}"
    assert records["reviews"]["source"].endswith(f"(task file {reviews_file})")
    assert records["reviews"]["offline"] is True and records["reviews"]["num_labels"] == 2
    assert [r["name"] for r in builtin] == sorted(set(records) - {"reviews"})
    assert TASKS["reviews"].class_names == ("negative", "positive")


@pytest.mark.usefixtures("forget_file_tasks")
def test_task_file_flags_declare_tasks_for_the_model_commands(reviews_file: Path, tmp_path: Path) -> None:
    from mubench_hf.cli._tasks import use_task_files

    assert use_task_files(str(reviews_file)) == "reviews"  # --task FILE: the name of its task
    _forget("reviews")
    assert use_task_files("reviews", [str(reviews_file)]) == "reviews"  # --task NAME --task-file FILE
    other = tmp_path / "again.yaml"
    other.write_text(reviews_file.read_text().replace("data/", str(tmp_path / "data") + "/"))
    with pytest.raises(MubenchError, match=r"already declared in task file .*reviews\.yaml"):
        use_task_files(None, [str(other)])


@pytest.mark.usefixtures("forget_file_tasks")
def test_a_hub_task_file_is_listed_offline_and_builds_from_a_local_copy(tmp_path: Path, capsys) -> None:
    import datasets

    stars = datasets.ClassLabel(names=["bad", "good"])
    rows = {"review": [f"{w} meal number {i}" for i, w in enumerate(["good", "bad"] * 20)],
            "stars": [1, 0] * 20}  # fmt: skip
    features = datasets.Features({"review": datasets.Value("string"), "stars": stars})
    copy = tmp_path / "copy"
    datasets.DatasetDict(
        {"train": datasets.Dataset.from_dict(rows, features=features),
         "test": datasets.Dataset.from_dict({k: v[:10] for k, v in rows.items()}, features=features)}
    ).save_to_disk(copy)  # fmt: skip
    task_file = tmp_path / "meals.yaml"
    task_file.write_text(
        "name: meals\nmodality: text\nhub: someone/meals\ninput_column: review\nlabel_column: stars\n"
        "class_names: [good, bad]\nsplits: {validation: null}\nvalidation_fraction: 0.25\n"
    )
    assert main(["tasks", "--task-file", str(task_file), "--json"]) == 0
    record = {r["name"]: r for r in json.loads(capsys.readouterr().out)}["meals"]
    assert record["offline"] is False and record["source"] == f"someone/meals@main (task file {task_file})"

    offline = run_cli(["build-splits", "--task", str(task_file), "--output", str(tmp_path / "no")], capsys)
    assert_clean_error(offline, "someone/meals@main", "HF_HUB_OFFLINE", "--source PATH")
    out = tmp_path / "repo"
    argv = ["build-splits", "--task", "meals", "--source", str(copy), "--output", str(out), "--ratios", "10"]
    assert main([*argv, "--quiet"]) == 0
    built = datasets.load_dataset(str(out), "meals_del10", cache_dir=str(tmp_path / "cache"))
    assert built["train"].features["label"].names == ["good", "bad"]
    assert len(built["validation"]) == 10 and len(built["train"]) == 30 and len(built["test"]) == 10
    for split in built.values():  # the ClassLabel in the other order was re-indexed by name
        for text, label in zip(split["text"], split["label"]):
            assert text.startswith(("good", "bad")[label])

    nameless = tmp_path / "nameless.yaml"
    nameless.write_text(
        task_file.read_text().replace("class_names: [good, bad]\n", "").replace("meals", "m2")
    )
    result = run_cli(["tasks", "--task-file", str(nameless)], capsys)
    assert_clean_error(result, "lists no class_names", "HF_HUB_OFFLINE", "class_names: [...]")


@pytest.mark.usefixtures("forget_file_tasks")
def test_json_lines_files_with_named_splits_keep_them(tmp_path: Path) -> None:
    from mubench_hf import build_splits

    for split, count in (("a", 30), ("b", 8), ("c", 12)):
        lines = [json.dumps({"text": f"row {i} of {split}", "label": i % 3}) for i in range(count)]
        (tmp_path / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
    task_file = tmp_path / "three.json"
    task_file.write_text(json.dumps({
        "name": "three", "modality": "text", "class_names": ["x", "y", "z"],
        "files": {"fit": "a.jsonl", "dev": "b.jsonl", "holdout": "c.jsonl"},
        "splits": {"train": "fit", "validation": "dev", "test": "holdout"},
    }))  # fmt: skip
    result = build_splits(str(task_file), tmp_path / "repo", ratios=(10,), show_progress=False)
    assert result.split_sizes["three_del10"] == {
        "train": 30,
        "forget": 3,
        "retain": 27,
        "validation": 8,
        "test": 12,
    }


@pytest.mark.usefixtures("forget_file_tasks")
def test_a_generation_task_file_deletes_whole_groups_and_runs_two_methods(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    import mubench_hf.kinds.generation.unlearning_report as report

    monkeypatch.setattr(report, "RETAIN_ROWS", 8)  # greedy generation on fewer retain rows: quicker
    people = [
        f"{first} {last}"
        for first in ("Ada", "Bo", "Cy", "Di", "Ed", "Flo")
        for last in ("Orr", "Pym", "Quin", "Roe", "Sax")
    ]
    lines = []
    for i, person in enumerate(people):
        for question, answer in (("Where was {} born?", "in town {}"), ("What does {} do?", "job {}"),
                                 ("What does {} like?", "food {}")):  # fmt: skip
            lines.append(
                json.dumps({"person": person, "q": question.format(person), "a": " " + answer.format(i)})
            )
    (tmp_path / "people.jsonl").write_text("\n".join(lines) + "\n")
    task_file = tmp_path / "people.yaml"
    task_file.write_text(
        "name: people\nmodality: text\nkind: generation\nfiles: people.jsonl\nprompt_column: q\n"
        "completion_column: a\ngroup_column: person\n"
    )
    output = tmp_path / "runs"
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({
        "task": "people.yaml", "output": str(output), "methods": ["retrain", "grad_ascent", "npo"],
        "ratios": [10], "seeds": [1], "base_recipe": {"num_train_epochs": 1},
        "unlearn_args": {"max_steps": 2, "generation_max_new_tokens": 4},
    }))  # fmt: skip
    assert main(["run", str(grid), "--threads", "1", "--no-progress"]) == 0
    entry = json.loads((output / "mubench" / "mubench.json").read_text())["tasks"]["people"]
    # 30 people: 6 carved out as test, 3 as validation (whole groups), 21 left; del10 forgets 2 of them
    assert entry["deletion_unit"] == "group" and entry["num_groups"] == 21
    assert entry["split_sizes"]["people_del10"]["forget"] == 6 and entry["num_train"] == 63
    cells = _cells(output)
    assert sorted(cells) == ["grad_ascent", "npo", "retrain"]
    for record in cells.values():
        assert record["status"] == "done" and 0.0 <= record["metrics"]["forget_rouge_l"] <= 1.0
    capsys.readouterr()  # the sweep's tables
    assert main(["tasks", "--task-file", str(task_file), "--json"]) == 0
    record = {r["name"]: r for r in json.loads(capsys.readouterr().out)}["people"]
    assert record["kind"] == "generation" and record["num_labels"] is None
