"""Unlearning methods as ``transformers.Trainer`` subclasses.

``UnlearnTrainer(model=..., args=UnlearnConfig(method="salun", ...), forget_dataset=...,
retain_dataset=...)`` returns the method's trainer (here ``SalUnTrainer``); ``.train()`` unlearns.
``list_methods()`` names the registered methods.
"""

from .bad_teaching import BadTeachingConfig, BadTeachingTrainer
from .base import UnlearnTrainer
from .config import UnlearnConfig
from .data import DataUse
from .delete import DeleteConfig, DeleteTrainer
from .errors import NonFiniteLossError, UnknownMethodError
from .finetune import FinetuneTrainer
from .grad_ascent import GradAscentTrainer
from .grad_diff import GradDiffConfig, GradDiffTrainer
from .l1_sparse import L1SparseConfig, L1SparseTrainer
from .npo import NPOConfig, NPOTrainer
from .random_label import RandomLabelTrainer
from .registry import METHODS, get_method, list_methods, register_method
from .retrain import RetrainTrainer
from .salun import SalUnConfig, SalUnTrainer
from .scrub import ScrubConfig, ScrubTrainer
from .ssd import SSDConfig, SSDTrainer

__all__ = [
    "METHODS",
    "BadTeachingConfig",
    "BadTeachingTrainer",
    "DataUse",
    "DeleteConfig",
    "DeleteTrainer",
    "FinetuneTrainer",
    "GradAscentTrainer",
    "GradDiffConfig",
    "GradDiffTrainer",
    "L1SparseConfig",
    "L1SparseTrainer",
    "NPOConfig",
    "NPOTrainer",
    "NonFiniteLossError",
    "RandomLabelTrainer",
    "RetrainTrainer",
    "SSDConfig",
    "SSDTrainer",
    "SalUnConfig",
    "SalUnTrainer",
    "ScrubConfig",
    "ScrubTrainer",
    "UnknownMethodError",
    "UnlearnConfig",
    "UnlearnTrainer",
    "get_method",
    "list_methods",
    "register_method",
]
