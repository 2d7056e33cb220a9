"""``mubench evaluate``: score a model on a deletion config with every unlearning metric.

    mubench evaluate --model OUT --dataset DIR_OR_REPO --config digits_del5 \\
        [--retrain RETRAIN_DIR_OR_PREDICTIONS] [--base-model BASE_DIR | --original-test-accuracy 0.97]

One prediction pass per split, all metrics, written to ``unlearning_results.json`` (and the
per-split logits to ``predictions.npz``) in ``--output_dir`` (default: the model folder).
"""

from __future__ import annotations

import argparse
import json

from ..errors import MubenchError


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a share in [0, 1], got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mubench evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model folder or Hub id to score")
    parser.add_argument("--dataset", required=True, help="deletion repo folder or Hub dataset id")
    parser.add_argument("--config", required=True, help="deletion config, e.g. digits_del5")
    parser.add_argument("--task", default=None, help="task name or task file (default: from --config)")
    from ._tasks import add_task_file_flag

    add_task_file_flag(parser)
    parser.add_argument("--retrain", default=None, help="retrain reference: model folder or predictions.npz")
    parser.add_argument("--base-model", default=None, help="the original model (its card or a quick evaluation "
                        "gives the MU-Bench score's anchor)")  # fmt: skip
    parser.add_argument(
        "--original-test-accuracy", type=_share, default=None, help="the anchor, given directly (in [0, 1])"
    )
    parser.add_argument(
        "--processor", default=None, help="image processor or tokenizer (default: with --model)"
    )
    parser.add_argument("--output_dir", default=None, help="where to write the results (default: --model)")
    parser.add_argument(
        "--batch_size", type=_positive_int, default=256, help="evaluation batch size (default: 256)"
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="seed of the random teacher and the MIA attacker"
    )
    parser.add_argument("--cache_dir", default=None, help="cache_dir for datasets.load_dataset")
    parser.add_argument("--use_cpu", action="store_true", help="evaluate on the CPU even if a GPU is present")
    parser.add_argument(
        "--trust_remote_code",
        "--trust-remote-code",
        action="store_true",
        help="run Python code shipped in a Hub model or processor repo (off by default)",
    )
    parser.add_argument("--allow-pickle", "--allow_pickle", dest="allow_pickle", action="store_true",
                        help="load pickled weights (pytorch_model.bin) when there are no safetensors; "
                        "unpickling can run arbitrary code")  # fmt: skip
    add_bound_flags(parser)
    add_generation_flags(parser)
    add_sampling_flags(parser)
    add_relearn_flags(parser)
    add_lm_eval_flags(parser)
    add_attack_flags(parser)
    return parser


def add_sampling_flags(parser: argparse.ArgumentParser) -> None:
    """How a text-to-image task's report samples images (see mubench_hf/kinds/image_generation/sampling.py)."""
    group = parser.add_argument_group("text-to-image tasks (other tasks refuse these flags)")
    group.add_argument("--images-per-concept", "--images_per_concept", dest="images_per_concept",
                       type=_positive_int, default=None, help="images generated per concept (default 20)")  # fmt: skip
    group.add_argument("--inference-steps", "--inference_steps", dest="inference_steps", type=_positive_int,
                       default=None, help="DDIM steps per image (default 10)")  # fmt: skip
    group.add_argument("--guidance-scale", "--guidance_scale", dest="guidance_scale", type=float, default=None,
                       help="classifier-free guidance weight (default 3.0; 1 = none)")  # fmt: skip
    group.add_argument("--sampling-batch-size", "--sampling_batch_size", dest="sampling_batch_size",
                       type=_positive_int, default=None, help="images per sampling batch (default 500)")  # fmt: skip
    group.add_argument("--sampling-cpu-batch-size", "--sampling_cpu_batch_size", dest="sampling_cpu_batch_size",
                       type=_positive_int, default=None,
                       help="the most images per sampling batch on a CPU (default 100: measured fastest there; "
                            "the images do not depend on it)")  # fmt: skip
    group.add_argument("--sampling-seed", "--sampling_seed", dest="sampling_seed", type=int, default=None,
                       help="seed of the starting noise, the same for every model compared (default 0)")  # fmt: skip
    group.add_argument("--fid-features", "--fid_features", dest="fid_features", default=None,
                       choices=["classifier", "inception", "both"],  # inception.FID_FEATURES (torch-free here)
                       help="features of FID and KID: the task classifier's (default; offline), 'inception' "
                       "(the standard Inception-v3 FID/KID through torchmetrics: pip install "
                       "'mubench-hf[fid-inception]', weights downloaded from GitHub on first use) or 'both'")  # fmt: skip


