"""GGUF models as ``--model``: a ``.gguf`` file (or a folder holding one) becomes a plain model folder.

llama.cpp's GGUF files carry a quantised causal LM and its tokenizer in one file. ``transformers`` can read
them (``from_pretrained(folder, gguf_file=name)``, which dequantises to float weights, with the ``gguf``
package installed), but a model loaded that way keeps a ``quantization_config`` saying "gguf" and refuses
``save_pretrained``, which every base, retrain and unlearned model of the benchmark needs. So a GGUF source
is converted once: the dequantised state dict is loaded into a model built from the config without its
quantisation entry, saved as safetensors with the tokenizer into a cache folder named after the file's
SHA-256, and that folder is what the rest of the product loads. A second run with the same file (wherever
it lies, under whatever name) finds the folder and skips the ~15 s conversion.

The cache is ``$MUBENCH_CACHE/gguf`` (else ``$XDG_CACHE_HOME/mubench-hf/gguf``, else
``~/.cache/mubench-hf/gguf``); a folder is written under a temporary name and renamed when complete, so an
interrupted conversion leaves nothing that looks finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .errors import MubenchError

GGUF_SUFFIX = ".gguf"
#: Written last into a converted folder: what it was made from (its presence marks the folder complete).
SOURCE_FILE = "gguf_source.json"


def cache_root() -> Path:
    """Where converted GGUF models are kept (see the module docstring)."""
    explicit = os.environ.get("MUBENCH_CACHE")
    if explicit:
        return Path(explicit) / "gguf"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mubench-hf" / "gguf"


def gguf_file_of(model: Any) -> Path | None:
    """The GGUF file that ``model`` names: a ``.gguf`` file, or a folder without ``config.json`` that
    holds exactly one; ``None`` for anything else (a model folder, a Hub id, ``tiny:llama``, a module).

    A ``.gguf`` path that does not exist, and a folder with several GGUF files, are errors that say so."""
    if not isinstance(model, (str, os.PathLike)):
        return None
    path = Path(model).expanduser()
    if path.suffix.lower() == GGUF_SUFFIX:
        if not path.is_file():
            raise MubenchError(
                f"GGUF file {str(model)!r} does not exist; pass an existing .gguf file (or the folder holding it)"
            )
        return path
    if not path.is_dir() or (path / "config.json").is_file():
        return None
    found = sorted(p for p in path.iterdir() if p.suffix.lower() == GGUF_SUFFIX and p.is_file())
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise MubenchError(
            f"folder {str(model)!r} holds {len(found)} GGUF files ({names}); pass the one to use as --model"
        )
    return found[0] if found else None


def resolve_gguf(model: Any, *, cache_dir: str | os.PathLike | None = None) -> Any:
    """``model`` itself, or for a GGUF source (:func:`gguf_file_of`) the folder it was converted into
    (converting it on first use). This is the hook where a ``--model`` value is resolved."""
    gguf = gguf_file_of(model)
    if gguf is None:
        return model
    return str(dequantised_folder(gguf, cache_dir=cache_dir))


def dequantised_folder(gguf: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None) -> Path:
    """The safetensors folder (model + tokenizer) of GGUF file ``gguf``, made on first use (module
    docstring); ``cache_dir`` replaces the default cache."""
    path = Path(gguf)
    digest = _sha256(path)
    root = Path(cache_dir) if cache_dir is not None else cache_root()
    folder = root / digest[:32]  # by content only: a renamed or moved copy finds the same folder
    if (folder / SOURCE_FILE).is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    print(f"dequantising {path.name} once into {folder} (a plain safetensors model with its tokenizer)")
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=root))
    try:
        _convert(path, partial)
        (partial / SOURCE_FILE).write_text(
            json.dumps({"gguf_file": path.name, "sha256": digest}, indent=2) + "\n", encoding="utf-8"
        )
        if folder.exists():  # another process finished first, or an incomplete folder of an older run
            shutil.rmtree(folder, ignore_errors=True)
        partial.replace(folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _convert(gguf: Path, output: Path) -> None:
    """Dequantise ``gguf`` into ``output`` as a plain model folder (see the module docstring)."""
    try:
        import gguf as _gguf  # noqa: F401  (transformers reads GGUF through it)
    except ImportError:
        raise MubenchError(
            f"reading the GGUF file {gguf.name} needs the 'gguf' package: pip install gguf "
            "(or pip install 'mubench-hf[gguf]')"
        ) from None
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source, name = str(gguf.parent), gguf.name
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=name)
        loaded = AutoModelForCausalLM.from_pretrained(source, gguf_file=name, dtype=torch.float32)
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        first = (str(err).strip().splitlines() or ["no details"])[0]
        raise MubenchError(
            f"cannot read GGUF file {str(gguf)!r} ({type(err).__name__}: {first}); transformers reads the "
            "causal LM architectures it knows (llama, mistral, qwen2, gpt2, ...) from GGUF"
        ) from err
    config = loaded.config
    # The quantisation entry is what makes save_pretrained refuse: the weights are float by now.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict())
    plain.save_pretrained(str(output))
    tokenizer.save_pretrained(str(output))
