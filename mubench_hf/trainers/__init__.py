"""Unlearning methods as ``transformers.Trainer`` subclasses.

``UnlearnTrainer(model=..., args=UnlearnConfig(method="salun", ...), forget_dataset=...,
retain_dataset=...)`` returns the method's trainer (here ``SalUnTrainer``); ``.train()`` unlearns.
``list_methods()`` names the registered methods.
"""

from .altpo import AltPOConfig, AltPOTrainer
from .bad_teaching import BadTeachingConfig, BadTeachingTrainer
from .base import UnlearnTrainer
from .boundary_expand import BoundaryExpandTrainer
from .boundary_shrink import BoundaryShrinkConfig, BoundaryShrinkTrainer
from .ceu import CEUConfig, CEUTrainer
from .cf_k import CFkConfig, CFkTrainer
from .concept_ablation import ConceptAblationConfig, ConceptAblationTrainer
from .config import UnlearnConfig
from .conv_noise_finetune import ConvNoiseFinetuneConfig, ConvNoiseFinetuneTrainer
from .data import DataUse
from .delete import DeleteConfig, DeleteTrainer
from .erasediff import EraseDiffConfig, EraseDiffTrainer
from .errors import NonFiniteLossError, UnknownMethodError
from .esd import ESDConfig, ESDTrainer
from .eu_k import EUkConfig, EUkTrainer
from .finetune import FinetuneTrainer
from .fisher import FisherConfig, FisherTrainer
from .fmn import FMNConfig, FMNTrainer
from .forget_retain import ForgetRetainConfig, ForgetRetainTrainer
from .grad_ascent import GradAscentTrainer
from .grad_diff import GradDiffConfig, GradDiffTrainer
from .gru import GRUConfig, GRUTrainer
from .idk import IdkConfig, IdkTrainer
from .idk_dpo import IdkDPOConfig, IdkDPOTrainer
from .influence import InfluenceConfig, InfluenceTrainer
from .l1_sparse import L1SparseConfig, L1SparseTrainer
from .layer_noise_finetune import LayerNoiseFinetuneConfig, LayerNoiseFinetuneTrainer
from .neggrad_plus import NegGradPlusConfig, NegGradPlusTrainer
from .npo import NPOConfig, NPOTrainer
from .pdu import PDUConfig, PDUTrainer
from .prune_reinit_entropy import PruneReinitEntropyConfig, PruneReinitEntropyTrainer
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
from .reset_distill import ResetDistillConfig, ResetDistillTrainer
from .retrain import RetrainTrainer
from .rmu import RMUConfig, RMUTrainer
from .salun import SalUnConfig, SalUnTrainer
from .satimp import SatImpConfig, SatImpTrainer
from .scissorhands import ScissorhandsConfig, ScissorhandsTrainer
from .scrub import ScrubConfig, ScrubTrainer
from .sfr_on import SFROnConfig, SFROnTrainer
from .simnpo import SimNPOConfig, SimNPOTrainer
from .snip_reinit import SnipReinitConfig, SnipReinitTrainer
from .ssd import SSDConfig, SSDTrainer
from .successive_random_labels import SuccessiveRandomLabelsTrainer
from .task_vector import TaskVectorConfig, TaskVectorTrainer
from .transposed_kernels import TransposedKernelsTrainer
from .undial import UndialConfig, UndialTrainer
from .uniform_contrastive import UniformContrastiveConfig, UniformContrastiveTrainer
from .unsir import UNSIRConfig, UNSIRTrainer
from .wga import WGAConfig, WGATrainer
from .whp import WHPConfig, WHPTrainer

__all__ = [
    "AltPOConfig",
    "AltPOTrainer",
    "BadTeachingConfig",
    "BadTeachingTrainer",
    "BoundaryExpandTrainer",
    "BoundaryShrinkConfig",
    "BoundaryShrinkTrainer",
    "CFkConfig",
    "CFkTrainer",
    "ConceptAblationConfig",
    "ConceptAblationTrainer",
    "ConvNoiseFinetuneConfig",
    "ConvNoiseFinetuneTrainer",
    "CEUConfig",
    "CEUTrainer",
    "DataUse",
    "DeleteConfig",
    "DeleteTrainer",
    "ESDConfig",
    "ESDTrainer",
    "EUkConfig",
    "EraseDiffConfig",
    "EraseDiffTrainer",
    "EUkTrainer",
    "FinetuneTrainer",
    "FisherConfig",
    "FisherTrainer",
    "FMNConfig",
    "FMNTrainer",
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
    "InfluenceConfig",
    "InfluenceTrainer",
    "LayerNoiseFinetuneConfig",
    "LayerNoiseFinetuneTrainer",
    "L1SparseConfig",
    "L1SparseTrainer",
    "METHODS",
    "MethodSpec",
    "NPOConfig",
    "NPOTrainer",
    "Needs",
    "NegGradPlusConfig",
    "NegGradPlusTrainer",
    "NonFiniteLossError",
    "PLUGIN_GROUP",
    "PruneReinitEntropyConfig",
    "PruneReinitEntropyTrainer",
    "RandomLabelTrainer",
    "PDUConfig",
    "PDUTrainer",
    "RMUConfig",
    "RMUTrainer",
    "ResetDistillConfig",
    "ResetDistillTrainer",
    "RetrainTrainer",
    "SSDConfig",
    "SSDTrainer",
    "SalUnConfig",
    "SalUnTrainer",
    "ScissorhandsConfig",
    "ScissorhandsTrainer",
    "ScrubConfig",
    "ScrubTrainer",
    "SFROnConfig",
    "SFROnTrainer",
    "SimNPOConfig",
    "SnipReinitConfig",
    "SnipReinitTrainer",
    "SimNPOTrainer",
    "SuccessiveRandomLabelsTrainer",
    "TransposedKernelsTrainer",
    "UNSIRConfig",
    "UNSIRTrainer",
    "SatImpConfig",
    "SatImpTrainer",
    "TaskVectorConfig",
    "TaskVectorTrainer",
    "UndialConfig",
    "UndialTrainer",
    "UniformContrastiveConfig",
    "UniformContrastiveTrainer",
    "WGAConfig",
    "WGATrainer",
    "WHPConfig",
    "WHPTrainer",
    "UnknownMethodError",
    "UnlearnConfig",
    "UnlearnTrainer",
    "get_method",
    "get_spec",
    "list_methods",
    "method_specs",
    "register_method",
]
