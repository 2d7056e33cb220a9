"""Video clips as bytes: encoding frames into a ``datasets.Video`` value (lossless FFV1 or H.264), decoding
a stored clip (resampled in time to a model's frame count), and the in-memory cache of decoded clips that
makes decoding happen once per clip (see :mod:`mubench_hf.modalities.video`)."""

from __future__ import annotations

import hashlib
import warnings
from typing import Any

import numpy as np

from ..errors import MubenchError

DEFAULT_CACHE_BYTES = 2 * 1024**3  # decoded clips kept in memory per transform (uint8 frames)
CLIP_FRAME_RATE = 8.0
# The containers' random segment ids and dates left out: the same frames give the same bytes, so a rebuilt
# split has the same files and manifest hash.
BITEXACT = {"fflags": "+bitexact"}


# ------------------------------------------------------------------------------------ encoding
def encode_clip(
    frames: np.ndarray, *, frame_rate: float = CLIP_FRAME_RATE, lossless: bool = True
) -> dict[str, Any]:
    """A clip of uint8 frames ``[T, H, W, 3]`` (or ``[T, H, W]`` grey) as a ``datasets.Video`` value.

    ``lossless``: FFV1 (FFmpeg's lossless codec, RGB pixels) in a Matroska container, so decoding gives
    the frames back exactly; about 0.3 ms a small clip (lossless H.264 took ten times as long). Otherwise
    H.264 (``libx264``, yuv420p, crf 23) in mp4, for real footage (height and width must be even)."""
    import torch
    from torchcodec.encoders import VideoEncoder

    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        raise MubenchError(f"video frames must be uint8, got {frames.dtype}")
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=-1)
    if frames.ndim != 4 or frames.shape[-1] != 3 or len(frames) == 0:
        raise MubenchError(f"a clip is frames [T, H, W, 3] with T >= 1, got shape {frames.shape}")
    tensor = torch.from_numpy(np.ascontiguousarray(frames.transpose(0, 3, 1, 2)))
    encoder = VideoEncoder(tensor, frame_rate=frame_rate)
    if lossless:
        encoded = encoder.to_tensor("mkv", codec="ffv1", pixel_format="bgr0", extra_options=BITEXACT)
        suffix = "mkv"
    else:
        if frames.shape[1] % 2 or frames.shape[2] % 2:
            raise MubenchError(f"H.264 clips need an even height and width, got {frames.shape[1:3]}")
        encoded = encoder.to_tensor(
            "mp4", codec="libx264", pixel_format="yuv420p", crf=23, extra_options=BITEXACT
        )
        suffix = "mp4"
    return {"bytes": encoded.numpy().tobytes(), "path": f"clip.{suffix}"}


# ------------------------------------------------------------------------------------ decoding
def clip_bytes(value: Any) -> bytes:
    """The encoded bytes of a row's video: a ``{"bytes", "path"}`` dict (``decode=False``), a path, or a
    ``VideoDecoder`` that ``datasets`` made (``decode=True``)."""
    encoded = getattr(value, "_hf_encoded", None)
    if encoded is not None:  # a decoder built by datasets.Video: read its source again
        value = encoded
    if isinstance(value, dict):
        data, path = value.get("bytes"), value.get("path")
        if data is not None:
            return bytes(data)
        value = path
    if isinstance(value, str):
        with open(value, "rb") as handle:
            return handle.read()
    raise MubenchError(f"a video row must hold an encoded clip (bytes or a path), got {type(value).__name__}")


def sample_frame_indices(num_source: int, num_frames: int) -> np.ndarray:
    """The frames a clip of ``num_source`` frames gives a model of ``num_frames``: evenly spaced,
    ``round(linspace(0, num_source - 1, num_frames))`` (all of them, in order, when the counts agree)."""
    if num_source < 1:
        raise MubenchError("the clip has no frames")
    return np.rint(np.linspace(0, num_source - 1, num_frames)).astype(np.int64)


def decode_clip(data: bytes, num_frames: int | None = None) -> Any:
    """Decode an encoded clip into uint8 frames ``[T, 3, H, W]`` (a torch tensor), resampled in time to
    ``num_frames`` when given."""
    from torchcodec.decoders import VideoDecoder

    decoder = VideoDecoder(data, seek_mode="exact", num_ffmpeg_threads=1)
    count = int(decoder.metadata.num_frames or 0)
    if count < 1:
        raise MubenchError("the clip has no frames")
    indices = range(count) if num_frames is None else sample_frame_indices(count, num_frames).tolist()
    return decoder.get_frames_at(indices=list(indices)).data


def clip_shape(value: Any) -> tuple[int, int, int]:
    """(frames, height, width) of one stored clip."""
    from torchcodec.decoders import VideoDecoder

    metadata = VideoDecoder(clip_bytes(value), seek_mode="exact").metadata
    return int(metadata.num_frames or 0), int(metadata.height), int(metadata.width)


class ClipCache:
    """Decoded clips by a digest of their bytes, up to ``max_bytes`` of frames."""

    def __init__(self, max_bytes: int | None = DEFAULT_CACHE_BYTES) -> None:
        if max_bytes is not None and max_bytes < 0:
            raise MubenchError(f"cache_bytes must be >= 0 (or None for no limit), got {max_bytes}")
        self.max_bytes = max_bytes
        self.clips: dict[bytes, Any] = {}
        self.size = 0
        self.decodes = 0  # clips decoded so far (a second decode of one clip means it did not fit)
        self._warned = False

    def get(self, data: bytes, make: Any) -> Any:
        key = hashlib.blake2b(data, digest_size=16).digest()
        clip = self.clips.get(key)
        if clip is not None:
            return clip
        clip = make(data)
        self.decodes += 1
        nbytes = clip.numel() * clip.element_size()
        if self.max_bytes is None or self.size + nbytes <= self.max_bytes:
            self.clips[key] = clip
            self.size += nbytes
        elif not self._warned:
            self._warned = True
            warnings.warn(
                f"decoded video clips fill the cache ({self.size / 2**20:.0f} MiB of cache_bytes="
                f"{self.max_bytes}); further clips are decoded on every read (raise cache_bytes, or resize "
                "the clips before building the splits)",
                stacklevel=2,
            )
        return clip


def frames_of(video: Any) -> np.ndarray:
    """Every frame of a stored clip as uint8 ``[T, H, W, 3]`` (for inspection and tests)."""
    return decode_clip(clip_bytes(video)).permute(0, 2, 3, 1).numpy()
