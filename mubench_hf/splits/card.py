"""The repo README: YAML configs + per-config dataset_info, and the dataset card body."""

from __future__ import annotations

import copy
from typing import Any

import datasets
import jinja2
import yaml
from datasets.info import DatasetInfo, DatasetInfosDict
from huggingface_hub import DatasetCardData

from ..resources import card_template
from ..tasks.builtin import MUBENCH_CITATION
from .layout import SPLIT_ORDER
from .manifest import cache_key

CARD_TEMPLATE = "dataset_card.md"


def _yaml_configs(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    configs = []
    for entry in manifest["tasks"].values():
        for name, splits in entry["configs"].items():
            # Fresh lists for every config: shared objects would make PyYAML write anchors/aliases.
            data_files = [
                {"split": split, "path": list(splits[split])} for split in SPLIT_ORDER if split in splits
            ]
            # the content hash as the builder's description: a plain load_dataset(folder, name) then caches
            # each content apart (see manifest.cache_key)
            configs.append({"config_name": name, "data_files": data_files, "description": cache_key(entry)})
    return configs


def _dataset_infos(manifest: dict[str, Any]) -> DatasetInfosDict:
    infos = DatasetInfosDict()
    for entry in manifest["tasks"].values():
        features = datasets.Features.from_dict(entry["features"])
        for name, sizes in entry["split_sizes"].items():
            split_dict = datasets.SplitDict()
            for split in SPLIT_ORDER:
                if split in sizes:
                    split_dict.add(datasets.SplitInfo(name=split, num_examples=sizes[split]))
            infos[name] = DatasetInfo(features=copy.deepcopy(features), splits=split_dict)
    return infos


class _NoAliasDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml when present: 10x faster
    """Never write YAML anchors/aliases: the Hub's YAML validation and some readers reject them."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with libyaml when present: a README header of many configs parses 10x faster."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def dump_yaml(data: dict[str, Any]) -> str:
    return yaml.dump(
        data, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True, default_flow_style=False
    )


def _task_category(modality: str) -> str:
    """The Hub task category of a modality's tasks; a manifest may name one not registered here."""
    from ..modalities import UnknownModalityError, get_modality

    try:
        return get_modality(modality).pipeline_tag
    except UnknownModalityError:
        return "other"


def _card_data(manifest: dict[str, Any]) -> DatasetCardData:
    tasks = list(manifest["tasks"].values())
    modalities = {t["modality"] for t in tasks}
    card_data = DatasetCardData(
        license=sorted({t["license"] for t in tasks}) if len(tasks) > 1 else tasks[0]["license"],
        pretty_name="mubench-hf deletion splits",
        task_categories=sorted({_task_category(m) for m in modalities}),
        tags=["mubench", "machine-unlearning"],
        configs=_yaml_configs(manifest),
    )
    _dataset_infos(manifest).to_dataset_card_data(card_data)
    return card_data


def card_metadata(manifest: dict[str, Any]) -> dict[str, Any]:
    """The README's YAML header for ``manifest``, as ``yaml.safe_load`` reads it back (what verify compares)."""
    return load_yaml(dump_yaml(_card_data(manifest).to_dict()))


def render_card(manifest: dict[str, Any], repo_id: str = "path/to/this/folder") -> str:
    """The README text (YAML metadata + card) for a repo described by ``manifest`` (see ``manifest.py``).

    ``huggingface_hub.DatasetCard(text)`` reads it back; it is rendered here with jinja2 and libyaml
    directly because ``DatasetCard.from_template`` dumps and re-parses the YAML in pure Python, which
    costs more than writing the data of a small task."""
    tasks = list(manifest["tasks"].values())
    card_data = _card_data(manifest)
    task_views = []
    for entry in tasks:
        split_names = [s for s in SPLIT_ORDER if any(s in sizes for sizes in entry["split_sizes"].values())]
        task_views.append({**entry, "split_names": split_names})
    first_config = next(iter(tasks[0]["configs"]))
    template = jinja2.Template(card_template(CARD_TEMPLATE).read_text(encoding="utf-8"))
    return template.render(
        card_data=dump_yaml(card_data.to_dict()).strip(),
        pretty_name="mubench-hf deletion splits: " + ", ".join(t["name"] for t in tasks),
        repo_id=repo_id,
        example_config=first_config,
        content_hash=manifest["content_hash"],
        tasks=task_views,
        citation=MUBENCH_CITATION,
    )
