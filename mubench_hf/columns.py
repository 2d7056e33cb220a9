"""Fast whole-column reads from ``datasets.Dataset``.

``dataset[name]`` and the numpy format walk the rows one by one in datasets 5 (seconds for 60k rows);
reading the Arrow column is a copy-free view that respects any ``select`` indices.
"""

from __future__ import annotations

import datasets
import numpy as np

#: The label of token positions no loss scores (Hugging Face's convention): prompts and padding.
IGNORE_INDEX = -100


def column_numpy(dataset: datasets.Dataset, name: str) -> np.ndarray:
    """One column of ``dataset`` as a NumPy array (fast path for numeric columns)."""
    return np.asarray(dataset.with_format("arrow")[name])
