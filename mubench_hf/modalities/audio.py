"""Audio: an ``audio`` column of ``datasets.Audio(sampling_rate=16000)``, classified by
``AutoModelForAudioClassification`` (wav2vec2, HuBERT, Whisper's encoder, ...).

The processor is the model family's feature extractor: the checkpoint's own (``AutoFeatureExtractor``)
when there is one, else one built from the model's config (``Wav2Vec2FeatureExtractor`` for models
that read the raw waveform, ``WhisperFeatureExtractor`` sized to the encoder for Whisper), so tiny
models built from a config need no download.

Sampling rates: a source column at another rate is *resampled* when the task is loaded (the canonical
feature is ``Audio(sampling_rate=16000)``, whose decoder resamples); a feature extractor that expects
another rate, or a decoded waveform that reaches the transform at another rate, is *refused* with an
error that names both rates, because silently feeding 8 kHz features to a 16 kHz model trains on garbage.

Decoding and feature extraction are the slow part (opening one clip with FFmpeg costs milliseconds,
more than a tiny model's step on it), so ``prepare_split`` runs them once per split with
``Dataset.map`` (cached on disk next to the split, keyed by the split and the feature extractor) and
the training loop then only reads arrays: each row's features are stored flat and served as a copy of
its slice of the memory-mapped Arrow column, reshaped (``PreparedAudioRows``), because ``datasets``' own torch formatting of a
Whisper ``Array2D`` row cost ~3 ms, more than the tiny model's step on it. ``transform`` is the same
computation applied lazily.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import datasets
import numpy as np

from ..errors import MubenchError
from .audio_prepared import prepare_audio_split
from .base import LABEL_COLUMN, Collator, Modality, Transform, register_modality

#: The rate every audio task stores and every audio model here is fed (Speech Commands, SUPERB, wav2vec2).
SAMPLING_RATE = 16_000
#: Families whose model reads the raw waveform (``input_values``): Wav2Vec2FeatureExtractor fits them.
WAVEFORM_FAMILIES = (
    "wav2vec2",
    "hubert",
    "wavlm",
    "wav2vec2-conformer",
    "unispeech",
    "unispeech-sat",
    "data2vec-audio",
)
#: Whisper's log-mel frames per second (hop length 160 at 16 kHz).
WHISPER_HOP_LENGTH = 160


class SamplingRateError(MubenchError):
    """Audio or a feature extractor at another sampling rate than the task's."""


def _config_of(model_or_config: Any) -> Any:
    from transformers import PretrainedConfig

    if model_or_config is None or isinstance(model_or_config, PretrainedConfig):
        return model_or_config
    get_base_model = getattr(model_or_config, "get_base_model", None)
    model = get_base_model() if callable(get_base_model) else model_or_config
    return getattr(model, "config", None)


def default_feature_extractor(config: Any) -> Any:
    """The feature extractor of ``config``'s family, for a model built from a config (no checkpoint)."""
    from transformers import Wav2Vec2FeatureExtractor, WhisperFeatureExtractor

    model_type = getattr(config, "model_type", None)
    if model_type in WAVEFORM_FAMILIES:
        # layer-norm feature encoders are trained with an attention mask, group-norm ones without
        return Wav2Vec2FeatureExtractor(
            feature_size=1,
            sampling_rate=SAMPLING_RATE,
            padding_value=0.0,
            do_normalize=True,
            return_attention_mask=getattr(config, "feat_extract_norm", "group") == "layer",
        )
    if model_type == "whisper":
        # the encoder only accepts exactly 2 * max_source_positions frames: size the window to it
        samples = 2 * int(config.max_source_positions) * WHISPER_HOP_LENGTH
        if samples % SAMPLING_RATE:
            raise MubenchError(
                f"a Whisper config with max_source_positions={config.max_source_positions} reads "
                f"{samples / SAMPLING_RATE:g} s windows; give it a multiple of 50 (whole seconds), or pass "
                "--processor with a Whisper feature extractor"
            )
        return WhisperFeatureExtractor(
            feature_size=int(config.num_mel_bins),
            sampling_rate=SAMPLING_RATE,
            hop_length=WHISPER_HOP_LENGTH,
            chunk_length=samples // SAMPLING_RATE,
        )
    raise MubenchError(
        f"no feature extractor for a {model_type or type(config).__name__} model built from a config; known "
        f"families: {', '.join((*WAVEFORM_FAMILIES, 'whisper'))}; pass --processor (a folder or Hub id)"
    )


