"""The audio modality, the offline ``spoken_keywords`` task, the Hub ``speech_commands`` task (from an
upstream-shaped fixture), models of the wrong modality, LoRA on audio backbones and unlearning on audio."""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import datasets
import numpy as np
import pytest
import torch
from transformers import (
    AutoFeatureExtractor,
    AutoModelForAudioClassification,
    HubertConfig,
    Wav2Vec2Config,
    Wav2Vec2FeatureExtractor,
    WhisperConfig,
    WhisperFeatureExtractor,
)

from mubench_hf import build_splits
from mubench_hf.errors import MubenchError
from mubench_hf.kinds.classification import (
    build_model,
    data_collator_for,
    load_processor,
    prepare_splits,
    resolve_model,
    task_transform,
    tiny_config,
)
from mubench_hf.modalities import audio as audio_module
from mubench_hf.modalities import get_modality
from mubench_hf.modalities.audio import (
    SAMPLING_RATE,
    AudioCollator,
    SamplingRateError,
    decode_clip,
    default_feature_extractor,
)
from mubench_hf.tasks import TASKS, get_task
from mubench_hf.tasks import spoken_keywords as keywords
from mubench_hf.tasks.speech_commands import SPEECH_COMMANDS_CLASSES
from tests.fixtures.audio_upstream import SPEECH_COMMANDS_V001_LABELS, speech_commands_like

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ARCHITECTURES = {"wav2vec2": Wav2Vec2Config, "hubert": HubertConfig, "whisper": WhisperConfig}
# Clips per word of the small copy of spoken_keywords most tests use (8 train, 1 validation, 1 test).
SMALL = 10


def _wav(samples: np.ndarray, rate: int = SAMPLING_RATE) -> dict:
    return {"bytes": keywords.wav_bytes(samples, rate), "path": None}


def _audio_rows(waves: list[np.ndarray], rate: int = SAMPLING_RATE, labels: list[int] | None = None):
    features = datasets.Features(
        {"audio": datasets.Audio(sampling_rate=SAMPLING_RATE), "label": datasets.ClassLabel(num_classes=10)}
    )
    labels = labels if labels is not None else [i % 10 for i in range(len(waves))]
    return datasets.Dataset.from_dict(
        {"audio": [_wav(w, rate) for w in waves], "label": labels}, features=features
    )


def _waves(n: int, seed: int = 0, seconds: float = 1.0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(0.2 * rng.standard_normal(int(seconds * SAMPLING_RATE))).astype(np.float32) for _ in range(n)]


@pytest.fixture(scope="session")
def keyword_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("spoken_keywords_cache")


@pytest.fixture(scope="session")
def small_keywords(keyword_cache: Path) -> datasets.DatasetDict:
    """spoken_keywords with 10 clips per word, generated once per session."""
    return keywords.load_spoken_keywords_splits(SMALL, cache_dir=keyword_cache, show_progress=False)


@pytest.fixture
def small_keyword_task(small_keywords, keyword_cache, monkeypatch):
    """The registered spoken_keywords task, reading the small session copy."""
    task = dataclasses.replace(
        get_task("spoken_keywords"),
        loader=functools.partial(
            keywords.load_spoken_keywords_splits, SMALL, cache_dir=keyword_cache, show_progress=False
        ),
    )
    monkeypatch.setitem(TASKS, task.name, task)
    return task


# ------------------------------------------------------------------------------ what the modality owns
def test_the_audio_modality_owns_its_column_feature_classes_and_tiny_models():
    modality, task = get_modality("audio"), get_task("spoken_keywords")
    assert modality.input_column == task.input_column == "audio"
    assert task.features["audio"] == datasets.Audio(sampling_rate=16_000) == modality.input_feature()
    assert modality.auto_class() is AutoModelForAudioClassification
    assert modality.processor_class() is AutoFeatureExtractor
    assert modality.pipeline_tag == "audio-classification"
    assert set(modality.tiny_configs()) == set(ARCHITECTURES)
    for architecture, config_class in ARCHITECTURES.items():
        config = tiny_config(task, architecture)
        assert type(config) is config_class and config.num_labels == 10 and config.id2label[8] == "stop"
    with pytest.raises(MubenchError, match="for audio tasks; known: wav2vec2, hubert, whisper"):
        tiny_config(task, "resnet")


