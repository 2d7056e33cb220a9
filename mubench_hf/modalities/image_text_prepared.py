"""Image-pair splits decoded once: all rows of a split transformed at its first read and kept in memory,
read by position from then on, within the transform's memory budget (``cache_bytes``); past it a split
keeps the lazy transform. :meth:`ImageTextModality.prepare_split
<mubench_hf.modalities.image_text.ImageTextModality.prepare_split>` calls :func:`prepare_image_text_split`."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Protocol

import datasets

from .base import serve_prepared_rows


class BudgetedTransform(Protocol):
    """What :func:`prepare_image_text_split` needs of a transform (``ImageTextTransform`` is one): the
    rows' tensors, and the memory budget it shares over every split it prepares."""

    label_column: str
    cache_bytes: int | None
    prepared_bytes: int
    warned: bool

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, list]: ...


class _KeptRows:
    """A split's transformed rows in memory, by position: the tokens as the tokenizer gave them,
    ``pixel_values`` from one stacked tensor (rows of one shape) or one tensor a row, ``pixel_mask`` kept
    as bool and handed out as the long tensor the transform made."""

    def __init__(self, text: dict[str, list], pixels: Any, masks: Any, labels: list | None) -> None:
        self.text, self.pixels, self.masks, self.labels = text, pixels, masks, labels

    @property
    def nbytes(self) -> int:
        def size(tensors: Any) -> int:
            items = tensors if isinstance(tensors, list) else [tensors]
            return sum(t.numel() * t.element_size() for t in items)

        return size(self.pixels) + size(self.masks)

    def __call__(self, positions: list[int]) -> dict[str, list]:
        import torch

        out: dict[str, list] = {name: [values[p] for p in positions] for name, values in self.text.items()}
        out["pixel_values"] = [self.pixels[p] for p in positions]
        out["pixel_mask"] = [self.masks[p].to(torch.long) for p in positions]
        if self.labels is not None:
            out["labels"] = [self.labels[p] for p in positions]
        return out


def _stacked(rows: list[Any]) -> Any:
    """One tensor when every row has the same shape (one storage, indexed by row), else a contiguous
    tensor a row (views of the batches would keep, and pickle, each batch's whole storage once a row)."""
    import torch

    if all(r.shape == rows[0].shape for r in rows):
        return torch.stack(rows)
    return [r.clone() for r in rows]


class PreparedImageTextRows:
    """The rows of one split, transformed all at once the first time any is read, then kept (``_KeptRows``).

    Deferred to the first read so that a split nobody reads (``train`` next to ``forget``/``retain``) costs
    nothing. ``estimate`` bytes are reserved on the transform's budget when the split is prepared; if the
    real pixels outgrow what is left, the split falls back to transforming the rows it is asked for on every
    read (the lazy path), with a warning. Each DataLoader worker process keeps its own copy."""

    def __init__(self, split: datasets.Dataset, transform: BudgetedTransform, estimate: int) -> None:
        self.source = split.with_format(None)
        self.transform = transform
        self.estimate = estimate
        self.kept: _KeptRows | None = None
        self.lazy = False

    def _keep(self, batch_size: int = 64) -> None:
        import torch

        transform, n = self.transform, len(self.source)
        cap = transform.cache_bytes
        allowance = None if cap is None else cap - transform.prepared_bytes + self.estimate
        text: dict[str, list] = {}
        pixels: list[Any] = []
        masks: list[Any] = []
        labels: list | None = [] if transform.label_column in self.source.column_names else None
        used = 0
        for start in range(0, n, batch_size):
            out = transform(self.source[start : start + batch_size])
            for name in out:
                if name not in ("pixel_values", "pixel_mask", "labels"):
                    text.setdefault(name, []).extend(out[name])
            pixels.extend(out["pixel_values"])
            masks.extend(m.to(torch.bool) for m in out["pixel_mask"])
            if labels is not None:
                labels.extend(out["labels"])
            used += _pixel_bytes(out)
            if allowance is not None and used > allowance:
                transform.prepared_bytes -= self.estimate
                _too_big(transform, n, used * n // min(n, start + batch_size))
                self.lazy = True
                return
        self.kept = _KeptRows(text, _stacked(pixels), _stacked(masks), labels)
        transform.prepared_bytes += self.kept.nbytes - self.estimate

    def __call__(self, positions: list[int]) -> dict[str, list]:
        if self.kept is None and not self.lazy:
            self._keep()
        if self.lazy:
            return self.transform(self.source[positions])
        return self.kept(positions)


def prepare_image_text_split(split: datasets.Dataset, transform: BudgetedTransform) -> datasets.Dataset:
    """``split`` whose rows have both images decoded and run through the image processor, and the text
    tokenised, once (``PreparedImageTextRows``: all rows at the first read, then kept in memory and read by
    position), so an epoch no longer decodes PNGs and runs ViLT's processor, which cost more than the tiny
    model's step. The rows are the lazy transform's: the same tensors, bit for bit.

    Decoding once is conditional on memory: when the split's pixel arrays (estimated here from its first
    row) would take the transform past ``cache_bytes`` (``DEFAULT_CACHE_BYTES``, 1 GiB, counted over every
    split it prepares), the split keeps the lazy transform (decoded in every epoch) and a warning says so once."""
    n = len(split)
    if not n:
        return split.with_transform(transform)
    estimate = _pixel_bytes(transform(split.with_format(None)[:1])) * n
    cap = transform.cache_bytes
    if cap is not None and transform.prepared_bytes + estimate > cap:
        _too_big(transform, n, estimate)
        return split.with_transform(transform)
    transform.prepared_bytes += estimate  # reserved now, settled when the rows are kept
    return serve_prepared_rows(split, PreparedImageTextRows(split, transform, estimate))


def _pixel_bytes(out: Mapping[str, list]) -> int:
    """What transformed rows' pixels take once kept: float pixel values and a bool mask per pixel."""
    return sum(
        p.numel() * p.element_size() + m.numel() for p, m in zip(out["pixel_values"], out["pixel_mask"])
    )


def _too_big(transform: BudgetedTransform, rows: int, nbytes: int) -> None:
    if transform.warned:
        return
    transform.warned = True
    warnings.warn(
        f"decoding the {rows} image pairs of an image_text split once would keep ~{nbytes / 2**20:,.0f} MiB of "
        f"pixels in memory, past cache_bytes={transform.cache_bytes} ({transform.prepared_bytes / 2**20:,.0f} MiB "
        "already kept or reserved); such splits are decoded in every epoch instead (pass a larger cache_bytes, or None, "
        "to the transform to keep them)",
        stacklevel=3,
    )
