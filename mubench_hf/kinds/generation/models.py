"""Language models for generation tasks: any ``AutoModelForCausalLM`` or ``AutoModelForSeq2SeqLM`` checkpoint
(or PEFT adapter folder), or a tiny one built from a config (``tiny:llama``, ``tiny:gpt2``, ``tiny:t5``) with
the tokenizer's vocabulary. A model of the wrong kind for the task (a causal LM for a seq2seq task, or the
reverse) is refused with the kinds that would fit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from transformers import PretrainedConfig

from ...errors import MubenchError
from ...modalities.text_generation import generation_modality
from ...modeling import config_from_spec, load_config, load_pretrained, resolve_policy

_KIND = {True: "seq2seq (encoder-decoder)", False: "causal (decoder-only)"}


def _token_fields(tokenizer: Any, seq2seq: bool) -> dict[str, Any]:
    fields = dict(
        vocab_size=len(tokenizer),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id,
    )
    if seq2seq:
        fields["decoder_start_token_id"] = tokenizer.pad_token_id
    return fields


def check_architecture(task: Any, config: PretrainedConfig, what: str) -> None:
    """Refuse a model whose kind (causal or seq2seq) is not the task's."""
    seq2seq = task.architecture == "seq2seq"
    is_seq2seq = bool(getattr(config, "is_encoder_decoder", False))
    if is_seq2seq != seq2seq:
        fits = ", ".join(f"tiny:{a}" for a in task.modality_spec.tiny_configs())
        raise MubenchError(
            f"{what} is a {_KIND[is_seq2seq]} language model ({getattr(config, 'model_type', '?')}), but task "
            f"{task.name!r} needs a {_KIND[seq2seq]} one ({task.modality_spec.auto_class().__name__}): pass "
            f"such a checkpoint, or {fits}"
        )


def tiny_generation_config(
    task: Any, architecture: str, tokenizer: Any, **overrides: Any
) -> PretrainedConfig:
    """A tiny config of ``architecture`` sized to ``tokenizer``'s vocabulary."""
    modality = task.modality_spec
    if architecture not in modality.tiny_configs():
        other = "causal" if task.architecture == "seq2seq" else "seq2seq"
        if architecture in generation_modality(other).tiny_configs():
            raise MubenchError(
                f"tiny:{architecture} is a {_KIND[other == 'seq2seq']} language model, but task {task.name!r} "
                f"needs a {_KIND[task.architecture == 'seq2seq']} one: use "
                + " or ".join(f"tiny:{a}" for a in modality.tiny_configs())
            )
    fields = _token_fields(tokenizer, modality.seq2seq) if tokenizer is not None else {}
    return modality.tiny_config(architecture, **{**fields, **overrides})


def build_generation_model(
    task: Any,
    model: str | os.PathLike | PretrainedConfig,
    tokenizer: Any,
    *,
    trust_remote_code: bool | None = None,
    allow_pickle: bool | None = None,
) -> Any:
    """A language model for ``task`` (see the module docstring)."""
    modality = task.modality_spec
    config = config_from_spec(
        model, lambda architecture: tiny_generation_config(task, architecture, tokenizer)
    )
    if config is not None:
        check_architecture(task, config, f"the config {getattr(config, 'model_type', '')!r}")
        return modality.auto_class().from_config(config)

    policy = resolve_policy(trust_remote_code, allow_pickle)
    path = Path(model)
    if (path / "adapter_config.json").is_file():
        from peft import PeftConfig, PeftModel

        adapter = PeftConfig.from_pretrained(str(path))
        base = build_generation_model(
            task, adapter.base_model_name_or_path, tokenizer,
            trust_remote_code=policy.trust_remote_code, allow_pickle=policy.allow_pickle,
        )  # fmt: skip
        return PeftModel.from_pretrained(base, str(path), is_trainable=True)
    check_architecture(task, load_config(model), f"model {str(model)!r}")
    loaded = load_pretrained(
        modality.auto_class(),
        model,
        trust_remote_code=policy.trust_remote_code,
        allow_pickle=policy.allow_pickle,
    )
    if tokenizer is not None and loaded.config.pad_token_id is None:
        loaded.config.pad_token_id = tokenizer.pad_token_id  # the pad token set on the tokenizer
    return loaded
