"""The report values of reference models (the original model, the retrain model), computed once.

Every cell of a sweep scores its unlearned model against the same original and retrain models on the
same rows: their outputs (a classifier's logits on a split, a language model's generations and answer
statistics) are the same in every cell. They are kept here under a key made of

* the model's content: the SHA-256 of its weight and config files (a folder; hashed once per process
  while the files keep their size and modification time) or of its tensors (a model in memory);
* the rows: the split's name and the SHA-256 of its ``sample_id`` values (plus its texts, for generation);
* the settings that change the values (processor, device, generation length, batch size, ...);

in memory for the process (a few entries, least recently used dropped first) and, when a folder is given
(``directory(path)``: a sweep's own ``.report_cache``, ``--report-cache``), on disk as one file per entry,
written atomically, read without unpickling. The unlearned model's own values are never cached: they
change with every run.

``REFERENCE_CACHE.computed`` counts the values computed (misses) and ``hits`` those served, by kind: what
the tests and the bench read.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
import tempfile
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

# the files whose bytes are a model (the rest of a folder, e.g. train_results.json, differ between reruns)
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
_WEIGHT_NAMES = ("config.json", "adapter_config.json", "generation_config.json")
_MEMORY_ENTRIES = 32

_DIRECTORY: contextvars.ContextVar[Path | None] = contextvars.ContextVar("report_cache_dir", default=None)
_FOLDER_DIGESTS: dict[tuple, str] = {}


def _is_weights(name: str) -> bool:
    return name in _WEIGHT_NAMES or name.endswith(_WEIGHT_SUFFIXES)


def folder_digest(folder: str | os.PathLike) -> str:
    """SHA-256 over a model folder's weight and config files (names and contents); memoised by the files'
    sizes and modification times, so a folder is read once per process while it is unchanged."""
    root = Path(folder)
    files = sorted(p for p in root.rglob("*") if p.is_file() and _is_weights(p.name))
    stamp = (
        str(root.resolve()),
        tuple((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in files),
    )
    cached = _FOLDER_DIGESTS.get(stamp)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(root)).encode("utf-8") + b"\0")
        with open(path, "rb") as handle:
            while block := handle.read(1 << 22):
                digest.update(block)
    _FOLDER_DIGESTS[stamp] = value = digest.hexdigest()
    return value


def module_digest(model: Any) -> str:
    """SHA-256 over a model's class, config and tensors (names, dtypes, shapes, bytes)."""
    import torch

    digest = hashlib.sha256(type(model).__name__.encode("utf-8"))
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_json_string"):
        digest.update(config.to_json_string(use_diff=False).encode("utf-8"))
    for name, tensor in model.state_dict().items():
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}".encode())
        data = tensor.detach().to("cpu").contiguous()
        digest.update(data.view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return digest.hexdigest()


def model_digest(model: Any) -> str:
    """The content digest of a model: a folder's files, or a module's tensors."""
    if isinstance(model, (str, os.PathLike)):
        return folder_digest(model)
    return module_digest(model)


def rows_sha256(sample_ids: Any) -> str:
    """SHA-256 of a split's ``sample_id`` values, in order (int64, little-endian)."""
    return hashlib.sha256(np.ascontiguousarray(sample_ids, dtype="<i8").tobytes()).hexdigest()


def value_key(*parts: Any) -> str:
    """One key from JSON-able parts."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")).hexdigest()


@contextlib.contextmanager
def directory(path: str | os.PathLike | None) -> Iterator[None]:
    """Keep reference values on disk under ``path`` too, inside the ``with`` block (``None``: memory only)."""
    token = _DIRECTORY.set(Path(path) if path is not None else None)
    try:
        yield
    finally:
        _DIRECTORY.reset(token)


def current_directory() -> Path | None:
    return _DIRECTORY.get()


class ReferenceCache:
    """Reference values by key: memory first, then the disk folder of :func:`directory` (module docstring)."""

    def __init__(self, size: int = _MEMORY_ENTRIES) -> None:
        self.size = size
        self._memory: OrderedDict[str, Any] = OrderedDict()
        self.computed: Counter[str] = Counter()
        self.hits: Counter[str] = Counter()

    def clear(self) -> None:
        """Forget every value held in memory, and the counts (the disk folder is left alone)."""
        self._memory.clear()
        self.computed.clear()
        self.hits.clear()

    def get(
        self,
        kind: str,
        key: str,
        compute: Callable[[], T],
        *,
        dump: Callable[[T], dict[str, np.ndarray]] | None = None,
        load: Callable[[dict[str, np.ndarray]], T] | None = None,
    ) -> T:
        """The value under ``key``: from memory, else from the disk folder (with ``load``), else
        ``compute()``d, kept, and written to the disk folder (with ``dump``: arrays for an ``.npz``)."""
        full = f"{kind}-{key}"
        if full in self._memory:
            self._memory.move_to_end(full)
            self.hits[kind] += 1
            return self._memory[full]
        folder = current_directory()
        path = (
            folder / f"{full}.npz" if folder is not None and dump is not None and load is not None else None
        )
        value: Any = None
        if path is not None and path.is_file():
            try:
                with np.load(path, allow_pickle=False) as data:
                    value = load({name: data[name] for name in data.files})
                self.hits[kind] += 1
            except (OSError, ValueError, KeyError):  # a damaged entry: computed again and replaced
                value = None
        if value is None:
            value = compute()
            self.computed[kind] += 1
            if path is not None:
                _write_npz(path, dump(value))  # type: ignore[misc]
        self._memory[full] = value
        if len(self._memory) > self.size:
            self._memory.popitem(last=False)
        return value


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
    os.close(handle)
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: the process's cache (every report of the process shares it)
REFERENCE_CACHE = ReferenceCache()