SAMPLING_FLAGS = {"images_per_concept": "--images-per-concept", "inference_steps": "--inference-steps",
                  "guidance_scale": "--guidance-scale", "batch_size": "--sampling-batch-size",
                  "cpu_batch_size": "--sampling-cpu-batch-size", "seed": "--sampling-seed",
                  "fid_features": "--fid-features"}  # fmt: skip


def sampling_settings(args: argparse.Namespace) -> dict[str, object] | None:
    """The text-to-image sampling flags given (``None`` when none is: the report's defaults)."""
    given = {
        "images_per_concept": args.images_per_concept,
        "inference_steps": args.inference_steps,
        "guidance_scale": args.guidance_scale,
        "batch_size": args.sampling_batch_size,
        "cpu_batch_size": args.sampling_cpu_batch_size,
        "seed": args.sampling_seed,
        "fid_features": args.fid_features,
    }
    return {k: v for k, v in given.items() if v is not None} or None


def add_lm_eval_flags(parser: argparse.ArgumentParser) -> None:
    """``--lm-eval TASKS``: lm-evaluation-harness on the model, in process (mubench_hf/evaluation/harness.py)."""
    group = parser.add_argument_group(
        "lm-evaluation-harness (generation tasks; pip install 'mubench-hf[lmeval]')"
    )
    group.add_argument("--lm-eval", "--lm_eval", dest="lm_eval", default=None, metavar="TASKS",
                       help="comma-separated harness tasks (mmlu, wmdp_bio ...: data from the Hub) or this config's "
                       "local question splits (<task>_forget_mcq, <task>_utility_mcq); results go into the "
                       "report as lm_eval/<task>/acc")  # fmt: skip
    group.add_argument("--lm-eval-limit", "--lm_eval_limit", dest="lm_eval_limit", type=_positive_int,
                       default=None, help="at most this many questions per task (default: all)")  # fmt: skip
    group.add_argument("--lm-eval-batch-size", "--lm_eval_batch_size", dest="lm_eval_batch_size",
                       type=_positive_int, default=8, help="the harness's batch size (default 8)")  # fmt: skip


def lm_eval_results(args: argparse.Namespace, prepared: object) -> dict[str, float] | None:
    """The harness's results on the prepared model (``None`` without ``--lm-eval``)."""
    if args.lm_eval is None:
        if args.lm_eval_limit is not None:
            raise MubenchError("--lm-eval-limit: give --lm-eval TASKS too")
        return None
    from ..evaluation.harness import local_tasks, parse_task_list, run_lm_eval

    task = prepared.task  # type: ignore[attr-defined]
    if task.kind != "generation":
        raise MubenchError(
            f"--lm-eval scores language models; {task.name!r} is a {task.kind} task (drop the flag)"
        )
    from accelerate import PartialState

    # the device the report's own Trainer would pick (any accelerator, or the CPU with --use_cpu)
    model = prepared.model.to(PartialState(cpu=args.use_cpu).device)  # type: ignore[attr-defined]
    return run_lm_eval(model, prepared.processor, parse_task_list(args.lm_eval),  # type: ignore[attr-defined]
                       local=local_tasks(task.name, prepared.splits),  # type: ignore[attr-defined]
                       limit=args.lm_eval_limit, batch_size=args.lm_eval_batch_size, seed=args.seed)  # fmt: skip


def add_bound_flags(parser: argparse.ArgumentParser) -> None:
    """``--max-eval-rows`` and ``--eval-sample-seed`` (a bounded report) and ``--report-cache``."""
    parser.add_argument("--max-eval-rows", "--max_eval_rows", dest="max_eval_rows", type=_positive_int,
                        default=None, help="score each split (forget too) on a seeded sample of at most N rows, "
                        "the same rows for every model of the report (default: every row)")  # fmt: skip
    parser.add_argument("--eval-sample-seed", "--eval_sample_seed", dest="eval_sample_seed", type=int,
                        default=None, help="seed of the --max-eval-rows sample (default 0)")  # fmt: skip
    parser.add_argument("--no-progress", "--no_progress", dest="no_progress", action="store_true",
                        help="hide the scoring passes' progress bars (shown on a terminal)")  # fmt: skip
    parser.add_argument("--report-cache", "--report_cache", dest="report_cache", default=None,
                        help="folder where the base and retrain models' report values are kept for later "
                        "reports on the same rows (default: none)")  # fmt: skip


