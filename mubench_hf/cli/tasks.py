"""``mubench tasks``: the registered tasks and where their data comes from."""

from __future__ import annotations

import argparse

from ..tasks import TASKS


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(prog="mubench tasks", description=__doc__).parse_args(argv)
    width = max(len(name) for name in TASKS)
    for name, task in sorted(TASKS.items()):
        ood = f"; OOD {task.ood.describe()}" if task.ood else ""
        print(
            f"{name:<{width}}  {task.modality:<5}  {task.num_labels:>3} classes  {task.source_description()}{ood}"
        )
    return 0
