"""UnlearnCanvas (Zhang et al. 2024): Stable Diffusion 1.x fine-tuned on stylised images of objects, a style or
an object unlearned. ``unlearncanvas_style`` (51 concepts: the 50 styles and the photographs) and
``unlearncanvas_object`` (20 objects), from the Hub.

The layout is the upstream release's, as ``OPTML-Group/UnlearnCanvas``'s code reads it
(``diffusion_model_finetuning/constants/const.py`` and ``dataset_preparation.py``, checked here): one folder
per style (``Seed_Images`` holds the photographs), one sub-folder per object, images ``1.jpg`` … ``20.jpg``,
so 51 x 20 x 20 = 20,400 images. ``source=`` takes that folder, or a ``DatasetDict`` / dataset folder whose
rows have ``image``, ``style`` and ``object`` columns (the names of the folders); the Hub copy
(``OPTML-Group/UnlearnCanvas``, parquet) is read the same way: its column names could not be checked
offline, so a copy with other names is refused naming the columns it has. Rows are ordered by style, object
and image number; within each (style, object) the first 18 images are train (upstream fine-tunes on 90 %),
the 19th validation and the 20th test.

Prompts: upstream trains and samples with ``"A {object} image in {style} style."`` (``Photo`` for the seed
images). A row's prompt here names its concept only, since a text-to-image task's prompt is its class
rendered into a template: ``"An image in Van Gogh style."`` (the object-free form upstream's README uses
for style prompts) and ``"A Dogs image."`` (upstream's object words and articles: ``"An Architectures
image."``). The style x object prompts of UnlearnCanvas's cross-domain retain accuracy are therefore not
generated; the report's in-domain retain accuracy covers the kept styles (or objects). Base: ``CompVis/stable-diffusion-v1-4`` fine-tuned on
the train split (what upstream releases as its base), retrain: the same pipeline fine-tuned on retain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np

from ..errors import MubenchError
from .registry import register_task
from .sources import HubSource, SourceLike, load_hub_source, load_source
from .text_to_image import ImageGenerationTask
from .tiny_imagenet_t2i import STABLE_DIFFUSION_RECIPE, STABLE_DIFFUSION_SAMPLING_BATCH, STABLE_DIFFUSION_V1

UNLEARNCANVAS_REPO = "OPTML-Group/UnlearnCanvas"
#: The 50 styles of upstream's 50-style version and its photographs (``Seed_Images``), in its order.
UNLEARNCANVAS_STYLES = tuple(
    """Abstractionism Artist_Sketch Blossom_Season Bricks Byzantine Cartoon Cold_Warm Color_Fantasy Comic_Etch
    Crayon Cubism Dadaism Dapple Defoliation Early_Autumn Expressionism Fauvism French Glowing_Sunset Gorgeous_Love
    Greenfield Impressionism Ink_Art Joy Liquid_Dreams Magic_Cube Meta_Physics Meteor_Shower Monet Mosaic
    Neon_Lines On_Fire Pastel Pencil_Drawing Picasso Pop_Art Red_Blue_Ink Rust Sketch Sponge_Dabbed Structuralism
    Superstring Surrealism Ukiyoe Van_Gogh Vibrant_Flow Warm_Love Warm_Smear Watercolor Winter Seed_Images""".split()
)
UNLEARNCANVAS_OBJECTS = tuple(
    """Architectures Bears Birds Butterfly Cats Dogs Fishes Flame Flowers Frogs Horses Human Jellyfish Rabbits
    Sandwiches Sea Statues Towers Trees Waterfalls""".split()
)
PHOTO_STYLE = "Seed_Images"
IMAGES_PER_PAIR = 20
#: Position (0-based, within a style x object) → split: 18 train, then validation, then test.
TRAIN_PER_PAIR = 18
UNLEARNCANVAS_CITATION = """@article{zhang2024unlearncanvas,
  title   = {UnlearnCanvas: Stylized Image Dataset for Enhanced Machine Unlearning Evaluation in Diffusion Models},
  author  = {Zhang, Yihua and Fan, Chongyu and Zhang, Yimeng and Yao, Yuguang and Jia, Jinghan and Liu, Jiancheng
             and Zhang, Gaoyuan and Liu, Gaowen and Kompella, Ramana Rao and Liu, Xiaoming and Liu, Sijia},
  journal = {arXiv preprint arXiv:2402.11846},
  year    = {2024}
}"""


def style_words(style: str) -> str:
    """How a style reads in a prompt: ``Van_Gogh`` → ``Van Gogh``, the photographs → ``Photo``."""
    return "Photo" if style == PHOTO_STYLE else style.replace("_", " ")


def object_words(name: str) -> str:
    """An object with upstream's article: ``An Architectures``, ``A Dogs``."""
    return f"An {name}" if name == "Architectures" else f"A {name}"


def read_release_folder(folder: Path) -> datasets.Dataset:
    """Rows ``image`` (path), ``style``, ``object`` of the release layout ``<style>/<object>/<n>.jpg``."""
    rows: dict[str, list] = {"image": [], "style": [], "object": [], "number": []}
    for style_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for object_dir in sorted(p for p in style_dir.iterdir() if p.is_dir()):
            for image in object_dir.iterdir():
                if image.suffix.lower() in (".jpg", ".jpeg", ".png") and image.stem.isdigit():
                    rows["image"].append(str(image))
                    rows["style"].append(style_dir.name)
                    rows["object"].append(object_dir.name)
                    rows["number"].append(int(image.stem))
    if not rows["image"]:
        raise MubenchError(
            f"{folder} holds no UnlearnCanvas images: expected <style>/<object>/<n>.jpg (e.g. Van_Gogh/Dogs/1.jpg)"
        )
    return datasets.Dataset.from_dict(rows).cast_column("image", datasets.Image())


