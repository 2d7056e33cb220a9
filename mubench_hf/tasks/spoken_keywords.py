"""Spoken keywords: Speech Commands' ten core words spoken by espeak-ng, an offline audio task.

Every clip is made from the seed alone, so the data are the same on every machine with the same
espeak-ng: clip ``k`` of word ``w`` draws its accent (7 English espeak-ng voices), voice variant (22
male, female and character variants), speed (110-210 words a minute), pitch (20-80), position in the
second, gain and background noise (white noise, low-passed by a random one-pole filter, at 5-25 dB SNR)
from ``numpy.random.default_rng([seed, w, k])``. espeak-ng's 22,050 Hz output is trimmed of silence,
resampled to 16 kHz (``scipy.signal.resample_poly``), placed in a 1 s window and stored as 16-bit WAV
in a ``datasets.Audio(sampling_rate=16000)`` column.

Per word, clips are split 80 / 10 / 10 into train / validation / test by a seeded permutation. The
splits are cached under ``$MUBENCH_CACHE`` (else ``$XDG_CACHE_HOME``, else ``~/.cache``)
``/mubench-hf/spoken_keywords/<key>``, the key hashing the generator version, seed, size and the
espeak-ng version; a cache is written to a temporary folder and renamed, so it is whole or absent.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import wave
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np

from ..errors import MubenchError
from .base import Task
from .registry import register_task

#: Speech Commands' ten core keywords, in Speech Commands' (and SUPERB's) label order.
SPOKEN_KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
#: Clips per word by default (240 train, 30 validation, 30 test).
DEFAULT_CLIPS_PER_WORD = 300
DEFAULT_SEED = 0
SAMPLING_RATE = 16_000
ESPEAK = "espeak-ng"
ESPEAK_RATE = 22_050
# English voices of espeak-ng's own data (mbrola voices need extra packages)
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029")
VARIANTS = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
    "croak", "klatt", "klatt3", "Andy", "Annie", "Denis", "Gene", "Jacky", "Lee", "Storm",
)  # fmt: skip
SPEED_RANGE = (110, 210)
PITCH_RANGE = (20, 80)
SNR_DB_RANGE = (5.0, 25.0)
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
# Bump when the generation changes: cached copies made by an older generator are then not reused.
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class ClipSpec:
    """How one clip is made."""

    word: str
    accent: str
    variant: str
    speed: int
    pitch: int
    offset: float  # share of the free time before the word
    gain: float
    snr_db: float
    noise_pole: float  # one-pole low-pass coefficient of the noise (0: white)
    noise_seed: int


def clip_spec(seed: int, word_index: int, k: int) -> ClipSpec:
    """Clip ``k`` of word ``word_index``: its own generator, so a clip never depends on the others."""
    rng = np.random.default_rng([seed, word_index, k])
    return ClipSpec(
        word=SPOKEN_KEYWORDS[word_index],
        accent=str(rng.choice(ACCENTS)),
        variant=str(rng.choice(VARIANTS)),
        speed=int(rng.integers(SPEED_RANGE[0], SPEED_RANGE[1] + 1)),
        pitch=int(rng.integers(PITCH_RANGE[0], PITCH_RANGE[1] + 1)),
        offset=float(rng.uniform()),
        gain=float(rng.uniform(0.3, 0.9)),
        snr_db=float(rng.uniform(*SNR_DB_RANGE)),
        noise_pole=float(rng.uniform(0.0, 0.95)),
        noise_seed=int(rng.integers(2**31)),
    )


def espeak_version() -> str:
    """espeak-ng's version line, or a clear error when it is not installed."""
    if shutil.which(ESPEAK) is None:
        raise MubenchError(
            "the spoken_keywords task synthesises its clips with espeak-ng, which is not installed: "
            "apt-get install espeak-ng (Debian/Ubuntu)"
        )
    return subprocess.run([ESPEAK, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def _speak(spec: ClipSpec) -> np.ndarray:
    """espeak-ng's waveform of the word (float32 in [-1, 1] at 22,050 Hz)."""
    command = [ESPEAK, "-v", f"{spec.accent}+{spec.variant}", "-s", str(spec.speed), "-p", str(spec.pitch)]
    done = subprocess.run([*command, "--stdout", spec.word], capture_output=True, check=False)
    if done.returncode != 0 or not done.stdout:
        raise MubenchError(f"espeak-ng failed on {command + [spec.word]}: {done.stderr.decode().strip()}")
    with wave.open(io.BytesIO(done.stdout)) as reader:
        rate, frames = reader.getframerate(), reader.readframes(reader.getnframes())
    if rate != ESPEAK_RATE:
        raise MubenchError(f"espeak-ng wrote {rate} Hz audio, expected {ESPEAK_RATE} Hz")
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0


def render_clip(spec: ClipSpec, speech: np.ndarray) -> np.ndarray:
    """The 1 s, 16 kHz clip: speech trimmed, resampled, placed, scaled and mixed with noise."""
    from scipy.signal import lfilter, resample_poly

    loud = np.flatnonzero(np.abs(speech) > 0.02 * max(float(np.abs(speech).max()), 1e-6))
    if len(loud):
        speech = speech[loud[0] : loud[-1] + 1]
    speech = resample_poly(speech, 320, 441).astype(np.float32)[:SAMPLING_RATE]  # 22,050 → 16,000 Hz
    peak = float(np.abs(speech).max()) or 1.0
    speech = speech * (spec.gain / peak)
    clip = np.zeros(SAMPLING_RATE, dtype=np.float32)
    start = int(spec.offset * (SAMPLING_RATE - len(speech)))
    clip[start : start + len(speech)] = speech
    noise = np.random.default_rng(spec.noise_seed).standard_normal(SAMPLING_RATE)
    noise = lfilter([1.0 - spec.noise_pole], [1.0, -spec.noise_pole], noise)
    speech_rms = float(np.sqrt(np.mean(speech**2))) or 1e-3
    noise *= speech_rms / (float(np.sqrt(np.mean(noise**2))) or 1.0) / 10 ** (spec.snr_db / 20)
    return np.clip(clip + noise.astype(np.float32), -1.0, 1.0)


def wav_bytes(clip: np.ndarray, rate: int = SAMPLING_RATE) -> bytes:
    """A mono 16-bit PCM WAV file of ``clip`` (floats in [-1, 1])."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.round(np.clip(clip, -1.0, 1.0) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def make_clip(spec: ClipSpec) -> bytes:
    """One clip as WAV bytes."""
    return wav_bytes(render_clip(spec, _speak(spec)))


def cache_root() -> Path:
    """Where generated data are kept: ``$MUBENCH_CACHE``, else ``$XDG_CACHE_HOME``, else ``~/.cache``,
    then ``mubench-hf/``."""
    base = os.environ.get("MUBENCH_CACHE") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mubench-hf"


def _split_of(seed: int, word_index: int, clips_per_word: int) -> dict[str, np.ndarray]:
    order = np.random.default_rng([seed, word_index, 2**31]).permutation(clips_per_word)
    n_train = int(round(SPLIT_FRACTIONS[0] * clips_per_word))
    n_validation = int(round(SPLIT_FRACTIONS[1] * clips_per_word))
    return {
        "train": np.sort(order[:n_train]),
        "validation": np.sort(order[n_train : n_train + n_validation]),
        "test": np.sort(order[n_train + n_validation :]),
    }


def generate_spoken_keywords(
    clips_per_word: int = DEFAULT_CLIPS_PER_WORD, seed: int = DEFAULT_SEED, *, workers: int | None = None,
    show_progress: bool = True,
) -> datasets.DatasetDict:  # fmt: skip
    """Synthesise the task (no cache): ``train`` / ``validation`` / ``test`` with ``audio`` and ``label``."""
    if clips_per_word < 10:
        raise MubenchError(
            f"clips_per_word must be at least 10 (1 each for validation and test), got {clips_per_word}"
        )
    espeak_version()
    from tqdm.auto import tqdm

    specs = [clip_spec(seed, w, k) for w in range(len(SPOKEN_KEYWORDS)) for k in range(clips_per_word)]
    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:  # espeak-ng runs in subprocesses
        clips = list(
            tqdm(
                pool.map(make_clip, specs),
                total=len(specs),
                desc="spoken keywords",
                disable=not show_progress,
            )
        )
    features = datasets.Features(
        {
            "audio": datasets.Audio(sampling_rate=SAMPLING_RATE),
            "label": datasets.ClassLabel(names=list(SPOKEN_KEYWORDS)),
        }
    )
    rows: dict[str, dict[str, list]] = {
        name: {"audio": [], "label": []} for name in ("train", "validation", "test")
    }
    for w, word in enumerate(SPOKEN_KEYWORDS):
        for name, ks in _split_of(seed, w, clips_per_word).items():
            for k in ks:
                rows[name]["audio"].append(
                    {"bytes": clips[w * clips_per_word + int(k)], "path": f"{word}_{k:04d}.wav"}
                )
                rows[name]["label"].append(w)
    return datasets.DatasetDict(
        {name: datasets.Dataset.from_dict(data, features=features) for name, data in rows.items()}
    )


def load_spoken_keywords_splits(
    clips_per_word: int = DEFAULT_CLIPS_PER_WORD, seed: int = DEFAULT_SEED, *, cache_dir: str | os.PathLike | None = None,
    show_progress: bool = True,
) -> datasets.DatasetDict:  # fmt: skip
    """The task's splits, generated once and then read from the cache (see the module docstring)."""
    version = espeak_version()
    key = hashlib.sha256(f"{GENERATOR_VERSION}|{seed}|{clips_per_word}|{version}".encode()).hexdigest()[:16]
    folder = Path(cache_dir) if cache_dir is not None else cache_root() / "spoken_keywords"
    target = folder / f"seed{seed}-n{clips_per_word}-{key}"
    if not (target / "dataset_dict.json").is_file():
        data = generate_spoken_keywords(clips_per_word, seed, show_progress=show_progress)
        folder.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder))
        bars = datasets.is_progress_bar_enabled()
        if not show_progress:
            datasets.disable_progress_bars()
        try:
            data.save_to_disk(str(scratch / "data"))
            try:
                os.replace(scratch / "data", target)
            except OSError:  # another process finished first: keep its copy
                if not (target / "dataset_dict.json").is_file():
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
            if bars and not show_progress:
                datasets.enable_progress_bars()
    return datasets.load_from_disk(str(target))


SPOKEN_KEYWORDS_TASK = register_task(
    Task(
        name="spoken_keywords",
        modality="audio",
        class_names=SPOKEN_KEYWORDS,
        description="Speech Commands' ten core words spoken by espeak-ng (7 accents x 22 voice variants, "
        "varied speed and pitch) over seeded background noise, 1 s at 16 kHz, offline.",
        loader=load_spoken_keywords_splits,
        validation_split="validation",
        license="cc0-1.0",
        split_note="synthesised by Debian espeak-ng from seed 0, 300 clips per word split 80/10/10 per word: "
        "2,400 train / 300 validation / 300 test (mubench_hf/tasks/spoken_keywords.py)",
    )
)