def test_tasks_list_the_audio_tasks_as_such():
    from mubench_hf.cli.tasks import task_record

    keywords_record, commands_record = (
        task_record(get_task("spoken_keywords")),
        task_record(get_task("speech_commands")),
    )
    assert keywords_record["modality"] == commands_record["modality"] == "audio"
    assert keywords_record["offline"] is True and commands_record["offline"] is False
    assert keywords_record["num_labels"] == 10 and commands_record["num_labels"] == 12
    assert "google/speech_commands@refs/convert/parquet" == commands_record["source"]


def test_model_cards_carry_the_audio_pipeline_tag():
    from mubench_hf.hub.cards import render_model_card

    card = render_model_card(
        "base", task="spoken_keywords", dataset_repo="me/splits", dataset_hash=None,
        backbone="tiny", recipe={}, seed=0, results={"test_accuracy": 0.5}, model_name="me/m",
    )  # fmt: skip
    assert card.data.pipeline_tag == "audio-classification"
    assert "from transformers import AutoModelForAudioClassification" in str(card)


# ------------------------------------------------------------------------ decoding and feature extraction
def test_an_audio_column_decodes_with_torchcodec_to_the_stored_samples():
    wave_in = _waves(1)[0]
    row = _audio_rows([wave_in])[0]["audio"]  # a torchcodec decoder
    got = decode_clip(row)
    assert got.dtype == np.float32 and got.shape == (SAMPLING_RATE,)
    assert np.max(np.abs(got - wave_in)) < 2 / 32768  # 16-bit quantisation only
    # undecoded rows and in-memory arrays give the same waveform
    assert np.array_equal(decode_clip(_wav(wave_in)), got)
    assert np.array_equal(decode_clip({"array": got, "sampling_rate": SAMPLING_RATE}), got)


@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_each_family_gets_its_feature_extractor_and_the_model_runs_on_its_inputs(architecture):
    config = tiny_config("spoken_keywords", architecture)
    extractor = default_feature_extractor(config)
    want = WhisperFeatureExtractor if architecture == "whisper" else Wav2Vec2FeatureExtractor
    assert type(extractor) is want and extractor.sampling_rate == SAMPLING_RATE
    assert load_processor("spoken_keywords", f"tiny:{architecture}") is None  # built from the config instead
    model = build_model("spoken_keywords", config).eval()
    rows = _audio_rows(_waves(2, seconds=1.0) + _waves(1, seed=1, seconds=0.6))
    out = task_transform("spoken_keywords", model)(rows[:3])
    assert out["labels"] == [0, 1, 2]
    batch = data_collator_for("spoken_keywords")([{k: v[i] for k, v in out.items()} for i in range(3)])
    name = model.main_input_name
    if architecture == "whisper":  # every clip padded to the encoder's 1 s window of 100 frames
        assert batch[name].shape == (3, 40, 100)
    else:  # raw waveforms, padded to the longest clip of the batch
        assert batch[name].shape == (3, SAMPLING_RATE) and torch.all(batch[name][2, 9600:] == 0)
    with torch.no_grad():
        logits = model(**{name: batch[name]}).logits
    assert logits.shape == (3, 10) and torch.isfinite(logits).all()


def test_the_collator_pads_waveforms_and_attention_masks():
    rows = [
        {"input_values": torch.ones(5), "attention_mask": torch.ones(5, dtype=torch.int32), "label": 1},
        {"input_values": torch.ones(3), "attention_mask": torch.ones(3, dtype=torch.int32), "label": 0},
    ]
    batch = AudioCollator(padding_value=-1.0)(rows)
    assert batch["input_values"].tolist() == [[1.0] * 5, [1.0, 1.0, 1.0, -1.0, -1.0]]
    assert batch["attention_mask"].tolist() == [[1] * 5, [1, 1, 1, 0, 0]]
    assert batch["labels"].tolist() == [1, 0]


