"""Moving digits: an offline video-classification task whose class is the motion of a digit.

Every clip shows one of scikit-learn's 1,797 real handwritten digits (8x8, scaled to 0..255) moving in a
straight line across a dark 16x16 frame for 8 frames. The class is the motion: one of four directions
(right, left, down, up) at one of two speeds (0.5 or 1 pixel per frame), 8 classes. What varies within a
class, so the model must read the motion rather than the picture: which digit, its brightness (0.6..1),
where the path starts (anywhere the whole path fits, and anywhere across it), and Gaussian pixel noise
(sigma 8). Sub-pixel positions are drawn with bilinear interpolation.

Generation is deterministic: ``numpy.random.default_rng(MOVING_DIGITS_SEED)`` draws the balanced classes
(``rng.permutation(arange(n) % 8)``) and every clip's settings in row order, and clips are stored as
lossless FFV1 in Matroska (``modalities.video.encode_clip``), so the same frames come back. The split is the
digits task's: ``train_test_split(random_state=0)`` stratified by class, 20 % test (360 clips), then 1/8
of the rest validation (180); train keeps 1,257. Building all 1,797 clips takes about 2 s on one core, so
nothing is cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
from tqdm.auto import tqdm

from .base import Task
from .registry import register_task

MOVING_DIGITS_SEED = 0
FRAME_SIZE = 16
NUM_FRAMES = 8
DIGIT_SIZE = 8
NOISE_SIGMA = 8.0
SPEEDS = {"slow": 0.5, "fast": 1.0}  # pixels per frame
DIRECTIONS = {"right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0)}  # (dy, dx)
MOVING_DIGITS_CLASS_NAMES = tuple(f"{d}_{s}" for s in SPEEDS for d in DIRECTIONS)
SPLIT_SEED = 0
TEST_FRACTION = 0.2
VALIDATION_FRACTION_OF_REST = 0.125

# The base/retrain recipe of moving_digits with tiny:videomae (a video transformer from scratch): a warm-up
# over the first 10 % of steps and 10 epochs. Measured test accuracy through train_base 0.961 / 0.986 (seeds
# 0 / 1), 0.975 (seed 0, ATEN_CPU_CAPABILITY=default), 0.950 (seed 42, mubench run); chance 0.125. Without
# the warm-up, in 8 epochs, the same model stopped between 0.8 and 0.9 in a plain training loop.
MOVING_DIGITS_RECIPE: dict[str, Any] = {
    "num_train_epochs": 10.0,
    "learning_rate": 3e-3,
    "warmup_steps": 0.1,
    "per_device_train_batch_size": 32,
}


def _place(digit: np.ndarray, y: float, x: float) -> np.ndarray:
    """``digit`` drawn on an empty frame with its top-left corner at (y, x), bilinearly between pixels."""
    frame = np.zeros((FRAME_SIZE + 1, FRAME_SIZE + 1), dtype=np.float64)
    y0, x0 = int(np.floor(y)), int(np.floor(x))
    fy, fx = y - y0, x - x0
    for dy, wy in ((0, 1.0 - fy), (1, fy)):
        for dx, wx in ((0, 1.0 - fx), (1, fx)):
            if wy * wx > 0:
                frame[y0 + dy : y0 + dy + DIGIT_SIZE, x0 + dx : x0 + dx + DIGIT_SIZE] += wy * wx * digit
    return frame[:FRAME_SIZE, :FRAME_SIZE]


def moving_digit_clip(digit: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """The uint8 frames ``[NUM_FRAMES, FRAME_SIZE, FRAME_SIZE]`` of ``digit`` (8x8, 0..255) moving as
    class ``label`` says; ``rng`` draws the brightness, the start of the path and the noise."""
    direction, speed = MOVING_DIGITS_CLASS_NAMES[label].split("_")
    (dy, dx), step = DIRECTIONS[direction], SPEEDS[speed]
    travel = step * (NUM_FRAMES - 1)
    room = FRAME_SIZE - DIGIT_SIZE  # how far the top-left corner can go
    along = rng.uniform(0.0, room - travel)  # where the path starts along its axis
    across = rng.uniform(0.0, room)
    brightness = rng.uniform(0.6, 1.0)
    frames = np.empty((NUM_FRAMES, FRAME_SIZE, FRAME_SIZE), dtype=np.float64)
    for t in range(NUM_FRAMES):
        offset = along + step * t
        # moving up or left starts at the far end of the path
        position = offset if dy + dx > 0 else room - offset
        y, x = (position, across) if dy else (across, position)
        frames[t] = _place(digit * brightness, y, x)
    frames += rng.normal(0.0, NOISE_SIGMA, size=frames.shape)
    return np.clip(np.rint(frames), 0, 255).astype(np.uint8)


def moving_digits_features() -> datasets.Features:
    from ..modalities.video import VideoModality

    return datasets.Features(
        {
            "video": VideoModality().input_feature(),
            "label": datasets.ClassLabel(names=list(MOVING_DIGITS_CLASS_NAMES)),
        }
    )


def load_moving_digits_splits(show_progress: bool = False) -> datasets.DatasetDict:
    """The moving-digits clips as ``train`` / ``validation`` / ``test`` with ``video`` and ``label``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from ..modalities.video import encode_clip

    digits = np.rint(load_digits().images * (255.0 / 16.0))
    n = len(digits)
    rng = np.random.default_rng(MOVING_DIGITS_SEED)
    labels = rng.permutation(np.arange(n) % len(MOVING_DIGITS_CLASS_NAMES)).astype(np.int64)
    clips = [
        encode_clip(moving_digit_clip(digits[i], int(labels[i]), rng))
        for i in tqdm(range(n), desc="moving digits", disable=not show_progress)
    ]
    rows = np.arange(n)
    rest, test = train_test_split(rows, test_size=TEST_FRACTION, random_state=SPLIT_SEED, stratify=labels)
    train, validation = train_test_split(
        rest, test_size=VALIDATION_FRACTION_OF_REST, random_state=SPLIT_SEED, stratify=labels[rest]
    )
    features = moving_digits_features()

    def make(idx: np.ndarray) -> datasets.Dataset:
        idx = np.sort(idx)  # generation order inside each split: stable sample ids
        return datasets.Dataset.from_dict(
            {"video": [clips[i] for i in idx], "label": labels[idx].tolist()}, features=features
        )

    return datasets.DatasetDict({"train": make(train), "validation": make(validation), "test": make(test)})


@dataclass(frozen=True)
class MovingDigitsTask(Task):
    """The moving-digits task: a ``Task`` whose base and retrain models default to
    ``MOVING_DIGITS_RECIPE``."""

    def recipe_defaults(self) -> dict[str, Any]:
        return dict(MOVING_DIGITS_RECIPE)


MOVING_DIGITS = register_task(
    MovingDigitsTask(
        name="moving_digits",
        modality="video",
        class_names=MOVING_DIGITS_CLASS_NAMES,
        description="Clips of scikit-learn's handwritten digits moving across a 16x16 frame for 8 frames; "
        "the class is the motion (4 directions x 2 speeds), offline.",
        loader=load_moving_digits_splits,
        validation_split="validation",
        license="cc-by-4.0",
        split_note="one clip per sklearn digit, motions drawn with numpy default_rng(0); stratified split, "
        "random_state=0: 1,257 train / 180 validation / 360 test",
    )
)
