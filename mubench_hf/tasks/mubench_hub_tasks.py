"""MU-Bench's Hub tasks beyond CIFAR and IMDB: NLVR2 (image pairs + a sentence) and Tiny-ImageNet.

* ``nlvr2``: MU-Bench reads ``jialicheng/nlvr2``, JSON files ``train.json`` / ``dev.json`` / ``test.json``
  (``test2.json`` is NLVR2's second test set) with columns ``images`` (the pair's two image paths,
  LAVIS style, e.g. ``images/train/…-img0.png``), ``sentence`` and ``label`` (``"True"`` / ``"False"``).
  That repo holds the annotations only, not the photographs, so the images come from a local folder the
  paths are relative to: the ``source=`` folder itself when it holds the JSON files and the images, else
  ``$MUBENCH_NLVR2_IMAGES``. Rows are mapped onto ``image_left``, ``image_right``, ``text``, ``label``.
* ``tiny_imagenet``: ``zh-plus/tiny-imagenet`` (parquet; ``image`` 64x64, ``label`` a ClassLabel of the 200
  WordNet ids in sorted order; splits ``train`` 100,000 and ``valid`` 10,000, used as test since the
  official test split has no labels).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets

from ..errors import MubenchError
from .multi_input import MultiInputTask
from .registry import register_task
from .sources import HubSource, SourceLike, load_hub_source, load_source

NLVR2_REPO = "jialicheng/nlvr2"
# MU-Bench's split files in that repo (its load_nlvr2)
NLVR2_FILES = {"train": "train.json", "validation": "dev.json", "test": "test.json"}
NLVR2_IMAGES_ENV = "MUBENCH_NLVR2_IMAGES"
NLVR2_CLASS_NAMES = ("False", "True")

TINY_IMAGENET_REPO = "zh-plus/tiny-imagenet"
# The 200 WordNet ids of Tiny-ImageNet in sorted order: the ClassLabel order of the Hub copy.
TINY_IMAGENET_CLASSES = tuple(
    """
    n01443537 n01629819 n01641577 n01644900 n01698640 n01742172 n01768244 n01770393 n01774384 n01774750
    n01784675 n01855672 n01882714 n01910747 n01917289 n01944390 n01945685 n01950731 n01983481 n01984695
    n02002724 n02056570 n02058221 n02074367 n02085620 n02094433 n02099601 n02099712 n02106662 n02113799
    n02123045 n02123394 n02124075 n02125311 n02129165 n02132136 n02165456 n02190166 n02206856 n02226429
    n02231487 n02233338 n02236044 n02268443 n02279972 n02281406 n02321529 n02364673 n02395406 n02403003
    n02410509 n02415577 n02423022 n02437312 n02480495 n02481823 n02486410 n02504458 n02509815 n02666196
    n02669723 n02699494 n02730930 n02769748 n02788148 n02791270 n02793495 n02795169 n02802426 n02808440
    n02814533 n02814860 n02815834 n02823428 n02837789 n02841315 n02843684 n02883205 n02892201 n02906734
    n02909870 n02917067 n02927161 n02948072 n02950826 n02963159 n02977058 n02988304 n02999410 n03014705
    n03026506 n03042490 n03085013 n03089624 n03100240 n03126707 n03160309 n03179701 n03201208 n03250847
    n03255030 n03355925 n03388043 n03393912 n03400231 n03404251 n03424325 n03444034 n03447447 n03544143
    n03584254 n03599486 n03617480 n03637318 n03649909 n03662601 n03670208 n03706229 n03733131 n03763968
    n03770439 n03796401 n03804744 n03814639 n03837869 n03838899 n03854065 n03891332 n03902125 n03930313
    n03937543 n03970156 n03976657 n03977966 n03980874 n03983396 n03992509 n04008634 n04023962 n04067472
    n04070727 n04074963 n04099969 n04118538 n04133789 n04146614 n04149813 n04179913 n04251144 n04254777
    n04259630 n04265275 n04275548 n04285008 n04311004 n04328186 n04356056 n04366367 n04371430 n04376876
    n04398044 n04399382 n04417672 n04456115 n04465501 n04486054 n04487081 n04501370 n04507155 n04532106
    n04532670 n04540053 n04560804 n04562935 n04596742 n04597913 n06596364 n07579787 n07583066 n07614500
    n07615774 n07695742 n07711569 n07715103 n07720875 n07734744 n07747607 n07749582 n07753592 n07768694
    n07871810 n07873807 n07875152 n07920052 n09193705 n09246464 n09256479 n09332890 n09428293 n12267677
    """.split()
)


@dataclass(frozen=True)
class Nlvr2Task(MultiInputTask):
    """NLVR2 from MU-Bench's annotation files, with the photographs from a local folder."""

    def _load_raw(self, source: SourceLike) -> datasets.DatasetDict:
        if isinstance(source, (str, os.PathLike)) and _has_split_files(Path(source)):
            folder = Path(source)
            raw = datasets.load_dataset(
                "json", data_files={split: str(folder / name) for split, name in NLVR2_FILES.items()}
            )
            return _with_image_pairs(raw, folder, f"the source folder {folder}")
        if source is not None:
            raw = load_source(source, what=f"source for task {self.name!r}")
            if "image_left" in raw[next(iter(raw))].column_names:  # already split into left / right
                return _with_labels(raw)
            return _with_image_pairs(raw, _image_root(None), f"${NLVR2_IMAGES_ENV}")
        assert self.hub is not None
        annotations = _load_nlvr2_annotations(self.hub)
        return _with_image_pairs(annotations, _image_root(None), f"${NLVR2_IMAGES_ENV}")


