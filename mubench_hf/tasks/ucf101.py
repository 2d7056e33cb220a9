"""UCF101 (101 human actions, MU-Bench's video task) from its Hub copy, one row per frame, made into clips.

MU-Bench reads the original UCF101 ``.avi`` files (split 1) through pytorchvideo. The Hub has no
parquet copy that keeps the videos whole; ``flwrlabs/ucf101`` (parquet, the copy ``mteb/ucf101``
duplicates) holds every frame of split 1 as its own row: ``image`` (the frame), ``video_id``,
``clip_id``, ``frame`` (its index in the clip) and ``label`` (101 classes), in splits ``train``
(1.79M frames, 9,537 clips) and ``test`` (697k frames, 3,783 clips). Loading the task puts the frames of
each (``video_id``, ``clip_id``) back in ``frame`` order and encodes them as one H.264 clip
(``modalities.video.encode_clip``), so the canonical splits have one row per clip in a ``video`` column.
Clips are ordered by (``video_id``, ``clip_id``); ``sample_id`` is that position.

Its label ids follow Python's sort of the class names (upper case before lower case, so ``HammerThrow``
is 34 and ``Hammering`` 35), not the order of UCF101's ``classInd.txt``; ``UCF101_CLASS_NAMES`` is that
list, and a source whose ``ClassLabel`` names differ is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets
import numpy as np
from tqdm.auto import tqdm

from ..errors import MubenchError
from .base import HubSource, Task
from .registry import register_task

UCF101_REPO = "flwrlabs/ucf101"
UCF101_CITATION = """@article{soomro2012ucf101,
  title   = {UCF101: A Dataset of 101 Human Actions Classes From Videos in The Wild},
  author  = {Soomro, Khurram and Zamir, Amir Roshan and Shah, Mubarak},
  journal = {arXiv preprint arXiv:1212.0402},
  year    = {2012}
}"""

UCF101_CLASS_NAMES = tuple(
    sorted(
        """
    ApplyEyeMakeup ApplyLipstick Archery BabyCrawling BalanceBeam BandMarching BaseballPitch Basketball
    BasketballDunk BenchPress Biking Billiards BlowDryHair BlowingCandles BodyWeightSquats Bowling
    BoxingPunchingBag BoxingSpeedBag BreastStroke BrushingTeeth CleanAndJerk CliffDiving CricketBowling
    CricketShot CuttingInKitchen Diving Drumming Fencing FieldHockeyPenalty FloorGymnastics FrisbeeCatch
    FrontCrawl GolfSwing Haircut Hammering HammerThrow HandstandPushups HandstandWalking HeadMassage
    HighJump HorseRace HorseRiding HulaHoop IceDancing JavelinThrow JugglingBalls JumpingJack JumpRope
    Kayaking Knitting LongJump Lunges MilitaryParade Mixing MoppingFloor Nunchucks ParallelBars
    PizzaTossing PlayingCello PlayingDaf PlayingDhol PlayingFlute PlayingGuitar PlayingPiano PlayingSitar
    PlayingTabla PlayingViolin PoleVault PommelHorse PullUps Punch PushUps Rafting RockClimbingIndoor
    RopeClimbing Rowing SalsaSpin ShavingBeard Shotput SkateBoarding Skiing Skijet SkyDiving
    SoccerJuggling SoccerPenalty StillRings SumoWrestling Surfing Swing TableTennisShot TaiChi TennisSwing
    ThrowDiscus TrampolineJumping Typing UnevenBars VolleyballSpiking WalkingWithDog WallPushups
    WritingOnBoard YoYo
    """.split()
    )
)
UCF101_FRAME_RATE = 25.0  # UCF101's videos are 25 fps


def frames_to_clips(
    frames: datasets.Dataset,
    *,
    frame_column: str = "image",
    clip_columns: tuple[str, ...] = ("video_id", "clip_id"),
    order_column: str = "frame",
    label_column: str = "label",
    frame_rate: float = UCF101_FRAME_RATE,
    show_progress: bool = True,
) -> datasets.Dataset:
    """One row per clip (``video`` and ``label``) from a split that has one row per frame.

    Frames are grouped by ``clip_columns``, put in ``order_column`` order and encoded as H.264 (lossy,
    as UCF101's own files are: lossless frames of 13k clips would take hundreds of GB). A clip whose
    frames disagree on the label is an error that names it."""
    from ..modalities.video import VideoModality, encode_clip

    needed = [frame_column, *clip_columns, order_column, label_column]
    missing = [c for c in needed if c not in frames.column_names]
    if missing:
        raise MubenchError(
            f"a per-frame source needs the columns {needed}; {missing} missing (it has {frames.column_names})"
        )
    table = frames.with_format(None).select_columns([*clip_columns, order_column, label_column])[:]
    keys = list(zip(*(table[c] for c in clip_columns)))
    order = np.asarray(table[order_column], dtype=np.int64)
    labels = np.asarray(table[label_column], dtype=np.int64)
    groups: dict[tuple, list[int]] = {}
    for row, key in enumerate(keys):
        groups.setdefault(key, []).append(row)
    images = frames.with_format(None).select_columns([frame_column])
    videos, clip_labels = [], []
    for key in tqdm(sorted(groups), desc="frames to clips", disable=not show_progress):
        rows = sorted(groups[key], key=lambda r: order[r])
        label = set(labels[rows].tolist())
        if len(label) != 1:
            raise MubenchError(f"clip {key} has frames of several labels {sorted(label)}")
        pictures = images[rows][frame_column]
        clip = np.stack([np.asarray(p.convert("RGB"), dtype=np.uint8) for p in pictures])
        videos.append(encode_clip(clip, frame_rate=frame_rate, lossless=False))
        clip_labels.append(label.pop())
    features = datasets.Features(
        {"video": VideoModality().input_feature(), "label": frames.features[label_column]}
    )
    return datasets.Dataset.from_dict({"video": videos, "label": clip_labels}, features=features)


@dataclass(frozen=True)
class FrameClipTask(Task):
    """A video task whose source stores one row per frame: loading makes one row per clip
    (:func:`frames_to_clips`); a source that already has clips (a ``video`` column) is taken as it is."""

    frame_column: str = "image"
    clip_columns: tuple[str, ...] = ("video_id", "clip_id")
    order_column: str = "frame"
    frame_rate: float = UCF101_FRAME_RATE

    def _load_raw(self, source):  # type: ignore[no-untyped-def]
        raw = super()._load_raw(source)
        out = {}
        for name, split in raw.items():
            if self.input_column in split.column_names or self.frame_column not in split.column_names:
                out[name] = split
                continue
            self._check_class_names(split, name)
            out[name] = frames_to_clips(
                split,
                frame_column=self.frame_column,
                clip_columns=self.clip_columns,
                order_column=self.order_column,
                frame_rate=self.frame_rate,
            )
        return datasets.DatasetDict(out)

    def _check_class_names(self, split: datasets.Dataset, name: str) -> None:
        feature = split.features.get("label")
        if isinstance(feature, datasets.ClassLabel) and tuple(feature.names) != self.class_names:
            differ = [(i, a, b) for i, (a, b) in enumerate(zip(feature.names, self.class_names)) if a != b]
            raise MubenchError(
                f"task {self.name!r}: split {name!r} numbers its classes differently from the task "
                f"(first difference: id {differ[0][0]} is {differ[0][1]!r} there, {differ[0][2]!r} here)"
                if differ
                else f"task {self.name!r}: split {name!r} has {feature.num_classes} classes, "
                f"the task {self.num_labels}"
            )


UCF101 = register_task(
    FrameClipTask(
        name="ucf101",
        modality="video",
        class_names=UCF101_CLASS_NAMES,
        description="UCF101 split 1: 13,320 YouTube clips of 101 human actions (9,537 train / 3,783 test).",
        hub=HubSource(UCF101_REPO, column_mapping={"label": "label"}),
        license="unknown",
        source_citation=UCF101_CITATION,
        split_note="flwrlabs/ucf101 stores one row per frame; each (video_id, clip_id) becomes one H.264 clip",
    )
)
