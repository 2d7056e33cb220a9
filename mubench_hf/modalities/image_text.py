"""Image pairs with a sentence (NLVR2-shaped): is the sentence true of the two images?

Canonical columns, in every stored split:

* ``image_left`` and ``image_right``: ``datasets.Image`` (the pair, in NLVR2's left/right order);
* ``text``: ``datasets.Value("string")``, the sentence;
* ``label``: a ``ClassLabel`` (``False`` / ``True`` for NLVR2-shaped tasks).

Models are ``ViltForImagesAndTextClassification`` with ``num_images=2``: transformers 5 has no Auto class
that maps to it (``AutoModelForVisualQuestionAnswering`` gives ``ViltForQuestionAnswering``, one image),
so the class itself serves as the modality's "auto" class; it builds from a ``ViltConfig`` and loads any
ViLT checkpoint with that head (e.g. ``dandelin/vilt-b32-finetuned-nlvr2``).

Processing is ViLT's: ``ViltProcessor`` = a ViLT image processor (resize, rescale, normalise; a pixel
mask marks real pixels) + a BERT tokenizer. A checkpoint's processor is loaded with ``AutoProcessor``;
a model built from a config gets ``tiny_processor()``: the image processor's defaults at the tiny
model's size and a BERT WordPiece tokenizer over a small built-in vocabulary (whole common English
words, and single characters so that any other word still tokenizes), made without any download. The
transform does not pad; the collator pads text per batch and images to the batch's largest size (with
the pixel mask), so rows transformed apart (a forget and a retain half) still collate together.

Decoding happens once per split: after ``prepare_split``, the first read of a split decodes both PNGs and
runs the image processor and the tokenizer over all its rows, and keeps the tensors in memory, read by
position from then on (PNG decoding and ViLT's processor in every epoch cost more than the tiny model's
step). That is conditional on size: past ``DEFAULT_CACHE_BYTES`` (1 GiB of pixels per transform; NLVR2 at
ViLT's 384 pixels would need ~500 GiB) a split keeps the lazy transform, decoded in every epoch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import datasets

from ..errors import MubenchError
from .base import LABEL_COLUMN, Collator, Modality, Transform, register_modality
from .image_text_prepared import prepare_image_text_split
from .image_text_tiny import (
    TINY_IMAGE_SIZE,
    TINY_INITIALIZER_RANGE,
    TINY_MAX_TEXT_TOKENS,
    TINY_PATCH_SIZE,
    tiny_processor,
    tiny_vocabulary,
)

LEFT_COLUMN = "image_left"
RIGHT_COLUMN = "image_right"
TEXT_COLUMN = "text"
IMAGE_COLUMNS = (LEFT_COLUMN, RIGHT_COLUMN)
NUM_IMAGES = len(IMAGE_COLUMNS)


def _parts(processor: Any) -> tuple[Any, Any]:
    """The (image processor, tokenizer) of a ViLT-style processor, or a clear error."""
    image_processor = getattr(processor, "image_processor", None)
    tokenizer = getattr(processor, "tokenizer", None)
    if image_processor is None or tokenizer is None:
        raise MubenchError(
            "image_text tasks need a ViLT-style processor with an image processor and a tokenizer "
            f"(e.g. ViltProcessor), got {type(processor).__name__}; pass --processor (a folder or Hub id)"
        )
    return image_processor, tokenizer


def _max_text_tokens(model_or_config: Any, tokenizer: Any) -> int | None:
    config = getattr(model_or_config, "config", model_or_config)
    limit = getattr(config, "max_position_embeddings", None)
    if limit is None:
        limit = getattr(tokenizer, "model_max_length", None)
        if limit is not None and limit > 100_000:  # tokenizers without a limit report a huge number
            limit = None
    return int(limit) if limit is not None else None


def check_image_pairs(
    batch: Mapping[str, Sequence[Any]], *, where: str = "a batch", columns: Sequence[str] = IMAGE_COLUMNS
) -> None:
    """Raise naming the row (its ``sample_id`` when there is one) if a row lacks one of its images."""
    ids = batch.get("sample_id")
    for column in columns:
        if column not in batch:
            raise MubenchError(
                f"{where} has no {column!r} column: image_text rows need {list(columns)} and {TEXT_COLUMN!r}"
            )
        for i, image in enumerate(batch[column]):
            if image is None:
                row = f"sample_id {ids[i]}" if ids is not None else f"row {i}"
                raise MubenchError(
                    f"{where}: {row} has no {column!r} image; every image_text row needs both "
                    f"{' and '.join(repr(c) for c in columns)} (drop or fix that row)"
                )


# (processor class, resize settings, height, width) -> whether the processor keeps that size
_KEEPS_SIZE: dict[tuple, bool] = {}


def _keeps_size(image_processor: Any, height: int, width: int) -> bool:
    """Whether ``image_processor`` leaves an RGB image of this size at this size (asked once per size)."""
    settings = tuple(
        repr(getattr(image_processor, name, None))
        for name in ("size", "size_divisor", "resample", "do_resize")
    )
    key = (type(image_processor).__name__, settings, height, width)
    if key not in _KEEPS_SIZE:
        from PIL import Image

        probe = Image.new("RGB", (width, height))
        out = image_processor(images=[probe], return_tensors="np", do_pad=False)["pixel_values"][0]
        _KEEPS_SIZE[key] = tuple(out.shape[-2:]) == (height, width)
    return _KEEPS_SIZE[key]


def fast_pixels(image_processor: Any, images: Sequence[Any]) -> Any:
    """ViLT's image processing of ``images`` (RGB, all of one size) as one array operation, or ``None``
    when this shortcut does not apply (another processor, mixed sizes, or a size the processor changes).

    ViLT's processor resizes, rescales and normalises image by image in Python, which costs more than a
    tiny model's training step; when the resize would keep the size (PIL returns a copy then), rescale
    and normalisation are the same arithmetic on the stacked batch (equal to the processor's output to
    float rounding: tested)."""
    import numpy as np
    import torch

    if not type(image_processor).__name__.startswith("ViltImageProcessor") or not images:
        return None
    width, height = images[0].size
    if any(img.size != (width, height) for img in images):
        return None
    if getattr(image_processor, "do_resize", True) and not _keeps_size(image_processor, height, width):
        return None
    array = np.stack([np.asarray(img, dtype=np.float32) for img in images])  # [N, H, W, 3]
    if getattr(image_processor, "do_rescale", True):
        array = array * np.float32(image_processor.rescale_factor)
    if getattr(image_processor, "do_normalize", True):
        mean = np.asarray(image_processor.image_mean, dtype=np.float32)
        std = np.asarray(image_processor.image_std, dtype=np.float32)
        array = (array - mean) / std
    return torch.from_numpy(np.ascontiguousarray(array.transpose(0, 3, 1, 2)))


#: Decoded pixel arrays ``prepare_split`` keeps in memory per transform, over all the splits it prepares.
#: digit_pairs needs ~15 MiB (9,200 rows x 2 images of 3 x 8 x 8 floats); NLVR2 at ViLT's 384-pixel shorter
#: side needs ~6 MiB a pair (~500 GiB for its 86k training pairs), so its splits stay lazy (decoded per epoch).
DEFAULT_CACHE_BYTES = 1024**3


class ImageTextTransform:
    """The batch transform of image-pair rows: ``input_ids`` (+ mask, token types) unpadded,
    ``pixel_values`` ``[2, C, H, W]`` and ``pixel_mask`` ``[2, H, W]`` per row, and ``labels``.

    Each row's tensors depend on that row alone (a pair the fast path cannot take goes through the image
    processor on its own), so rows transformed in batches of any size, or lazily one by one, are the same.
    ``cache_bytes`` caps what ``prepare_image_text_split`` keeps in memory (``None``: no cap)."""

    def __init__(
        self,
        image_processor: Any,
        tokenizer: Any,
        *,
        max_length: int | None,
        label_column: str = LABEL_COLUMN,
        cache_bytes: int | None = DEFAULT_CACHE_BYTES,
    ) -> None:
        if cache_bytes is not None and cache_bytes < 0:
            raise MubenchError(f"cache_bytes must be >= 0 (or None for no limit), got {cache_bytes}")
        self.image_processor = image_processor
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.label_column = label_column
        self.cache_bytes = cache_bytes
        self.prepared_bytes = 0  # pixels kept by prepare_image_text_split so far, over every split
        self.warned = False

    def _pair_pixels(self, pair: list[Any]) -> tuple[Any, Any]:
        import torch

        pixels = fast_pixels(self.image_processor, pair)
        if pixels is None:
            processed = self.image_processor(images=pair, return_tensors="pt", do_pad=True)
            pixels, mask = processed["pixel_values"], processed.get("pixel_mask")
            if mask is not None:
                return pixels, mask
        return pixels, torch.ones(pixels.shape[:1] + pixels.shape[2:], dtype=torch.long)

    def images(self, batch: Mapping[str, Sequence[Any]]) -> tuple[list[Any], list[Any]]:
        """``pixel_values`` ``[2, C, H, W]`` and ``pixel_mask`` ``[2, H, W]`` (long) of every row."""
        import torch

        n = len(batch[TEXT_COLUMN])
        # left, right of row 0, then of row 1, ...: one array operation for the whole batch when it can
        images = [img.convert("RGB") for pair in zip(*(batch[c] for c in IMAGE_COLUMNS)) for img in pair]
        pixels = fast_pixels(self.image_processor, images)
        if pixels is not None:
            mask = torch.ones((n, NUM_IMAGES, *pixels.shape[2:]), dtype=torch.long)
            return list(pixels.reshape(n, NUM_IMAGES, *pixels.shape[1:])), list(mask)
        pairs = [self._pair_pixels(images[i : i + NUM_IMAGES]) for i in range(0, len(images), NUM_IMAGES)]
        return [p for p, _ in pairs], [m for _, m in pairs]

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        check_image_pairs(batch, where="an image_text batch")
        values, masks = self.images(batch)
        limit = self.max_length
        out = dict(self.tokenizer(list(batch[TEXT_COLUMN]), truncation=limit is not None, max_length=limit))
        out["pixel_values"] = values
        out["pixel_mask"] = masks
        if self.label_column in batch:
            out["labels"] = list(batch[self.label_column])
        return out


def image_text_transform(
    model_or_config: Any,
    processor: Any,
    *,
    label_column: str = LABEL_COLUMN,
    max_length: int | None = None,
    cache_bytes: int | None = DEFAULT_CACHE_BYTES,
) -> Transform:
    """A batch transform for image-pair rows (see :class:`ImageTextTransform`)."""
    image_processor, tokenizer = _parts(processor)
    limit = max_length or _max_text_tokens(model_or_config, tokenizer)
    return ImageTextTransform(
        image_processor, tokenizer, max_length=limit, label_column=label_column, cache_bytes=cache_bytes
    )


def images_and_text_classifier() -> type:
    """The "auto" class of image pairs: ``from_config`` builds a ``ViltForImagesAndTextClassification``
    from a ``ViltConfig``, ``from_pretrained`` is that class's own. No ``AutoModelFor...`` maps to this
    head in transformers 5, and concrete model classes have no public ``from_config``, so this thin
    loader fills the gap; it carries the model class's name, which is what model cards import."""
    from transformers import ViltForImagesAndTextClassification as model_class

    class Loader:
        model_class_ = model_class

        @staticmethod
        def from_config(config: Any, **kwargs: Any) -> Any:
            return model_class._from_config(config, **kwargs)

        from_pretrained = model_class.from_pretrained

    Loader.__name__ = Loader.__qualname__ = model_class.__name__
    Loader.__module__ = model_class.__module__  # cards import the class from where it lives: transformers
    Loader.__doc__ = f"Builds and loads {model_class.__name__} models (``from_config``, ``from_pretrained``)."
    return Loader