def _has_split_files(folder: Path) -> bool:
    return folder.is_dir() and all((folder / name).is_file() for name in NLVR2_FILES.values())


def _load_nlvr2_annotations(hub: HubSource) -> datasets.DatasetDict:
    # MU-Bench's files by name: the repo's default split detection would fold test2.json into test
    files = HubSource(hub.repo_id, hub.revision, config_name=None)
    try:
        return datasets.load_dataset(files.repo_id, data_files=dict(NLVR2_FILES), revision=files.revision)
    except Exception:  # the same offline / unreachable message as every Hub task
        return load_hub_source(files, "task 'nlvr2'", "--source PATH (source=...)")


def _image_root(folder: Path | None) -> Path:
    root = folder or (Path(os.environ[NLVR2_IMAGES_ENV]) if os.environ.get(NLVR2_IMAGES_ENV) else None)
    if root is None or not root.is_dir():
        raise MubenchError(
            f"task 'nlvr2': {NLVR2_REPO} holds the annotations only; set {NLVR2_IMAGES_ENV} to the folder the "
            "'images' paths are relative to (NLVR2's photographs), or pass --source FOLDER holding "
            f"{', '.join(NLVR2_FILES.values())} and the images"
        )
    return root


def _with_labels(raw: datasets.DatasetDict) -> datasets.DatasetDict:
    """``label`` "True"/"False" (or booleans) as class indices 1/0."""

    def as_index(batch: dict[str, list]) -> dict[str, list]:
        labels = []
        for value in batch["label"]:
            text = str(value).strip().lower()
            if text not in ("true", "false"):
                raise MubenchError(f"task 'nlvr2': label {value!r} is neither 'True' nor 'False'")
            labels.append(int(text == "true"))
        return {"label": labels}

    out = {}
    for split, ds in raw.items():
        if isinstance(ds.features.get("label"), datasets.ClassLabel):
            out[split] = ds
            continue
        mapped = ds.map(as_index, batched=True, desc=f"nlvr2 {split} labels")
        out[split] = mapped.cast_column("label", datasets.ClassLabel(names=list(NLVR2_CLASS_NAMES)))
    return datasets.DatasetDict(out)


def _with_image_pairs(raw: datasets.DatasetDict, root: Path, where: str) -> datasets.DatasetDict:
    """``images`` (two paths relative to ``root``) → ``image_left`` / ``image_right`` image columns;
    a row with another number of images, or an image file that is not there, is an error naming it."""

    def split_pair(batch: dict[str, list], indices: list[int]) -> dict[str, list]:
        left, right = [], []
        for i, pair in zip(indices, batch["images"]):
            if pair is None or len(pair) != 2:
                raise MubenchError(
                    f"task 'nlvr2': row {i} lists {0 if pair is None else len(pair)} images; NLVR2 rows have two "
                    "(left, right)"
                )
            paths = [root / p for p in pair]
            for path in paths:
                if not path.is_file():
                    raise MubenchError(f"task 'nlvr2': row {i}: image {path} is not in {where}")
            left.append(str(paths[0]))
            right.append(str(paths[1]))
        return {"image_left": left, "image_right": right}

    out = {}
    for split, ds in raw.items():
        if "images" not in ds.column_names:
            raise MubenchError(
                f"task 'nlvr2': split {split!r} has no 'images' column (two image paths per row); "
                f"its columns are {ds.column_names}"
            )
        pairs = ds.map(split_pair, batched=True, with_indices=True, desc=f"nlvr2 {split} images")
        out[split] = pairs.cast_column("image_left", datasets.Image()).cast_column(
            "image_right", datasets.Image()
        )
    return _with_labels(datasets.DatasetDict(out))


def nlvr2_task() -> Nlvr2Task:
    """The ``nlvr2`` task (registered at the bottom of this module)."""
    return Nlvr2Task(
        name="nlvr2",
        modality="image_text",
        class_names=NLVR2_CLASS_NAMES,
        description="NLVR2: is a sentence true of a pair of photographs? MU-Bench's copy of the annotations.",
        hub=HubSource(NLVR2_REPO, column_mapping={"sentence": "text"}),
        validation_split="validation",
        license="cc-by-4.0",
        split_note=f"{', '.join(NLVR2_FILES.values())} of {NLVR2_REPO}; images from a local folder",
    )


def tiny_imagenet_task() -> Any:
    """The ``tiny_imagenet`` task (registered at the bottom of this module)."""
    from .base import Task

    return Task(
        name="tiny_imagenet",
        modality="image",
        class_names=TINY_IMAGENET_CLASSES,
        description="Tiny-ImageNet: 110,000 64x64 colour images in 200 ImageNet classes.",
        hub=HubSource(TINY_IMAGENET_REPO),
        test_split="valid",
        license="unknown",
        split_note="train (100,000) / valid (10,000, the labelled evaluation split) of zh-plus/tiny-imagenet",
    )


NLVR2 = register_task(nlvr2_task())


TINY_IMAGENET = register_task(tiny_imagenet_task())
