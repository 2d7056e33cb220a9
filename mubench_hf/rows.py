"""``RowDataset``: any indexable dataset presented to ``Trainer`` (and to our own loaders) as rows.

It sits below both the trainers and the evaluation code, which both need it.
"""

from __future__ import annotations

from typing import Any

from torch.utils.data import Dataset


class RowDataset(Dataset):
    """Presents any indexable dataset to ``Trainer`` as a plain torch ``Dataset``.

    ``Trainer`` drops the columns of a ``datasets.Dataset`` that the model's ``forward`` does not take
    *before* a ``with_transform`` formatter runs, which would remove the ``image``/``text`` input the
    transform needs. Behind this wrapper the columns are filtered after the transform, per batch.
    """

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.dataset[int(index)]
