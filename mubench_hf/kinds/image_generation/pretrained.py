"""A pretrained diffusers pipeline (Stable Diffusion 1.x: a folder, or a Hub id such as
``CompVis/stable-diffusion-v1-4``) as the starting point of a text-to-image task's models.

The pipeline's ``model_index.json`` names the class of every part; the parts a text-to-image model needs
(``unet``, ``text_encoder``, ``tokenizer``, ``scheduler`` and the ``vae`` of a latent model) are loaded one
by one with those classes' own ``from_pretrained(..., subfolder=part)``. Parts the benchmark does not use
(Stable Diffusion's ``safety_checker`` and ``feature_extractor``) are never loaded, so they are neither
downloaded nor held in memory. Only classes of ``diffusers`` and ``transformers`` are accepted: a pipeline
naming another library would need its code run, which a benchmark run never does unasked.

The UNet is trained on the noise-prediction loss, so the pipeline's scheduler must predict ε
(``prediction_type: epsilon``, as Stable Diffusion 1.x does; 2.x's 768 models predict v and are refused).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from ...errors import MubenchError
from .model import MUBENCH_CONFIG, TextToImageModel

#: The parts a text-to-image model reads from a pipeline (``vae`` only when the pipeline has one).
PARTS = ("unet", "text_encoder", "tokenizer", "scheduler")
LIBRARIES = ("diffusers", "transformers")


def is_mubench_folder(spec: str) -> bool:
    """Whether ``spec`` is a folder saved by mubench (it records the task's concepts beside the pipeline)."""
    return (Path(spec) / MUBENCH_CONFIG).is_file()


def looks_like_hub_id(spec: str) -> bool:
    """``owner/name`` that is not a local path: a Hub repository id."""
    return spec.count("/") == 1 and not spec.startswith((".", "/")) and not Path(spec).exists()


def model_index(spec: str) -> dict[str, Any]:
    """The ``model_index.json`` of a pipeline folder or Hub repository."""
    folder = Path(spec)
    if folder.is_dir():
        path = folder / "model_index.json"
        if not path.is_file():
            raise MubenchError(f"{spec} is not a diffusers pipeline folder (no model_index.json)")
        return json.loads(path.read_text())
    from huggingface_hub import hf_hub_download

    try:
        return json.loads(Path(hf_hub_download(spec, "model_index.json")).read_text())
    except Exception as err:  # offline, no such repo, no access: the same fix for each
        raise MubenchError(
            f"could not read model_index.json of the Hub pipeline {spec!r} ({type(err).__name__}); download it "
            "first (huggingface-cli download) and pass its local folder as --model"
        ) from None


def _part_class(spec: str, index: dict[str, Any], part: str) -> type:
    entry = index.get(part)
    if not isinstance(entry, list) or len(entry) != 2 or entry[1] is None:
        raise MubenchError(
            f"the pipeline {spec} has no {part!r} part (model_index.json lists {sorted(k for k in index if not k.startswith('_'))}); "
            f"a text-to-image model needs {', '.join(PARTS)}"
        )
    library, name = entry
    if library not in LIBRARIES:
        raise MubenchError(
            f"the pipeline {spec} names {library}.{name} for {part!r}: only {' and '.join(LIBRARIES)} classes are "
            "loaded (other code is never run unasked)"
        )
    module = importlib.import_module(library)
    if not hasattr(module, name):
        raise MubenchError(f"the pipeline {spec}: {library} has no class {name!r} (its {part!r} part)")
    return getattr(module, name)


def load_pipeline_parts(spec: str, num_labels: int) -> TextToImageModel:
    """A ``TextToImageModel`` of the pretrained pipeline ``spec`` (see the module docstring), recording
    ``spec`` as the model's ``init``."""
    index = model_index(spec)
    parts = {part: _part_class(spec, index, part) for part in PARTS}
    if index.get("vae") and index["vae"][1] is not None:
        parts["vae"] = _part_class(spec, index, "vae")
    loaded = {part: cls.from_pretrained(spec, subfolder=part) for part, cls in parts.items()}
    prediction = loaded["scheduler"].config.get("prediction_type", "epsilon")
    if prediction != "epsilon":
        raise MubenchError(
            f"the pipeline {spec} predicts {prediction!r}; text-to-image tasks train and unlearn with the "
            "noise-prediction loss (prediction_type 'epsilon', as Stable Diffusion 1.x)"
        )
    model = TextToImageModel(
        loaded["unet"], loaded["text_encoder"], loaded["tokenizer"], loaded["scheduler"],
        num_labels=num_labels, vae=loaded.get("vae"), init=spec,
    )  # fmt: skip
    model.config._name_or_path = spec
    return model