def check_sampling_rate(extractor: Any) -> None:
    """Refuse a feature extractor made for another rate than the tasks' 16 kHz."""
    rate = getattr(extractor, "sampling_rate", None)
    if rate is not None and int(rate) != SAMPLING_RATE:
        raise SamplingRateError(
            f"the feature extractor expects {int(rate)} Hz audio but audio tasks are stored at {SAMPLING_RATE} Hz; "
            f"use a model and feature extractor made for {SAMPLING_RATE} Hz audio"
        )


def decode_clip(value: Any, sampling_rate: int = SAMPLING_RATE) -> np.ndarray:
    """One clip as a mono float32 waveform at ``sampling_rate``.

    ``value`` is what a ``datasets.Audio`` column holds: a decoder (decoded columns), a dict with
    ``bytes``/``path`` (undecoded columns; decoded and resampled here), or a dict with ``array`` and
    ``sampling_rate`` (in-memory rows; must already be at ``sampling_rate``).
    """
    if isinstance(value, Mapping) and "array" in value:
        rate = value.get("sampling_rate")
        if rate is None or int(rate) != sampling_rate:
            raise SamplingRateError(
                f"an audio row is at {rate} Hz but the model reads {sampling_rate} Hz; resample it first "
                f"(cast the column to datasets.Audio(sampling_rate={sampling_rate}))"
            )
        array = np.asarray(value["array"], dtype=np.float32)
    else:
        if isinstance(value, Mapping):
            from torchcodec.decoders import AudioDecoder

            source = value.get("bytes") or value.get("path")
            if source is None:
                raise MubenchError("an audio row has neither bytes nor a path")
            value = AudioDecoder(source, sample_rate=sampling_rate)
        samples = value.get_all_samples()
        if int(samples.sample_rate) != sampling_rate:
            raise SamplingRateError(
                f"an audio clip decoded at {samples.sample_rate} Hz but the model reads {sampling_rate} Hz; "
                f"cast the column to datasets.Audio(sampling_rate={sampling_rate})"
            )
        array = samples.data.numpy().astype(np.float32, copy=False)
    # several channels: their mean, as datasets does for the "array" of a decoded clip
    return array.mean(axis=0) if array.ndim > 1 else array


class AudioTransform:
    """Rows with an audio column → the feature extractor's inputs and ``labels``.

    ``features(batch)`` returns NumPy arrays (what ``prepare_split`` stores); calling the transform
    returns torch tensors (what ``with_transform`` hands to the collator).
    """

    def __init__(
        self,
        extractor: Any,
        *,
        input_column: str = "audio",
        label_column: str = LABEL_COLUMN,
        max_seconds: float | None = None,
    ) -> None:
        check_sampling_rate(extractor)
        self.extractor = extractor
        self.input_column = input_column
        self.label_column = label_column
        self.max_samples = None if max_seconds is None else int(max_seconds * SAMPLING_RATE)
        self.input_names = list(getattr(extractor, "model_input_names", ["input_values"]))

    def fingerprint(self) -> str:
        """A digest of everything that decides the features (for the cache of ``prepare_split``)."""
        state = {"extractor": self.extractor.to_json_string(), "max_samples": self.max_samples}
        return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]

    def features(self, batch: Mapping[str, Sequence[Any]]) -> dict[str, list[np.ndarray]]:
        waves = [decode_clip(value) for value in batch[self.input_column]]
        if self.max_samples is not None:
            waves = [wave[: self.max_samples] for wave in waves]
        out = self.extractor(waves, sampling_rate=SAMPLING_RATE)
        # Whisper pads every clip to its window; waveform models are padded per batch by the collator
        # (each row keeps its own length here, so a batch never carries another batch's padding).
        result: dict[str, list[np.ndarray]] = {}
        for name in self.input_names:
            if name not in out:
                continue
            result[name] = [np.asarray(v) for v in out[name]]
        return result

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        import torch

        out: dict[str, list] = {
            name: [torch.from_numpy(np.ascontiguousarray(v)) for v in values]
            for name, values in self.features(batch).items()
        }
        if self.label_column in batch:
            out["labels"] = list(batch[self.label_column])
        return out


