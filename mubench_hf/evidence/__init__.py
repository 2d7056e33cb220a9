"""Evidence beyond one model's metrics: relearn time over a sweep's models (``relearn_sweep``; the measure
itself, ``relearn``, is :mod:`mubench_hf.evaluation.relearn`, re-exported here), and the shadow-model
attacks that need many trained models (U-LiRA's shadows and the NeurIPS'23 epsilon score's inputs,
``ulira_shadows``).

The arithmetic lives in :mod:`mubench_hf.metrics` (``ulira``, ``epsilon_score``); this package trains or
reads the models it needs, through ``transformers.Trainer`` and the sweep machinery.
"""

from .relearn import RELEARN_DEFAULTS, RelearnResult, RelearnSettings, relearn_steps

__all__ = ["RELEARN_DEFAULTS", "RelearnResult", "RelearnSettings", "relearn_steps"]