def add_attack_flags(parser: argparse.ArgumentParser) -> None:
    """``--attacks`` and the relearning attack's settings (see mubench_hf/evaluation/attacks/)."""
    from ..evaluation.attacks.settings import ATTACKS, PROBE_SOURCES
    from ..evaluation.attacks.settings import AttackSettings as A

    group = parser.add_argument_group("attacks on the forgetting (opt-in; both task kinds)")
    group.add_argument("--attacks", default=None, help=f"comma-separated, any of {','.join(ATTACKS)}: the forget "
                       "metric after weights are rounded to 8/4 bits, after a few relearning steps on part of "
                       "Df, and on Df asked in other words (paraphrase: generation tasks) "
                       "(<metric>_after_<attack>, <metric>_recovery_<attack>)")  # fmt: skip
    group.add_argument("--relearn-attack-steps", type=_positive_int, default=A.relearn_steps,
                       help=f"relearning attack: optimizer steps (default {A.relearn_steps})")  # fmt: skip
    group.add_argument("--relearn-attack-share", type=float, default=A.relearn_share,
                       help=f"relearning attack: seeded share of Df trained on, the rest is scored; in (0, 1) "
                       f"(default {A.relearn_share})")  # fmt: skip
    group.add_argument("--relearn-attack-lr", type=float, default=A.relearn_learning_rate,
                       help=f"relearning attack: learning rate (AdamW, constant; default {A.relearn_learning_rate})")  # fmt: skip
    group.add_argument("--relearn-attack-batch-size", type=_positive_int, default=A.relearn_batch_size,
                       help=f"relearning attack: batch size (default {A.relearn_batch_size})")  # fmt: skip
    group.add_argument("--paraphrase-attack-source", default=A.paraphrase_source, choices=PROBE_SOURCES,
                       help="paraphrase attack: 'auto' re-asks a row with the task's own paraphrased prompt where "
                       "it has one (TOFU's paraphrased questions), else a seeded template rewording; 'templates' "
                       f"always the templates (default {A.paraphrase_source})")  # fmt: skip


def attack_settings(args: argparse.Namespace) -> object:
    """The ``AttackSettings`` the flags ask for, or ``None`` without ``--attacks``."""
    from ..evaluation.attacks.settings import AttackSettings

    if not args.attacks:
        return None
    return AttackSettings(
        attacks=args.attacks,
        relearn_steps=args.relearn_attack_steps,
        relearn_share=args.relearn_attack_share,
        relearn_learning_rate=args.relearn_attack_lr,
        relearn_batch_size=args.relearn_attack_batch_size,
        paraphrase_source=args.paraphrase_attack_source,
    )


def add_generation_flags(parser: argparse.ArgumentParser) -> None:
    """How a generation task's report generates; a classification task refuses them (it generates nothing)."""
    group = parser.add_argument_group("generation tasks (a classification task refuses these flags)")
    group.add_argument("--max-new-tokens", "--max_new_tokens", dest="max_new_tokens", type=_positive_int,
                       default=None, help="greedy generation length limit in tokens (default 64)")  # fmt: skip
    group.add_argument("--generation-batch-size", "--generation_batch_size", dest="generation_batch_size",
                       type=_positive_int, default=None,
                       help="prompts per generation batch (default: --batch_size, at most 64)")  # fmt: skip
    group.add_argument("--chat-template", "--chat_template", dest="chat_template", default=None,
                       choices=["auto", "on", "off"], help="wrap prompts in the tokenizer's chat template: "
                       "auto (when it has one, as training does; default), on or off")  # fmt: skip
    group.add_argument("--max-length", "--max_length", dest="max_length", type=_positive_int, default=None,
                       help="context length prompts are left-truncated to (default: the model's)")  # fmt: skip


GENERATION_FLAGS = {"max_new_tokens": "--max-new-tokens", "batch_size": "--generation-batch-size",
                    "chat_template": "--chat-template", "max_length": "--max-length"}  # fmt: skip


def generation_settings(args: argparse.Namespace) -> dict[str, object] | None:
    """The generation flags given (``None`` when none is: the report's defaults)."""
    given = {
        "max_new_tokens": args.max_new_tokens,
        "batch_size": args.generation_batch_size,
        "chat_template": args.chat_template,
        "max_length": args.max_length,
    }
    given = {k: v for k, v in given.items() if v is not None}
    return given or None


