"""``UnlearnConfig``: the training arguments of every unlearning method.

It extends ``transformers.TrainingArguments`` (TRL's pattern), so every ``Trainer`` flag keeps working
(learning rate, batch size, gradient accumulation, checkpoints, mixed precision, ``push_to_hub`` ...).
Methods with hyper-parameters of their own subclass it (``SalUnConfig``, ``ScrubConfig`` ...), and
``UnlearnConfig(method="scrub", kd_temperature=2.0, ...)`` builds the method's config directly (as
``UnlearnTrainer(args=...)`` builds the method's trainer), so its fields can be given either way.
A config of another class handed to a trainer is upgraded with ``UnlearnConfig.for_method``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from transformers import TrainingArguments

from ..errors import MubenchError
from ..evaluation.attacks.settings import ATTACKS, AttackSettings
from ..evaluation.eval_sample import check_max_eval_rows
from ..kinds.image_generation.inception import FID_FEATURES, require_torch_fidelity, uses_inception
from ..training import check_training_numbers
from .registry import get_spec, spec_for_config

PAIR_ANCHORS = ("longest", "forget", "retain")
_ATTACK = AttackSettings()  # the attacks' defaults, declared once
CHAT_TEMPLATE_CHOICES = ("auto", "on", "off")  # generation_chat_template
SELECT_CHOICES = ("last", "best")  # select_checkpoint (see curves.py)


@dataclass
class UnlearnConfig(TrainingArguments):
    """Arguments shared by all unlearning methods (plus everything ``TrainingArguments`` has)."""

    method: str | None = field(
        default=None,
        metadata={
            "help": "Unlearning method, e.g. 'grad_ascent', 'salun', 'scrub' "
            "(mubench_hf.trainers.list_methods() lists them all)."
        },
    )
    retrain_reference: str | None = field(
        default=None,
        metadata={
            "help": "The retrained reference for the unlearning report: its model folder, its predictions.npz, "
            "or a folder holding one. Adds forget quality and the gap to retrain."
        },
    )
    original_test_accuracy: float | None = field(
        default=None,
        metadata={
            "help": "Test accuracy of the original model (the MU-Bench score's anchor). By default it is read "
            "from the original model's card, or measured on the test split before unlearning starts."
        },
    )
    base_model_id: str | None = field(
        default=None,
        metadata={
            "help": "Hub id of the model being unlearned, written as base_model in the unlearned model's card "
            "(links the Hub's model tree). By default the model's name_or_path."
        },
    )
    unlearning_report: bool = field(
        default=True,
        metadata={
            "help": "Add the unlearning report (every metric on forget/retain/test) to evaluate() calls made "
            "outside training, and write unlearning_results.json to output_dir."
        },
    )
    pair_anchor: str = field(
        default="longest",
        metadata={
            "help": "Methods that read paired forget+retain batches: which set fixes the length of an epoch. "
            "'longest' visits every forget and every retain row each epoch (the shorter set is cycled); "
            "'forget' or 'retain' makes an epoch one pass over that set, with partners from the other set "
            "chosen by a seeded permutation.",
            "choices": list(PAIR_ANCHORS),
        },
    )
    generation_max_new_tokens: int = field(
        default=64,
        metadata={
            "help": "Generation tasks' report: greedy generation length limit (tokens) behind the ROUGE-L "
            "metrics and generations.jsonl. Ignored by classification tasks."
        },
    )
    generation_batch_size: int | None = field(
        default=None,
        metadata={
            "help": "Generation tasks' report: prompts per generation batch and answers per scoring forward "
            "(default: per_device_eval_batch_size, at most 64). Ignored by classification tasks."
        },
    )
    generation_chat_template: str = field(
        default="auto",
        metadata={
            "help": "Generation tasks' report: wrap prompts in the tokenizer's chat template. 'auto': when it "
            "has one (causal LMs; what training does), 'on': always (an error without one), 'off': never. "
            "Ignored by classification tasks.",
            "choices": list(CHAT_TEMPLATE_CHOICES),
        },
    )
    generation_max_length: int | None = field(
        default=None,
        metadata={
            "help": "Generation tasks' report: context length prompts are left-truncated to (default: the "
            "model's). Ignored by classification tasks."
        },
    )
    t2i_images_per_concept: int | None = field(
        default=None,
        metadata={"help": "Text-to-image tasks' report: images generated per concept (default 20)."},
    )
    t2i_inference_steps: int | None = field(
        default=None, metadata={"help": "Text-to-image tasks' report: DDIM steps per image (default 10)."}
    )
    t2i_guidance_scale: float | None = field(
        default=None,
        metadata={
            "help": "Text-to-image tasks' report: classifier-free guidance weight (default 3.0; 1 = none)."
        },
    )
    t2i_fid_features: str | None = field(
        default=None,
        metadata={
            "help": "Text-to-image tasks' report: the features of FID and KID. 'classifier' (default): the task "
            "classifier's (offline); 'inception': the standard Inception-v3 FID/KID through torchmetrics "
            "(pip install 'mubench-hf[fid-inception]'; weights downloaded from GitHub on first use); 'both'.",
            "choices": list(FID_FEATURES),
        },
    )
    max_eval_rows: int | None = field(
        default=None,
        metadata={
            "help": "Bound the unlearning report: each scored split (forget too) is cut to a seeded sample of "
            "at most this many rows, the same rows for the unlearned, original and retrain models; the seed "
            "and the rows' sample_id hash are recorded in unlearning_results.json (default: every row)."
        },
    )
    eval_sample_seed: int = field(
        default=0,
        metadata={
            "help": "Seed of the max_eval_rows sample (fixed by default, so every cell of a sweep scores "
            "the same rows whatever its training seed)."
        },
    )
    report_cache_dir: str | None = field(
        default=None,
        metadata={
            "help": "A folder where the report keeps the original and retrain models' values (logits, "
            "generations), keyed by model content, rows and settings, for later reports to reuse "
            "(default: kept in memory for the process only). A sweep sets its own."
        },
    )

    attacks: str = field(
        default="",
        metadata={
            "help": f"Attacks on the forgetting the report runs (comma-separated, opt-in): {', '.join(ATTACKS)}. "
            "Reports <metric>_after_<attack> (the forget metric of the attacked model) and "
            "<metric>_recovery_<attack> (the share of what unlearning removed that comes back); both kinds "
            "(paraphrase: generation tasks)."
        },
    )
    relearn_attack_steps: int = field(
        default=_ATTACK.relearn_steps,
        metadata={
            "help": "Relearning attack: optimizer steps of fine-tuning on part of Df (AdamW, constant rate)."
        },
    )
    relearn_attack_share: float = field(
        default=_ATTACK.relearn_share,
        metadata={
            "help": "Relearning attack: the seeded share of Df it trains on; the rest is scored. In (0, 1)."
        },
    )
    relearn_attack_lr: float = field(
        default=_ATTACK.relearn_learning_rate, metadata={"help": "Relearning attack: its learning rate."}
    )
    relearn_attack_batch_size: int = field(
        default=_ATTACK.relearn_batch_size, metadata={"help": "Relearning attack: its batch size."}
    )
    paraphrase_attack_source: str = field(
        default=_ATTACK.paraphrase_source,
        metadata={
            "help": "Paraphrase attack (generation tasks): 'auto' re-asks a forget row with the task's own "
            "paraphrased prompt where it has one (TOFU's paraphrased questions), else a seeded template "
            "rewording; 'templates' always the templates."
        },
    )

    eval_during_unlearning: int = field(
        default=0,
        metadata={
            "help": "Score the model every N optimizer steps while it unlearns (0: never), on the forget and "
            "validation splits only (never test), with the gap to the retrain reference when one is given; "
            "writes curve.jsonl and curve.png to output_dir. Classification tasks."
        },
    )
    select_checkpoint: str = field(
        default="last",
        metadata={
            "help": "Which weights the run keeps, reports and pushes: 'last' (the final step) or 'best' (the "
            "evaluated step with the lowest validation gap to retrain, |Acc_Df - Acc_Df(retrain)| + "
            "|Acc_val - Acc_val(retrain)|; needs --eval_during_unlearning and --retrain_reference).",
            "choices": list(SELECT_CHOICES),
        },
    )

    def __new__(cls, *args: object, **kwargs: object) -> UnlearnConfig:
        method = kwargs.get("method")
        if cls is UnlearnConfig and isinstance(method, str) and method:
            cls = get_spec(method).config
        return super().__new__(cls)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.method:  # a method's own config class names its method (read from its declaration)
            spec = spec_for_config(type(self))
            self.method = spec.name if spec is not None else None
        check_training_numbers(self)
        if self.pair_anchor not in PAIR_ANCHORS:
            raise MubenchError(f"pair_anchor must be one of {list(PAIR_ANCHORS)}, got {self.pair_anchor!r}")
        for name in ("generation_max_new_tokens", "generation_batch_size", "generation_max_length",
                     "t2i_images_per_concept", "t2i_inference_steps"):  # fmt: skip
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise MubenchError(f"{name} must be a positive integer, got {value!r}")
        if self.t2i_fid_features is not None and uses_inception(self.t2i_fid_features):
            require_torch_fidelity()  # before the unlearning, not in its report
        self._check_checkpoint_selection()
        check_max_eval_rows(self.max_eval_rows)
        AttackSettings.from_args(self)  # bad attack settings fail here, not after the unlearning
        if self.generation_chat_template not in CHAT_TEMPLATE_CHOICES:
            raise MubenchError(
                f"generation_chat_template must be one of {list(CHAT_TEMPLATE_CHOICES)}, "
                f"got {self.generation_chat_template!r}"
            )

    def _check_checkpoint_selection(self) -> None:
        every = self.eval_during_unlearning
        if isinstance(every, bool) or not isinstance(every, int) or every < 0:
            raise MubenchError(
                f"eval_during_unlearning must be a whole number of steps >= 0 (0: off), got {every!r}"
            )
        if self.select_checkpoint not in SELECT_CHOICES:
            raise MubenchError(
                f"select_checkpoint must be one of {list(SELECT_CHOICES)}, got {self.select_checkpoint!r}"
            )
        if self.select_checkpoint == "best" and every == 0:
            raise MubenchError(
                "select_checkpoint='best' chooses among the evaluated steps: set eval_during_unlearning to N > 0"
            )

    @classmethod
    def for_method(cls, args: TrainingArguments | None, method: str) -> UnlearnConfig:
        """``args`` as an instance of ``cls`` with ``method`` set.

        Fields ``args`` has keep their values, fields only ``cls`` defines get their defaults, so a
        plain ``UnlearnConfig(method="salun")`` (or even a ``TrainingArguments``) becomes a
        ``SalUnConfig`` with SalUn's default sparsity. A different ``method`` already set is an error.
        """
        if args is None:
            raise MubenchError(
                f"method {method!r} needs args=UnlearnConfig(output_dir=..., method={method!r})"
            )
        current = getattr(args, "method", None)
        if current not in (None, "", method):
            raise MubenchError(
                f"args.method is {current!r} but the trainer runs {method!r}; build UnlearnTrainer "
                f"(which dispatches on args.method) or set method={method!r}"
            )
        if type(args) is cls and current == method:
            return args
        values = {f.name: getattr(args, f.name) for f in dataclasses.fields(args) if f.init}
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        values = {k: v for k, v in values.items() if k in known}
        values["method"] = method
        return cls(**values)
