"""Sharing on the Hugging Face Hub: repo names, model cards, pushes and the leaderboard.

Every Hub call goes through ``huggingface_hub`` and honours ``HF_ENDPOINT`` and ``HF_TOKEN``.
"""

from .cards import read_provenance, read_results, render_model_card
from .leaderboard import (
    build_leaderboard,
    collect_hub,
    collect_local,
    leaderboard_markdown,
    write_leaderboard,
)
from .naming import base_model_repo_id, check_repo_id, unlearned_model_repo_id
from .push import PushResult, push_model, push_splits

__all__ = [
    "PushResult",
    "base_model_repo_id",
    "build_leaderboard",
    "check_repo_id",
    "collect_hub",
    "collect_local",
    "leaderboard_markdown",
    "push_model",
    "push_splits",
    "read_provenance",
    "read_results",
    "render_model_card",
    "unlearned_model_repo_id",
    "write_leaderboard",
]