def test_a_layer_norm_wav2vec2_gets_an_attention_mask():
    config = tiny_config("spoken_keywords", "wav2vec2", feat_extract_norm="layer", do_stable_layer_norm=True)
    out = task_transform("spoken_keywords", config)(_audio_rows(_waves(1, seconds=0.5))[:1])
    assert (
        out["attention_mask"][0].shape == (SAMPLING_RATE // 2,)
        and int(out["attention_mask"][0].sum()) == 8000
    )


def test_decoding_happens_once_per_split_not_once_per_epoch(monkeypatch):
    calls = []
    real = audio_module.decode_clip
    monkeypatch.setattr(audio_module, "decode_clip", lambda value: calls.append(1) or real(value))
    rows = _audio_rows(_waves(6)).add_column("sample_id", list(range(6)))
    model = build_model("spoken_keywords", tiny_config("spoken_keywords", "wav2vec2"))
    lazy = task_transform("spoken_keywords", model)(rows[:6])
    calls.clear()
    prepared = prepare_splits(datasets.DatasetDict({"train": rows}), "spoken_keywords", model)["train"]
    assert len(calls) == 6 + 1  # every row once, and the first once more to learn the feature shapes
    for _epoch in range(3):
        epoch_rows = [prepared[i] for i in range(len(prepared))]
    assert len(calls) == 7  # later epochs only read the stored arrays
    assert set(epoch_rows[0]) == {"input_values", "label"}
    for i, row in enumerate(epoch_rows):
        assert torch.equal(row["input_values"], lazy["input_values"][i]) and int(row["label"]) == i % 10
    assert list(prepared.with_format(None)["sample_id"]) == list(range(6))  # still readable for the report


def test_prepared_whisper_rows_are_the_lazy_tensors_served_as_array_views():
    import copy
    import pickle

    rows = _audio_rows(_waves(5) + _waves(2, seed=1, seconds=0.6)).add_column("sample_id", list(range(7)))
    model = build_model("spoken_keywords", tiny_config("spoken_keywords", "whisper"))
    lazy = task_transform("spoken_keywords", model)(rows[:7])
    prepared = prepare_splits(datasets.DatasetDict({"train": rows}), "spoken_keywords", model)["train"]
    # stored flat (not Array2D, whose torch formatting cost ~3 ms a row), served in the extractor's shape
    assert prepared.features["input_features"] == datasets.List(datasets.Value("float32"))
    for i in range(7):
        row = prepared[i]
        assert list(row) == ["label", "input_features"]
        assert row["input_features"].shape == (40, 100) and row["input_features"].dtype == torch.float32
        assert torch.equal(row["input_features"], lazy["input_features"][i])  # bit for bit
        assert row["label"].dtype == torch.int64 and int(row["label"]) == i % 10
    # writable tensors of their own: writing to a row changes neither the store nor a later read
    prepared[0]["input_features"].zero_()
    assert torch.equal(prepared[0]["input_features"], lazy["input_features"][0])
    # select/shuffle keep each row with its features; pickling (DataLoader workers) and deep copies too
    shuffled = prepared.shuffle(seed=3)
    ids = shuffled.with_format(None)["sample_id"]
    for j, sample_id in enumerate(ids):
        assert torch.equal(shuffled[j]["input_features"], lazy["input_features"][sample_id])
    for other in (pickle.loads(pickle.dumps(prepared)), copy.deepcopy(prepared), prepared.select([6, 2])):
        last = other.with_format(None)["sample_id"][-1]  # 6, 6, then 2
        assert torch.equal(other[len(other) - 1]["input_features"], lazy["input_features"][last])
    batch = data_collator_for("spoken_keywords")([prepared[i] for i in range(7)])
    assert torch.equal(batch["input_features"], torch.stack(lazy["input_features"]))
    assert batch["labels"].tolist() == [i % 10 for i in range(7)]
    assert prepared.with_format(None)["sample_id"] == list(range(7))


# ---------------------------------------------------------------------------------------- sampling rates
def test_a_source_at_another_sampling_rate_is_resampled_on_load(tmp_path, fresh_cache):
    source = speech_commands_like(n_train=31, n_validation=31, n_test=31, sampling_rate=8_000)
    assert source["train"].features["audio"].sampling_rate == 8_000
    data = get_task("speech_commands").load(source=source)
    assert data["train"].features["audio"] == datasets.Audio(sampling_rate=SAMPLING_RATE)
    upstream = decode_clip(source["train"][0]["audio"], sampling_rate=8_000)
    with pytest.raises(
        SamplingRateError, match="an audio clip decoded at 8000 Hz but the model reads 16000 Hz"
    ):
        decode_clip(source["train"][0]["audio"])
    resampled = decode_clip(data["train"][0]["audio"])
    assert len(resampled) == 2 * len(upstream)  # 8 kHz → 16 kHz


def test_a_feature_extractor_or_rows_at_another_rate_are_refused():
    config = tiny_config("spoken_keywords", "wav2vec2")
    eight_khz = Wav2Vec2FeatureExtractor(sampling_rate=8_000)
    with pytest.raises(
        SamplingRateError,
        match="the feature extractor expects 8000 Hz audio but audio tasks are stored at 16000 Hz; use a model "
        "and feature extractor made for 16000 Hz audio",
    ):
        task_transform("spoken_keywords", config, eight_khz)
    transform = task_transform("spoken_keywords", config)
    with pytest.raises(
        SamplingRateError,
        match=r"an audio row is at 8000 Hz but the model reads 16000 Hz; resample it first \(cast the column "
        r"to datasets.Audio\(sampling_rate=16000\)\)",
    ):
        transform({"audio": [{"array": np.zeros(8000, np.float32), "sampling_rate": 8000}]})


# ------------------------------------------------------------------------------------ spoken_keywords
def test_spoken_keywords_is_deterministic_balanced_and_cached(small_keywords, keyword_cache, monkeypatch):
    assert {k: len(v) for k, v in small_keywords.items()} == {"train": 80, "validation": 10, "test": 10}
    for split in small_keywords.values():
        assert split.features["label"].names == list(keywords.SPOKEN_KEYWORDS)
        counts = np.bincount(np.asarray(split["label"]), minlength=10)
        assert counts.min() == counts.max()  # the same number of clips of every word
    clip = decode_clip(small_keywords["train"][0]["audio"])
    assert clip.shape == (SAMPLING_RATE,) and 0.01 < float(np.sqrt(np.mean(clip**2))) < 0.5
    # a clip depends on the seed, the word and its index only
    spec = keywords.clip_spec(0, 3, 4)
    assert spec == keywords.clip_spec(0, 3, 4) != keywords.clip_spec(1, 3, 4)
    assert keywords.make_clip(spec) == keywords.make_clip(spec)
    assert spec.word == "down" and spec.accent in keywords.ACCENTS and spec.variant in keywords.VARIANTS
    # the second load reads the cache: nothing is synthesised
    monkeypatch.setattr(keywords, "make_clip", lambda spec: pytest.fail("synthesised again"))
    again = keywords.load_spoken_keywords_splits(SMALL, cache_dir=keyword_cache, show_progress=False)
    assert (
        again["train"].with_format("arrow")["audio"] == small_keywords["train"].with_format("arrow")["audio"]
    )
    assert not [p for p in keyword_cache.iterdir() if p.name.startswith(".partial")]


def test_spoken_keywords_needs_espeak_and_enough_clips(monkeypatch, tmp_path):
    with pytest.raises(MubenchError, match="clips_per_word must be at least 10"):
        keywords.generate_spoken_keywords(5)
    monkeypatch.setattr(keywords.shutil, "which", lambda name: None)
    with pytest.raises(
        MubenchError, match="synthesises its clips with espeak-ng, which is not installed: apt-get"
    ):
        keywords.load_spoken_keywords_splits(SMALL, cache_dir=tmp_path)


# ------------------------------------------------------------------------------------- speech_commands
def test_speech_commands_maps_upstream_labels_onto_superb_ks(tmp_path, fresh_cache):
    task = get_task("speech_commands")
    assert task.hub.repo_id == "google/speech_commands" and task.hub.config_name == "v0.01"
    assert task.class_names == (*keywords.SPOKEN_KEYWORDS, "_silence_", "_unknown_")
    source = speech_commands_like()
    repo = tmp_path / "repo"
    result = build_splits("speech_commands", repo, ratios=(10,), source=source, show_progress=False)
    assert result.split_sizes["speech_commands_del10"] == {
        "train": 62, "forget": 6, "retain": 56, "validation": 31, "test": 31,
    }  # fmt: skip
    splits = datasets.load_dataset(str(repo), "speech_commands_del10", cache_dir=fresh_cache)
    assert splits["train"].column_names == ["audio", "label", "sample_id"]
    assert splits["train"].features["label"].names == list(SPEECH_COMMANDS_CLASSES)
    assert splits["train"].features["audio"] == datasets.Audio(sampling_rate=16_000)
    upstream = [SPEECH_COMMANDS_V001_LABELS[k] for k in source["test"]["label"]]
    want = [
        SPEECH_COMMANDS_CLASSES.index(name)
        if name in SPEECH_COMMANDS_CLASSES
        else SPEECH_COMMANDS_CLASSES.index("_unknown_")
        for name in upstream
    ]
    assert list(splits["test"]["label"]) == want
    assert np.bincount(want, minlength=12).tolist() == [1] * 10 + [1, 20]
    assert decode_clip(splits["test"][0]["audio"]).shape[0] in (SAMPLING_RATE, 12_000)


def test_speech_commands_takes_a_superb_shaped_source_and_refuses_other_shapes():
    superb = speech_commands_like(n_train=24, n_validation=12, n_test=12).map(
        lambda row: {"label": min(row["label"], 11)}, features=None
    )
    features = superb["train"].features.copy()
    features["label"] = datasets.ClassLabel(names=list(SPEECH_COMMANDS_CLASSES))
    superb = superb.cast(features).remove_columns("is_unknown")
    data = get_task("speech_commands").load(source=superb)
    assert data["train"]["label"][:12] == list(range(12))
    broken = speech_commands_like(n_train=31, n_validation=31, n_test=31).remove_columns("is_unknown")
    with pytest.raises(
        MubenchError, match="is not shaped like google/speech_commands: .* an 'is_unknown' column"
    ):
        get_task("speech_commands").load(source=broken)


# ------------------------------------------------------------------------------ wrong-modality models
WRONG = [
    ("spoken_keywords", lambda: tiny_config("digits", "resnet"), "a ResNet \\(resnet\\), a model for image tasks, but task 'spoken_keywords' "
     "takes audio inputs: AutoModelForAudioClassification has no ResNet model; use a model for audio tasks "
     "\\(e.g. hubert, wav2vec2, whisper; tiny:<name> builds a small one\\)"),
    ("digits", lambda: tiny_config("spoken_keywords", "wav2vec2"), "a Wav2Vec2 \\(wav2vec2\\), a model for audio tasks, but task 'digits' takes image "
     "inputs: AutoModelForImageClassification has no Wav2Vec2 model; use a model for image tasks \\(e.g. resnet"),
    ("imdb", lambda: tiny_config("spoken_keywords", "whisper"), "a Whisper \\(whisper\\), a model for audio tasks, but task 'imdb' takes text inputs: "
     "AutoModelForSequenceClassification has no Whisper model"),
    ("spoken_keywords", lambda: tiny_config("imdb", "bert"), "a Bert \\(bert\\), a model for .*text.* tasks, but task 'spoken_keywords' "
     "takes audio inputs"),
]  # fmt: skip


@pytest.mark.parametrize(
    "task, config, message", WRONG, ids=["resnet-audio", "w2v-image", "whisper-text", "bert-audio"]
)
def test_a_model_of_the_wrong_modality_is_refused_before_anything_is_built(task, config, message, tmp_path):
    with pytest.raises(MubenchError, match=message):
        build_model(task, config())
    # a saved checkpoint of the wrong kind: refused from its config, before its weights are read
    folder = tmp_path / "model"
    from transformers import AutoModel

    AutoModel.from_config(config()).save_pretrained(folder)
    (folder / "model.safetensors").write_bytes(b"not weights")  # proves nothing is loaded
    with pytest.raises(MubenchError, match=message):
        build_model(task, str(folder))
    with pytest.raises(MubenchError, match=message):
        resolve_model(task, str(folder / "config.json"), None)


def test_a_model_of_the_task_modality_still_loads(tmp_path):
    model = build_model("spoken_keywords", tiny_config("spoken_keywords", "hubert"))
    model.save_pretrained(tmp_path / "m")
    assert (
        type(build_model("spoken_keywords", str(tmp_path / "m"))).__name__
        == "HubertForSequenceClassification"
    )
    assert json.loads((tmp_path / "m" / "config.json").read_text())["model_type"] == "hubert"


# ------------------------------------------------------------------------ LoRA on the audio backbones
@pytest.mark.parametrize("architecture", sorted(ARCHITECTURES))
def test_lora_unlearning_trains_only_adapters_and_the_head(architecture, small_keyword_task, tmp_path):
    from trainer_testlib import quiet_args

    from mubench_hf.lora import apply_lora, lora_target_modules
    from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

    model = build_model(small_keyword_task, tiny_config(small_keyword_task, architecture))
    targets = lora_target_modules(model)
    # the q/k/v/out projections of every attention layer of the encoder, nothing else
    assert sorted({name.split(".")[-1] for name in targets}) == ["k_proj", "out_proj", "q_proj", "v_proj"]
    assert len(targets) == 4 * 2 and all(".layers." in name for name in targets)
    rows = small_keyword_task.load()["train"].shuffle(seed=0).select(range(24))
    rows = datasets.DatasetDict({"forget": rows.select(range(8)), "retain": rows.select(range(8, 24))})
    splits = prepare_splits(rows, small_keyword_task, model)
    peft_model, plan = apply_lora(model, r=2, alpha=4)
    assert plan.modules_to_save == ("projector", "classifier")
    before = {name: p.detach().clone() for name, p in peft_model.named_parameters()}
    args = UnlearnConfig(method="grad_diff", **quiet_args(tmp_path, max_steps=2, learning_rate=1e-2))
    UnlearnTrainer(
        model=peft_model, args=args, splits=splits, data_collator=data_collator_for("spoken_keywords")
    ).train()
    changed = {name for name, p in peft_model.named_parameters() if not torch.equal(before[name], p)}
    assert changed and all("lora_" in name or "modules_to_save" in name for name in changed), sorted(changed)[
        :5
    ]
    assert any("lora_B" in name for name in changed) and any("classifier" in name for name in changed)


# --------------------------------------------------------------------- every method forgets on audio
# The default run checks a representative subset (a forget-only method, a relabelling one and one that
# compares with the original model); every method runs under -m slow.
REPRESENTATIVE = ("grad_ascent", "random_label", "npo")
# method -> smallest drop of the forgotten class's accuracy required (8 rows: steps of 0.125). Measured
# drops with ATEN_CPU_CAPABILITY=default / avx2 (identical): grad_ascent 0.625, random_label 1.0,
# npo 1.0; the class starts at 1.0 on both paths. Other methods (slow run): 0.25.
CLASS_DROP = {"grad_ascent": 0.3, "random_label": 0.5, "npo": 0.5}
# Over the digits-tuned quick settings: the forgotten class has 8 rows here (one step an epoch), where
# DELETE's 4 steps at 1e-3 left it at 1.0.
AUDIO_SETTINGS = {"delete": {"learning_rate": 5e-3, "num_train_epochs": 10}}
BASE_RECIPE = dict(num_train_epochs=25, learning_rate=3e-3, per_device_train_batch_size=8, seed=0)


def audio_accuracy(model: torch.nn.Module, split: datasets.Dataset) -> float:
    from torch.utils.data import DataLoader

    from mubench_hf.rows import RowDataset

    model.eval()
    correct = 0
    with torch.no_grad():
        for batch in DataLoader(
            RowDataset(split), batch_size=64, collate_fn=data_collator_for("spoken_keywords")
        ):
            labels = batch.pop("labels")
            correct += int((model(**batch).logits.argmax(-1) == labels).sum())
    return correct / len(split)


@pytest.fixture(scope="module")
def keyword_class3(tmp_path_factory, keyword_cache):
    """The small spoken_keywords task: deletion repo with class 3 ("down") and a tiny:wav2vec2 base model
    trained by the product's train_base."""
    from mubench_hf.reference_models import RecipeArguments
    from mubench_hf.reference_models.train import train_base

    keywords.load_spoken_keywords_splits(SMALL, cache_dir=keyword_cache, show_progress=False)
    original = TASKS["spoken_keywords"]
    TASKS["spoken_keywords"] = dataclasses.replace(
        original,
        loader=functools.partial(
            keywords.load_spoken_keywords_splits, SMALL, cache_dir=keyword_cache, show_progress=False
        ),
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        root = tmp_path_factory.mktemp("keywords")
        build_splits("spoken_keywords", root / "repo", ratios=(5,), forget_classes=[3], show_progress=False)
        args = RecipeArguments(output_dir=str(root / "base"), disable_tqdm=True, **BASE_RECIPE)
        result = train_base(
            str(root / "repo"), "spoken_keywords", "tiny:wav2vec2", root / "base", args, quiet=True,
            cache_dir=str(root / "hf"),
        )  # fmt: skip
        yield {
            "repo": str(root / "repo"),
            "base": str(root / "base"),
            "cache": str(root / "hf"),
            "result": result,
        }
    finally:
        TASKS["spoken_keywords"] = original
        torch.set_num_threads(threads)


def _forget_class(method: str, keyword_class3, tmp_path) -> tuple[float, float]:
    from trainer_testlib import quiet_args

    from mubench_hf.pipeline import prepare, unlearning_trainer
    from mubench_hf.trainers import UnlearnConfig, get_spec

    prepared = prepare(
        keyword_class3["repo"],
        "spoken_keywords_class3",
        keyword_class3["base"],
        cache_dir=keyword_class3["cache"],
    )
    before = audio_accuracy(prepared.model, prepared.splits["forget"])
    settings = (
        BASE_RECIPE
        if method == "retrain"
        else {**get_spec(method).quick_settings, **AUDIO_SETTINGS.get(method, {})}
    )
    args = UnlearnConfig(
        method=method, **quiet_args(tmp_path, **{"per_device_train_batch_size": 32, **settings})
    )
    trainer = unlearning_trainer(prepared, args)
    trainer.train()
    return before, audio_accuracy(trainer.model, prepared.splits["forget"])


def test_the_base_model_learns_the_keywords(keyword_class3):
    result = keyword_class3["result"]
    print({k: round(v, 3) for k, v in result.items() if k.endswith("accuracy")})
    assert result["train_time_s"] > 0
    # 80 train clips (1 validation and 1 test clip per word only, so those are not bounded here); measured
    # retain accuracy 0.803 with ATEN_CPU_CAPABILITY=default and avx2 alike, chance 0.1
    assert result["retain_accuracy"] >= 0.6


@pytest.mark.parametrize("method", REPRESENTATIVE)
def test_representative_methods_forget_a_spoken_keyword(method, keyword_class3, tmp_path):
    before, after = _forget_class(method, keyword_class3, tmp_path)
    print(f"{method}: class accuracy {before:.3f} -> {after:.3f}")
    assert before >= 0.75, f"the base model knows the class only at {before:.3f}"
    assert after <= before - CLASS_DROP.get(method, 0.25), (
        f"{method}: class accuracy {before:.3f} -> {after:.3f}"
    )


@pytest.fixture(autouse=True)
def _slow_only_when_asked(request):
    """Tests marked slow run only when the marker expression names them (``-m slow``)."""
    if request.node.get_closest_marker("slow") and "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with -m slow")


def _classification_methods() -> list[str]:
    from mubench_hf.trainers import method_specs

    return sorted(spec.name for spec in method_specs() if "classification" in spec.kinds)


@pytest.mark.slow
@pytest.mark.parametrize("method", _classification_methods())
def test_every_method_forgets_a_spoken_keyword(method, keyword_class3, tmp_path):
    if method == "ssd":  # retrain-free: dampens weights, as on digits its quick α needs the class's signal
        pytest.skip("ssd runs in test_ssd_forgets_a_spoken_keyword")
    before, after = _forget_class(method, keyword_class3, tmp_path)
    print(f"{method}: class accuracy {before:.3f} -> {after:.3f}")
    assert before >= 0.75, f"the base model knows the class only at {before:.3f}"
    assert after <= before - CLASS_DROP.get(method, 0.25), (
        f"{method}: class accuracy {before:.3f} -> {after:.3f}"
    )


@pytest.mark.slow
def test_ssd_forgets_a_spoken_keyword(keyword_class3, tmp_path):
    from trainer_testlib import quiet_args

    from mubench_hf.pipeline import prepare, unlearning_trainer
    from mubench_hf.trainers import UnlearnConfig

    prepared = prepare(
        keyword_class3["repo"],
        "spoken_keywords_class3",
        keyword_class3["base"],
        cache_dir=keyword_class3["cache"],
    )
    before = audio_accuracy(prepared.model, prepared.splits["forget"])
    args = UnlearnConfig(
        method="ssd", **quiet_args(tmp_path, per_device_train_batch_size=32, selection_weighting=3.0)
    )
    trainer = unlearning_trainer(prepared, args)
    trainer.train()
    assert audio_accuracy(trainer.model, prepared.splits["forget"]) < before


@pytest.mark.slow
def test_mubench_run_with_every_method_on_spoken_keywords(
    keyword_class3, tmp_path, monkeypatch, keyword_cache
):
    """``mubench run --task spoken_keywords --methods all --ratios 5 --seeds 42`` (small copy, tiny:wav2vec2)."""
    import math

    from mubench_hf.cli import main

    task = dataclasses.replace(
        get_task("spoken_keywords"),
        loader=functools.partial(
            keywords.load_spoken_keywords_splits, SMALL, cache_dir=keyword_cache, show_progress=False
        ),
    )
    monkeypatch.setitem(TASKS, task.name, task)
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"base_recipe": {k: v for k, v in BASE_RECIPE.items() if k != "seed"}}))
    argv = ["run", str(grid), "--task", "spoken_keywords", "--methods", "all", "--ratios", "5", "--seeds", "42",
            "--model", "tiny:wav2vec2", "--output", str(tmp_path / "runs"), "--threads", "1", "--no-progress"]  # fmt: skip
    status = main(argv)
    records = [json.loads(p.read_text()) for p in (tmp_path / "runs" / "cells").rglob("cell.json")]
    classification = set(_classification_methods()) | {"retrain"}
    done = {r["method"]: r for r in records if r["method"] in classification}
    assert set(done) == classification, sorted(classification - set(done))
    for method, record in done.items():
        assert record.get("status", "done") == "done", (method, record.get("error"))
        numbers = [v for v in record["metrics"].values() if isinstance(v, float)]
        assert numbers and all(math.isfinite(v) for v in numbers), method
    failed = {r["method"] for r in records if r.get("status") == "failed"}
    assert not failed & classification and status == (1 if failed else 0)