class AudioCollator:
    """Pads the rows of a batch to its longest clip (``input_values`` with the extractor's padding
    value, ``attention_mask`` with 0) and stacks everything else; ``label``/``labels`` become ``labels``."""

    def __init__(self, padding_value: float = 0.0) -> None:
        self.padding_value = float(padding_value)

    def __call__(self, rows: list[dict]) -> dict:
        import torch

        batch: dict[str, Any] = {}
        for key in rows[0]:
            values = [row[key] for row in rows]
            name = "labels" if key in ("label", "labels", "label_ids") else key
            if name == "labels":
                batch[name] = torch.as_tensor([int(v) for v in values], dtype=torch.long)
                continue
            tensors = [torch.as_tensor(v) for v in values]
            if all(t.shape == tensors[0].shape for t in tensors):
                batch[name] = torch.stack(tensors)
                continue
            longest = max(t.shape[-1] for t in tensors)
            fill = 0 if key == "attention_mask" else self.padding_value
            batch[name] = torch.stack(
                [torch.nn.functional.pad(t, (0, longest - t.shape[-1]), value=fill) for t in tensors]
            )
        return batch


class AudioModality(Modality):
    name = "audio"
    input_column = "audio"
    pipeline_tag = "audio-classification"

    def input_feature(self) -> datasets.Audio:
        return datasets.Audio(sampling_rate=SAMPLING_RATE)

    def auto_class(self) -> type:
        from transformers import AutoModelForAudioClassification

        return AutoModelForAudioClassification

    def processor_class(self) -> type:
        from transformers import AutoFeatureExtractor

        return AutoFeatureExtractor

    def without_processor(self, source: str | None) -> None:
        # the transform builds the family's feature extractor from the model's config
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
        extractor = getattr(processor, "feature_extractor", processor)  # a full Processor: its extractor
        if extractor is None:
            config = _config_of(model_or_config)
            if config is None:
                raise MubenchError("audio tasks need a feature extractor or a model (or config) to build one")
            extractor = default_feature_extractor(config)
        return AudioTransform(extractor, input_column=input_column, label_column=label_column, **options)

    def prepare_split(self, split: datasets.Dataset, transform: Callable) -> datasets.Dataset:
        """Decode and extract features once for the whole split (see ``prepare_audio_split``)."""
        if isinstance(transform, AudioTransform) and isinstance(split, datasets.Dataset):
            return prepare_audio_split(split, transform)
        return split.with_transform(transform)

    def collator(self, processor: Any) -> Collator:
        extractor = getattr(processor, "feature_extractor", processor)
        return AudioCollator(getattr(extractor, "padding_value", 0.0) or 0.0)

    def tiny_configs(self) -> Mapping[str, tuple[type, dict[str, Any]]]:
        from transformers import HubertConfig, Wav2Vec2Config, WhisperConfig

        # two strided convolutions (20 x 16 = 320 samples per frame, as in wav2vec2-base: 50 frames a
        # second), 2 transformer layers of width 32, no dropout or SpecAugment masking: ~40k weights
        waveform = dict(
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            conv_dim=(32, 32),
            conv_stride=(20, 16),
            conv_kernel=(40, 16),
            num_feat_extract_layers=2,
            num_conv_pos_embeddings=16,
            num_conv_pos_embedding_groups=4,
            hidden_dropout=0.0,
            attention_dropout=0.0,
            activation_dropout=0.0,
            feat_proj_dropout=0.0,
            final_dropout=0.0,
            layerdrop=0.0,
            mask_time_prob=0.0,
            mask_feature_prob=0.0,
            classifier_proj_size=32,
        )
        return {
            "wav2vec2": (Wav2Vec2Config, dict(waveform)),
            "hubert": (HubertConfig, dict(waveform)),
            # the encoder of a 2-layer Whisper of width 32 on 1 s windows (100 log-mel frames of 40 bins)
            "whisper": (
                WhisperConfig,
                dict(
                    d_model=32,
                    encoder_layers=2,
                    encoder_attention_heads=2,
                    encoder_ffn_dim=64,
                    decoder_layers=1,
                    decoder_attention_heads=2,
                    decoder_ffn_dim=64,
                    num_mel_bins=40,
                    max_source_positions=50,
                    max_target_positions=16,
                    vocab_size=64,
                    pad_token_id=0,
                    bos_token_id=1,
                    eos_token_id=2,
                    decoder_start_token_id=1,
                    suppress_tokens=None,
                    begin_suppress_tokens=None,
                    dropout=0.0,
                    attention_dropout=0.0,
                    activation_dropout=0.0,
                    classifier_proj_size=32,
                ),
            ),
        }


AUDIO = register_modality(AudioModality())
