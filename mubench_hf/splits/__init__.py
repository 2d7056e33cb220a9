"""Deletion splits: MU-Bench forget/retain splits stored once and published as dataset configs."""

from .build import DEFAULT_OUTPUT_DIR, DEFAULT_SEED, BuildResult, build_splits
from .load import load_deletion_config
from .manifest import MANIFEST_NAME, is_mubench_repo, read_manifest
from .ratios import DEFAULT_RATIOS
from .verify import verify_repo

__all__ = [
    "DEFAULT_OUTPUT_DIR",
    "DEFAULT_RATIOS",
    "DEFAULT_SEED",
    "MANIFEST_NAME",
    "BuildResult",
    "build_splits",
    "is_mubench_repo",
    "load_deletion_config",
    "read_manifest",
    "verify_repo",
]
