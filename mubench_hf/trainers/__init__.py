"""Unlearning methods as ``transformers.Trainer`` subclasses.

``UnlearnTrainer(model=..., args=UnlearnConfig(method="salun", ...), forget_dataset=...,
retain_dataset=...)`` returns the method's trainer (here ``SalUnTrainer``); ``.train()`` unlearns.
``list_methods()`` names the registered methods.
"""

from .bad_teaching import BadTeachingConfig, BadTeachingTrainer
from .base import UnlearnTrainer
from .ceu import CEUConfig, CEUTrainer
from .config import UnlearnConfig
from .data import DataUse
from .delete import DeleteConfig, DeleteTrainer
from .errors import NonFiniteLossError, UnknownMethodError
from .finetune import FinetuneTrainer
from .forget_retain import ForgetRetainConfig, ForgetRetainTrainer
from .grad_ascent import GradAscentTrainer
from .grad_diff import GradDiffConfig, GradDiffTrainer
from .gru import GRUConfig, GRUTrainer
from .idk import IdkConfig, IdkTrainer
from .idk_dpo import IdkDPOConfig, IdkDPOTrainer
from .l1_sparse import L1SparseConfig, L1SparseTrainer
from .npo import NPOConfig, NPOTrainer
from .pdu import PDUConfig, PDUTrainer
from .random_label import RandomLabelTrainer
from .registry import (
    METHODS,
    PLUGIN_GROUP,
    MethodSpec,
    Needs,
    get_method,
    get_spec,
    list_methods,
    method_specs,
    register_method,
)
from .retrain import RetrainTrainer
from .rmu import RMUConfig, RMUTrainer
from .salun import SalUnConfig, SalUnTrainer
from .satimp import SatImpConfig, SatImpTrainer
from .scrub import ScrubConfig, ScrubTrainer
from .simnpo import SimNPOConfig, SimNPOTrainer
from .ssd import SSDConfig, SSDTrainer
from .task_vector import TaskVectorConfig, TaskVectorTrainer
from .undial import UndialConfig, UndialTrainer
from .wga import WGAConfig, WGATrainer

__all__ = [
    "METHODS",
    "PLUGIN_GROUP",
    "BadTeachingConfig",
    "BadTeachingTrainer",
    "CEUConfig",
    "CEUTrainer",
    "DataUse",
    "DeleteConfig",
    "DeleteTrainer",
    "FinetuneTrainer",
    "ForgetRetainConfig",
    "ForgetRetainTrainer",
    "GradAscentTrainer",
    "GradDiffConfig",
    "GradDiffTrainer",
    "GRUConfig",
    "GRUTrainer",
    "IdkConfig",
    "IdkDPOConfig",
    "IdkDPOTrainer",
    "IdkTrainer",
    "L1SparseConfig",
    "L1SparseTrainer",
    "MethodSpec",
    "NPOConfig",
    "NPOTrainer",
    "Needs",
    "NonFiniteLossError",
    "RandomLabelTrainer",
    "PDUConfig",
    "PDUTrainer",
    "RMUConfig",
    "RMUTrainer",
    "RetrainTrainer",
    "SSDConfig",
    "SSDTrainer",
    "SalUnConfig",
    "SalUnTrainer",
    "SatImpConfig",
    "SatImpTrainer",
    "SimNPOConfig",
    "SimNPOTrainer",
    "ScrubConfig",
    "ScrubTrainer",
    "TaskVectorConfig",
    "TaskVectorTrainer",
    "UndialConfig",
    "UndialTrainer",
    "WGAConfig",
    "WGATrainer",
    "UnknownMethodError",
    "UnlearnConfig",
    "UnlearnTrainer",
    "get_method",
    "get_spec",
    "list_methods",
    "method_specs",
    "register_method",
]