def _rows_of(source: SourceLike, hub: HubSource, task: str) -> datasets.Dataset:
    if source is None:
        raw = load_hub_source(hub, f"task {task!r}", "--source PATH (the release folder or a local copy)")
    elif isinstance(source, (str, Path)) and Path(source).is_dir() and not _is_dataset_folder(Path(source)):
        return read_release_folder(Path(source))
    else:
        raw = load_source(source, what=f"source for task {task!r}")
    return datasets.concatenate_datasets([raw[name] for name in sorted(raw)])


def _is_dataset_folder(folder: Path) -> bool:
    return (folder / "dataset_dict.json").is_file() or any(folder.glob("**/*.parquet"))


def split_by_position(
    rows: datasets.Dataset, label_of: dict[str, int], column: str, task: str
) -> datasets.DatasetDict:
    """Train / validation / test rows of every (style, object) (see the module docstring), labelled by ``column``."""
    missing = [c for c in ("image", "style", "object") if c not in rows.column_names]
    if missing:
        raise MubenchError(
            f"task {task!r}: the source has no {', '.join(map(repr, missing))} column; its columns are "
            f"{rows.column_names} (UnlearnCanvas rows need image, style and object)"
        )
    styles, objects = list(rows["style"]), list(rows["object"])
    unknown = sorted({v for v in (styles if column == "style" else objects) if v not in label_of})
    if unknown:
        raise MubenchError(
            f"task {task!r}: unknown {column} {unknown[:3]}; UnlearnCanvas's are {sorted(label_of)[:5]} ..."
        )
    numbers = list(rows["number"]) if "number" in rows.column_names else list(range(len(rows)))
    order = sorted(range(len(rows)), key=lambda i: (styles[i], objects[i], numbers[i]))
    position, seen = np.zeros(len(rows), dtype=np.int64), {}
    for i in order:
        key = (styles[i], objects[i])
        position[i] = seen.get(key, 0)
        seen[key] = position[i] + 1
    split_of = np.where(position < TRAIN_PER_PAIR, 0, np.where(position == TRAIN_PER_PAIR, 1, 2))
    values = styles if column == "style" else objects
    labels = np.asarray([label_of[v] for v in values], dtype=np.int64)
    out = {}
    for code, name in enumerate(("train", "validation", "test")):
        chosen = [i for i in order if split_of[i] == code]
        part = rows.select(chosen).select_columns(["image"])
        out[name] = part.add_column("label", labels[chosen].tolist())
    return datasets.DatasetDict(out)


@dataclass(frozen=True)
class UnlearnCanvasTask(ImageGenerationTask):
    """An UnlearnCanvas task whose concepts are the styles or the objects (``concept_column``)."""

    concept_column: str = "style"

    def _load_raw(self, source: SourceLike) -> datasets.DatasetDict:
        assert self.hub is not None
        rows = _rows_of(source, self.hub, self.name)
        return split_by_position(rows, self.label2id, self.concept_column, self.name)


def unlearncanvas_task(name: str, column: str, names: Sequence[str], concepts: Sequence[str], template: str,
                       generic: str, what: str) -> UnlearnCanvasTask:  # fmt: skip
    """One UnlearnCanvas task (the two differ in their concepts)."""
    return UnlearnCanvasTask(
        name=name,
        modality="image",
        class_names=tuple(names),
        concepts=tuple(concepts),
        prompt_template=template,
        generic_prompt=generic,
        image_size=64,
        channels=3,
        description=f"Text-to-image: UnlearnCanvas's {what} unlearned from Stable Diffusion 1.x fine-tuned on its "
        "20,400 stylised images (51 styles x 20 objects x 20).",
        hub=HubSource(UNLEARNCANVAS_REPO),
        validation_split="validation",
        license="mit",
        source_citation=UNLEARNCANVAS_CITATION,
        split_note="release layout <style>/<object>/<n>.jpg; per style x object images 1-18 train, 19 validation, "
        "20 test: 18,360 / 1,020 / 1,020 rows of the complete 20,400",
        recipe=dict(STABLE_DIFFUSION_RECIPE),
        sampling_batch_size=STABLE_DIFFUSION_SAMPLING_BATCH,
        default_model=STABLE_DIFFUSION_V1,
        concept_column=column,
    )


UNLEARNCANVAS_STYLE = register_task(
    unlearncanvas_task(
        "unlearncanvas_style",
        "style",
        UNLEARNCANVAS_STYLES,
        [style_words(s) for s in UNLEARNCANVAS_STYLES],
        "An image in {} style.",
        "An image.",
        "styles",
    )  # fmt: skip
)
UNLEARNCANVAS_OBJECT = register_task(
    unlearncanvas_task(
        "unlearncanvas_object",
        "object",
        UNLEARNCANVAS_OBJECTS,
        [object_words(o) for o in UNLEARNCANVAS_OBJECTS],
        "{} image.",
        "An image.",
        "objects",
    )  # fmt: skip
)
