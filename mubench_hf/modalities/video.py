"""Video: a ``video`` column of ``datasets.Video`` clips, classified by ``AutoModelForVideoClassification``.

Storage. Clips are stored as encoded video files (bytes of any container FFmpeg reads) in a ``datasets.Video(decode=False)`` column:
the ``datasets`` video type, whose decoder (torchcodec, on FFmpeg's shared libraries) is only run by this
modality. ``datasets`` would otherwise open a ``VideoDecoder`` every time a row is read, i.e. once per
epoch for every clip; a reader who wants decoders calls ``split.cast_column("video", datasets.Video())``.

Decoding happens once per clip. The transform decodes a clip the first time it meets it, samples its
frames to the model's frame count and, for models built from a config, resizes them to the model's
``image_size``; the uint8 result is kept in memory under a digest of the file's bytes, so every later
epoch, and the forget / retain / train splits that share rows, reuse it (``cache_bytes`` caps the memory;
past the cap, clips are decoded on every read and a warning says so once). With ``dataloader_num_workers`` > 0
each worker process keeps its own cache, so keep ``dataloader_persistent_workers=True`` there.

Frame count. A clip whose frame count differs from the model's ``num_frames`` is resampled in time, as
VideoMAE's recipes do: frames at ``round(linspace(0, n - 1, num_frames))``, so longer clips are thinned
evenly and shorter ones repeat frames evenly. A clip with no frame, or bytes FFmpeg cannot read, is an
error that names the row's ``sample_id``.

Processors. With a checkpoint, VideoMAE's processor (``AutoImageProcessor`` gives
``VideoMAEImageProcessor``, or ``VideoMAEImageProcessorPil`` without torchvision) resizes, crops and
normalises the sampled frames. Models built from a config take the frames resized to their
``image_size`` and scaled to [-1, 1], as the image modality does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import datasets

from ..errors import MubenchError
from .base import LABEL_COLUMN, Collator, Modality, Transform, register_modality
from .image import _config_of
from .video_clips import (
    DEFAULT_CACHE_BYTES,
    ClipCache,
    clip_bytes,
    clip_shape,
    decode_clip,
    encode_clip,
    frames_of,
    sample_frame_indices,
)

SAMPLE_ID_KEY = "sample_id"  # the canonical row id (tasks.base.SAMPLE_ID_COLUMN), named in errors


# ------------------------------------------------------------------------------------ transform
def _model_frames(config: Any) -> int:
    frames = getattr(config, "num_frames", None)
    if not frames:
        raise MubenchError(
            f"a {type(config).__name__} has no num_frames: video tasks need a video model "
            "(e.g. VideoMAE, tiny:videomae)"
        )
    return int(frames)


def _model_size(config: Any) -> tuple[int, int] | None:
    size = getattr(config, "image_size", None)
    if size is None:
        return None
    if isinstance(size, int):
        return size, size
    return int(size[0]), int(size[1])


class VideoTransform:
    """The batch transform of video rows: ``pixel_values`` ``[T, C, H, W]`` float tensors and ``labels``.

    Each clip is decoded once (see the module docstring); ``processor`` (VideoMAE's image processor) then
    turns the sampled frames into model inputs, or, without one, the frames are resized to the model's
    ``image_size`` (at decode time, so that is done once too) and scaled to [-1, 1].
    """

    def __init__(
        self,
        model_or_config: Any,
        processor: Any = None,
        *,
        input_column: str = "video",
        label_column: str = LABEL_COLUMN,
        cache_bytes: int | None = DEFAULT_CACHE_BYTES,
    ) -> None:
        config = _config_of(model_or_config)
        self.num_frames = _model_frames(config)
        self.num_channels = int(getattr(config, "num_channels", 3))
        if self.num_channels not in (1, 3):
            raise MubenchError(
                f"video frames feed models with 1 or 3 channels, the model has {self.num_channels}"
            )
        self.size = None if processor is not None else _model_size(config)
        self.processor = processor
        self.input_column = input_column
        self.label_column = label_column
        self.cache = ClipCache(cache_bytes)

    def _decode(self, data: bytes) -> Any:
        import torch

        frames = decode_clip(data, self.num_frames)  # uint8 [T, 3, H, W]
        if self.size is not None and tuple(frames.shape[-2:]) != self.size:
            frames = torch.nn.functional.interpolate(
                frames.float(), size=self.size, mode="bilinear", align_corners=False, antialias=True
            )
            frames = frames.round().clamp_(0, 255).to(torch.uint8)
        return frames.contiguous()

    def frames(self, value: Any, row_id: Any = None) -> Any:
        """The sampled uint8 frames ``[T, 3, H, W]`` of one row's video (decoded at most once)."""
        try:
            return self.cache.get(clip_bytes(value), self._decode)
        except MubenchError as err:
            raise MubenchError(f"{_row(row_id)}: {err}") from None
        except (RuntimeError, ValueError, OSError) as err:  # what torchcodec raises for unreadable bytes
            first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
            raise MubenchError(f"{_row(row_id)}: the video does not decode ({first})") from None

    def _pixels(self, frames: Any) -> Any:
        import torch

        if self.processor is not None:
            if self.num_channels == 1:
                frames = frames.float().mean(dim=1, keepdim=True).round().to(torch.uint8)
            out = self.processor(list(frames), return_tensors="pt")["pixel_values"]
            return out[0]
        pixels = frames.float() / 127.5 - 1.0
        if self.num_channels == 1:
            pixels = pixels.mean(dim=1, keepdim=True)
        return pixels

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        videos = batch[self.input_column]
        ids = batch.get(SAMPLE_ID_KEY) or [None] * len(videos)
        out: dict[str, list] = {
            "pixel_values": [self._pixels(self.frames(video, row)) for video, row in zip(videos, ids)]
        }
        if self.label_column in batch:
            out["labels"] = list(batch[self.label_column])
        return out


def _row(row_id: Any) -> str:
    return "a video row" if row_id is None else f"video row sample_id={row_id}"


def video_transform(
    model_or_config: Any,
    processor: Any = None,
    *,
    input_column: str = "video",
    label_column: str = LABEL_COLUMN,
    cache_bytes: int | None = DEFAULT_CACHE_BYTES,
) -> Transform:
    """A batch transform for video rows (see :class:`VideoTransform`)."""
    return VideoTransform(
        model_or_config,
        processor,
        input_column=input_column,
        label_column=label_column,
        cache_bytes=cache_bytes,
    )


class VideoCollator:
    """Stacks clips into ``pixel_values`` ``[B, T, C, H, W]`` and ``labels``; clips of different shapes
    (a processor without a fixed crop) are an error that says which shapes met."""

    def __call__(self, features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        import torch

        shapes = {tuple(f["pixel_values"].shape) for f in features}
        if len(shapes) > 1:
            raise MubenchError(
                f"clips of different shapes in one batch: {sorted(shapes)}; give the processor a fixed "
                "crop_size (or build the model from a config, whose clips are resized to its image_size)"
            )
        batch: dict[str, Any] = {"pixel_values": torch.stack([f["pixel_values"] for f in features])}
        for key in ("labels", "label", "label_ids"):
            if key in features[0]:
                batch["labels"] = torch.tensor([int(f[key]) for f in features], dtype=torch.long)
                break
        return batch


# ------------------------------------------------------------------------------------ modality
class VideoModality(Modality):
    name = "video"
    input_column = "video"
    pipeline_tag = "video-classification"

    def input_feature(self) -> datasets.Video:
        # decode=False: the modality decodes each clip once (module docstring), not datasets on every read
        return datasets.Video(decode=False)

    def auto_class(self) -> type:
        from transformers import AutoModelForVideoClassification

        return AutoModelForVideoClassification

    def processor_class(self) -> type:
        # VideoMAE checkpoints ship a preprocessor_config.json for VideoMAEImageProcessor; AutoImageProcessor
        # loads it with or without torchvision (AutoVideoProcessor needs torchvision)
        from transformers import AutoImageProcessor

        return AutoImageProcessor

    def without_processor(self, source: str | None) -> None:
        # models built from a config, and checkpoints without a processor: frames resized to image_size
        return None

    def transform(
        self,
        model_or_config: Any,
        processor: Any,
        *,
        input_column: str,
        label_column: str = LABEL_COLUMN,
        **options: Any,
    ) -> Transform:
        return video_transform(
            model_or_config, processor, input_column=input_column, label_column=label_column, **options
        )

    def collator(self, processor: Any) -> Collator:
        return VideoCollator()

    def tiny_configs(self) -> Mapping[str, tuple[type, dict[str, Any]]]:
        from transformers import VideoMAEConfig

        return {
            # 2 layers, hidden size 64, tubelets of 4 frames x 4 x 4 pixels (2 x 16 tokens for 8 frames of
            # 16 x 16), mean pooling; ~75k weights. On moving_digits, hidden size 32 or tubelets of 2 frames
            # learnt the motion far more slowly (test accuracy ~0.4 after 8 epochs against ~0.9).
            "videomae": (
                VideoMAEConfig,
                dict(
                    image_size=16,
                    patch_size=4,
                    num_channels=3,
                    num_frames=8,
                    tubelet_size=4,
                    hidden_size=64,
                    num_hidden_layers=2,
                    num_attention_heads=2,
                    intermediate_size=128,
                    hidden_dropout_prob=0.0,
                    attention_probs_dropout_prob=0.0,
                    use_mean_pooling=True,
                ),
            ),
        }

    def data_hints(self, sample: Any, input_column: str) -> dict[str, Any]:
        rows = sample.with_format(None) if hasattr(sample, "with_format") else sample
        if not len(rows):
            return {}
        frames, height, width = clip_shape(rows[0][input_column])
        return {"num_frames": frames, "frame_size": min(height, width)}

    def adapt_config(
        self, config: Any, *, num_frames: int | None = None, frame_size: int | None = None, **hints: Any
    ) -> None:
        # a model built from a config takes the data's clips as they are: its frame count (a whole number
        # of tubelets) and its frame size (a whole number of patches)
        tubelet = int(getattr(config, "tubelet_size", 1))
        if num_frames and hasattr(config, "num_frames") and num_frames >= tubelet:
            config.num_frames = num_frames - num_frames % tubelet
        patch = int(getattr(config, "patch_size", 1))
        if frame_size and hasattr(config, "image_size") and frame_size >= patch:
            config.image_size = frame_size - frame_size % patch


__all__ = [
    "ClipCache",
    "VideoCollator",
    "VideoModality",
    "VideoTransform",
    "clip_shape",
    "decode_clip",
    "encode_clip",
    "frames_of",
    "sample_frame_indices",
    "video_transform",
]

VIDEO = register_modality(VideoModality())
