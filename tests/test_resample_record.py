"""A resample is recorded once: an audiofolder of 8 kHz WAVs built into a deletion repo says in its manifest
(``mubench.json``, task entry ``resample``) that its clips are decoded at 16 kHz, and prints it once at build
time, not once per row; a 16 kHz folder records nothing."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from mubench_hf import build_splits


@pytest.fixture
def forget_file_tasks():
    """Take the task files' tasks out of the registry afterwards (a later test declares them again)."""
    from mubench_hf.tasks import registry

    before = set(registry.TASKS)
    yield
    for name in set(registry.TASKS) - before:
        registry.TASKS.pop(name)
        registry.TASK_ORIGINS.pop(name, None)


def write_tones(folder: Path, rate: int, clips: int = 10) -> None:
    """Two classes of sine tones (0.1 s each) as 16-bit mono WAVs at ``rate``."""
    for label, pitch in (("high", 880.0), ("low", 220.0)):
        (folder / label).mkdir(parents=True)
        for i in range(clips):
            samples = np.sin(2 * np.pi * pitch * (1 + i / 50) * np.arange(rate // 10) / rate)
            with wave.open(str(folder / label / f"{i}.wav"), "wb") as clip:
                clip.setnchannels(1), clip.setsampwidth(2), clip.setframerate(rate)
                clip.writeframes((samples * 20000).astype("<i2").tobytes())


@pytest.mark.usefixtures("forget_file_tasks")
def test_an_8khz_audiofolder_records_its_resample_in_the_manifest_and_says_it_once(
    tmp_path: Path, capsys
) -> None:
    import datasets

    write_tones(tmp_path / "clips", 8000)
    (tmp_path / "phone.yaml").write_text("name: phone\nmodality: audio\nfolder: clips\ntest_fraction: 0.3\n")
    build_splits(str(tmp_path / "phone.yaml"), tmp_path / "repo", ratios=(10,), show_progress=False)
    entry = json.loads((tmp_path / "repo" / "mubench.json").read_text())["tasks"]["phone"]
    assert entry["resample"] == {"from_hz": 8000, "to_hz": 16000, "column": "audio"}
    said = capsys.readouterr().err
    assert said.count("resampled to 16000 Hz") == 1, said
    assert "recorded at 8000 Hz" in said
    # and the clips do reach the model at 16 kHz: 0.1 s of audio is 1600 samples
    built = datasets.load_dataset(str(tmp_path / "repo"), "phone_del10", cache_dir=str(tmp_path / "cache"))
    clip = built["test"][0]["audio"]
    assert clip.get_all_samples().sample_rate == 16000
    assert clip.get_all_samples().data.shape[-1] == 1600


@pytest.mark.usefixtures("forget_file_tasks")
def test_a_16khz_audiofolder_records_no_resample(tmp_path: Path, capsys) -> None:
    write_tones(tmp_path / "clips", 16000)
    (tmp_path / "wide.yaml").write_text("name: wide\nmodality: audio\nfolder: clips\ntest_fraction: 0.3\n")
    build_splits(str(tmp_path / "wide.yaml"), tmp_path / "repo", ratios=(10,), show_progress=False)
    entry = json.loads((tmp_path / "repo" / "mubench.json").read_text())["tasks"]["wide"]
    assert "resample" not in entry
    assert "resampled" not in capsys.readouterr().err


def test_clips_of_mixed_rates_list_every_other_rate(tmp_path: Path) -> None:
    import datasets

    from mubench_hf.splits.resample import resample_record

    for rate in (8000, 22050, 16000):
        write_tones(tmp_path / f"r{rate}", rate, clips=1)
    files = sorted(str(p) for p in tmp_path.rglob("*.wav"))
    split = datasets.Dataset.from_dict({"audio": files}).cast_column(
        "audio", datasets.Audio(sampling_rate=16000)
    )
    features = datasets.Features({"audio": datasets.Audio(sampling_rate=16000)})
    assert resample_record(features, {"train": split}) == [
        {"from_hz": [8000, 22050], "to_hz": 16000, "column": "audio"}
    ]