def add_relearn_flags(
    parser: argparse.ArgumentParser, title: str = "relearn time (opt-in; needs --base-model)"
) -> None:
    """``--relearn-steps`` and its settings (see mubench_hf/evidence/relearn.py)."""
    from ..evidence.relearn import RELEARN_DEFAULTS as D

    group = parser.add_argument_group(title)
    group.add_argument("--relearn-steps", action="store_true", help="also measure relearn_steps: optimizer "
                       "steps of fine-tuning a copy on Df until the base model's forget accuracy is back")  # fmt: skip
    group.add_argument("--relearn-lr", type=float, default=D.learning_rate,
                       help=f"its learning rate (AdamW, constant; default {D.learning_rate})")  # fmt: skip
    group.add_argument("--relearn-batch-size", type=_positive_int, default=D.batch_size,
                       help=f"its batch size (default {D.batch_size})")  # fmt: skip
    group.add_argument("--relearn-cap", type=_positive_int, default=D.max_steps,
                       help=f"its step cap; never reached reports the cap with relearn_reached 0 "
                       f"(default {D.max_steps})")  # fmt: skip
    group.add_argument("--relearn-check-every", type=_positive_int, default=D.check_every,
                       help=f"steps between forget-accuracy checks (default {D.check_every})")  # fmt: skip
    group.add_argument("--relearn-tolerance", type=_share, default=D.tolerance,
                       help=f"how far below the base model's forget accuracy counts as back (default {D.tolerance})")  # fmt: skip


def relearn_settings(args: argparse.Namespace) -> object:
    """The ``RelearnSettings`` the flags ask for, or ``None`` without ``--relearn-steps``."""
    from ..evidence.relearn import RelearnSettings

    if not args.relearn_steps:
        return None
    if args.base_model is None:
        raise MubenchError("--relearn-steps needs --base-model BASE_DIR (the target is its forget accuracy)")
    return RelearnSettings(
        learning_rate=args.relearn_lr,
        batch_size=args.relearn_batch_size,
        max_steps=args.relearn_cap,
        check_every=args.relearn_check_every,
        tolerance=args.relearn_tolerance,
    )


def check_model(model: str, task: str | None, config: str) -> None:
    """Before any data is read: the model must be there, and be a model for the task's kind."""
    from ..model_source import check_model_kind, check_model_source
    from ..splits.layout import task_of_config
    from ..tasks import get_task

    check_model_source(model)
    check_model_kind(model, get_task(task or task_of_config(config)))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pathlib import Path

    from ..evaluation import RESULTS_FILE
    from ._tasks import use_task_files

    args.task = use_task_files(args.task, args.task_file, args.dataset)
    from ..modeling import loading_policy
    from ..pipeline import prepare, score

    output_dir = args.output_dir or args.model
    relearn = relearn_settings(args)
    attacks = attack_settings(args)  # bad names and settings fail before any data is read
    if args.fid_features in ("inception", "both"):
        from ..kinds.image_generation.inception import require_torch_fidelity

        require_torch_fidelity()
    if Path(output_dir).exists() and not Path(output_dir).is_dir():
        raise MubenchError(f"--output_dir {output_dir!r} is a file; pass a folder")
    check_model(args.model, args.task, args.config)
    with loading_policy(trust_remote_code=args.trust_remote_code, allow_pickle=args.allow_pickle):
        prepared = prepare(args.dataset, args.config, args.model, task=args.task, processor=args.processor,
                           cache_dir=args.cache_dir)  # fmt: skip
        generation = generation_settings(args)
        if generation is not None and prepared.task.kind != "generation":
            flags = ", ".join(GENERATION_FLAGS[k] for k in generation)
            raise MubenchError(f"{flags}: only generation tasks generate; {prepared.task.name!r} is a "
                               f"{prepared.task.kind} task (drop the flag)")  # fmt: skip
        sampling = sampling_settings(args)
        if sampling is not None and prepared.task.kind != "image_generation":
            flags = ", ".join(SAMPLING_FLAGS[k] for k in sampling)
            raise MubenchError(f"{flags}: only text-to-image tasks sample images; {prepared.task.name!r} is a "
                               f"{prepared.task.kind} task (drop the flag)")  # fmt: skip
        generation = sampling if sampling is not None else generation
        results = score(
            prepared,
            output_dir=output_dir,
            retrain=args.retrain,
            original_test_accuracy=args.original_test_accuracy,
            base_model=args.base_model,
            batch_size=args.batch_size,
            seed=args.seed,
            use_cpu=args.use_cpu,
            relearn=relearn,
            generation=generation,
            record=lm_eval_results(args, prepared),
            max_eval_rows=args.max_eval_rows,
            eval_sample_seed=args.eval_sample_seed,
            report_cache_dir=args.report_cache,
            progress=not args.no_progress,
            attacks=attacks,
        )
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()}, indent=2))
    print(f"wrote {output_dir}/{RESULTS_FILE}")
    return 0