class ImageTextCollator:
    """Pads a list of transformed rows into one batch: text with the tokenizer's pad token (per batch),
    image pairs with zeros up to the largest height and width, their pixel masks with 0."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    def __call__(self, rows: list[dict]) -> dict[str, Any]:
        import torch

        text_keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in rows[0]]
        batch = dict(
            self.tokenizer.pad([{k: row[k] for k in text_keys} for row in rows], return_tensors="pt")
        )
        pixels = [torch.as_tensor(row["pixel_values"]) for row in rows]
        height = max(p.shape[-2] for p in pixels)
        width = max(p.shape[-1] for p in pixels)
        values = pixels[0].new_zeros((len(rows), *pixels[0].shape[:-2], height, width))
        masks = torch.zeros((len(rows), pixels[0].shape[0], height, width), dtype=torch.long)
        for i, (p, row) in enumerate(zip(pixels, rows)):
            values[i, ..., : p.shape[-2], : p.shape[-1]] = p
            masks[i, :, : p.shape[-2], : p.shape[-1]] = torch.as_tensor(row["pixel_mask"])
        batch["pixel_values"], batch["pixel_mask"] = values, masks
        label_key = next((k for k in ("labels", "label", "label_ids") if k in rows[0]), None)
        if label_key is not None:
            batch["labels"] = torch.tensor([int(row[label_key]) for row in rows], dtype=torch.long)
        return batch


class ImageTextModality(Modality):
    name = "image_text"
    #: the sentence; the images are ``IMAGE_COLUMNS`` (see ``input_columns``)
    input_column = TEXT_COLUMN
    #: every input column, in the order tasks store them
    input_columns = (LEFT_COLUMN, RIGHT_COLUMN, TEXT_COLUMN)
    pipeline_tag = "image-text-classification"

    def input_feature(self) -> datasets.Value:
        return datasets.Value("string")

    def input_features(self) -> dict[str, Any]:
        """The ``datasets`` feature of each input column."""
        return {
            LEFT_COLUMN: datasets.Image(),
            RIGHT_COLUMN: datasets.Image(),
            TEXT_COLUMN: datasets.Value("string"),
        }

    def check_rows(self, ds: datasets.Dataset, where: str) -> None:
        """Refuse a dataset with a row missing one of its images (before anything is stored or trained)."""
        table = ds.with_format("arrow")[:]
        for column in IMAGE_COLUMNS:
            images = table.column(column)
            if images.null_count:
                missing = images.is_null().to_numpy(zero_copy_only=False).nonzero()[0]
                raise MubenchError(
                    f"{where}: {len(missing)} row(s) have no {column!r} image (first at row {int(missing[0])}); "
                    f"every image_text row needs both {LEFT_COLUMN!r} and {RIGHT_COLUMN!r} (drop or fix them)"
                )

    def auto_class(self) -> type:
        return images_and_text_classifier()

    def processor_class(self) -> type:
        from transformers import AutoProcessor

        return AutoProcessor

    def without_processor(self, source: str | None) -> Any:
        if source is None:
            return tiny_processor()
        raise MubenchError(
            f"no ViLT processor (image processor + tokenizer) found with {source!r}; pass --processor"
        )

    def transform(
        self,
        model_or_config: Any,
        processor: Any,
        *,
        input_column: str,
        label_column: str = LABEL_COLUMN,
        **options: Any,
    ) -> Transform:
        # the columns are fixed (IMAGE_COLUMNS + text): input_column names the sentence only
        return image_text_transform(model_or_config, processor, label_column=label_column, **options)

    def prepare_split(self, split: datasets.Dataset, transform: Transform) -> datasets.Dataset:
        """Decode, process and tokenise once per split when it fits in memory (``prepare_image_text_split``)."""
        if isinstance(transform, ImageTextTransform) and isinstance(split, datasets.Dataset):
            return prepare_image_text_split(split, transform)
        return split.with_transform(transform)

    def collator(self, processor: Any) -> Collator:
        return ImageTextCollator(_parts(processor)[1])

    def tiny_configs(self) -> Mapping[str, tuple[type, dict[str, Any]]]:
        from transformers import ViltConfig

        return {
            # 2 layers, hidden size 64, no dropout; two images, so three modality types (text, left, right)
            "vilt": (
                ViltConfig,
                dict(
                    vocab_size=len(tiny_vocabulary()),
                    type_vocab_size=2,
                    modality_type_vocab_size=NUM_IMAGES + 1,
                    max_position_embeddings=TINY_MAX_TEXT_TOKENS,
                    hidden_size=64,
                    num_hidden_layers=2,
                    num_attention_heads=2,
                    intermediate_size=128,
                    hidden_dropout_prob=0.0,
                    attention_probs_dropout_prob=0.0,
                    image_size=TINY_IMAGE_SIZE,
                    patch_size=TINY_PATCH_SIZE,
                    num_channels=3,
                    max_image_length=-1,
                    num_images=NUM_IMAGES,
                    initializer_range=TINY_INITIALIZER_RANGE,
                ),
            ),
        }

    def adapt_config(self, config: Any, **hints: Any) -> None:
        # the head reads one pooled vector per image: a pair needs num_images=2
        if hasattr(config, "num_images"):
            config.num_images = NUM_IMAGES
            config.modality_type_vocab_size = max(int(config.modality_type_vocab_size), NUM_IMAGES + 1)


IMAGE_TEXT = register_modality(ImageTextModality())
