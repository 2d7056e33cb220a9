"""The video modality: clips stored as ``datasets.Video``, decoded once, resampled to the model's frame
count, classified by a tiny VideoMAE; the offline ``moving_digits`` task learnt and unlearnt; ``ucf101``
from a fixture shaped like its Hub copy; LoRA on VideoMAE.

Bounds on trained models were measured over base seeds 0, 1 and 42 and both CPU kernel paths
(``ATEN_CPU_CAPABILITY=avx2`` and ``=default``); the worst value seen is written beside each bound.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import datasets
import numpy as np
import pytest
import torch
from transformers import (
    AutoImageProcessor,
    AutoModelForVideoClassification,
    VideoMAEConfig,
    VideoMAEForVideoClassification,
    VideoMAEImageProcessorPil,
)

from mubench_hf.errors import MubenchError
from mubench_hf.kinds.classification import (
    auto_class_for,
    data_collator_for,
    load_processor,
    prepare_splits,
    resolve_model,
    tiny_config,
)
from mubench_hf.modalities import get_modality
from mubench_hf.modalities.video import (
    VideoCollator,
    VideoTransform,
    clip_shape,
    encode_clip,
    frames_of,
    sample_frame_indices,
)
from mubench_hf.tasks import get_task
from mubench_hf.tasks.moving_digits import (
    MOVING_DIGITS_CLASS_NAMES,
    NUM_FRAMES,
    load_moving_digits_splits,
    moving_digit_clip,
)
from tests.fixtures.ucf101 import ucf101_clips, ucf101_frame, ucf101_like

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FORGET_CLASS = 0  # "right_slow"


def numbered_clip(num_frames: int, size: tuple[int, int] = (8, 8)) -> dict:
    """A lossless clip whose frame t is filled with the value 10 * t (so a frame says which it is)."""
    frames = np.stack([np.full((*size, 3), 10 * t, dtype=np.uint8) for t in range(num_frames)])
    return encode_clip(frames)


def frame_numbers(frames: torch.Tensor) -> list[int]:
    """Which source frames a uint8 ``[T, 3, H, W]`` clip made of ``numbered_clip`` frames holds."""
    return [int(v) // 10 for v in frames[:, 0, 0, 0]]


def video_rows(clips: list[dict], labels: list[int]) -> datasets.Dataset:
    features = datasets.Features(
        {
            "video": get_modality("video").input_feature(),
            "label": datasets.ClassLabel(num_classes=8),
            "sample_id": datasets.Value("int64"),
        }
    )
    return datasets.Dataset.from_dict(
        {"video": clips, "label": labels, "sample_id": list(range(len(clips)))}, features=features
    )


# ---------------------------------------------------------------------------------------- the modality
def test_the_video_modality_owns_its_column_feature_classes_and_tiny_model():
    video, task = get_modality("video"), get_task("moving_digits")
    assert video.input_column == task.input_column == "video"
    assert task.features["video"] == video.input_feature() == datasets.Video(decode=False)
    assert video.auto_class() is auto_class_for(task) is AutoModelForVideoClassification
    assert video.processor_class() is AutoImageProcessor
    assert video.pipeline_tag == "video-classification"
    config = tiny_config(task, "videomae")
    assert type(config) is VideoMAEConfig and config.num_labels == 8 and config.id2label == task.id2label
    assert isinstance(data_collator_for(task), VideoCollator)
    assert load_processor(task, "tiny:videomae") is None
    with pytest.raises(
        MubenchError, match="unknown tiny architecture 'resnet' for video tasks; known: videomae"
    ):
        tiny_config(task, "resnet")


def test_model_cards_say_video_classification():
    from mubench_hf.hub.cards import render_model_card

    card = render_model_card(
        "base", task="moving_digits", dataset_repo="me/splits", dataset_hash=None,
        backbone="tiny", recipe={}, seed=0, results={"test_accuracy": 0.5}, model_name="me/m",
    )  # fmt: skip
    assert card.data.pipeline_tag == "video-classification"
    assert "from transformers import AutoModelForVideoClassification" in str(card)


def test_clips_round_trip_through_the_datasets_video_type(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (5, 12, 16, 3), dtype=np.uint8)
    lossless = encode_clip(frames)
    assert np.array_equal(frames_of(lossless), frames)  # FFV1: exact
    assert encode_clip(frames)["bytes"] == lossless["bytes"]  # bit-exact container: rebuilt splits hash alike
    lossy = encode_clip(frames[:, :, :, :1].repeat(3, axis=-1) // 2 + 64, lossless=False)
    assert frames_of(lossy).shape == (5, 12, 16, 3)  # H.264: same shape, close values
    # written to parquet and read back with datasets' own decoder (torchcodec)
    ds = video_rows([lossless], [0])
    ds.to_parquet(str(tmp_path / "clips.parquet"))
    back = datasets.load_dataset("parquet", data_files=str(tmp_path / "clips.parquet"), split="train")
    decoder = back.cast_column("video", datasets.Video())[0]["video"]
    assert decoder.metadata.num_frames == 5
    assert np.array_equal(decoder[:].permute(0, 2, 3, 1).numpy(), frames)
    assert clip_shape(back[0]["video"]) == (5, 12, 16)
    with pytest.raises(MubenchError, match="H.264 clips need an even height and width"):
        encode_clip(frames[:, :11], lossless=False)
    with pytest.raises(MubenchError, match="frames must be uint8"):
        encode_clip(frames.astype(np.float32))


# ------------------------------------------------------------------------- frame count: resampled
def test_frame_indices_are_evenly_spaced():
    assert sample_frame_indices(8, 8).tolist() == list(range(8))
    assert sample_frame_indices(16, 8).tolist() == [0, 2, 4, 6, 9, 11, 13, 15]
    assert sample_frame_indices(5, 8).tolist() == [0, 1, 1, 2, 2, 3, 3, 4]
    assert sample_frame_indices(1, 4).tolist() == [0, 0, 0, 0]
    with pytest.raises(MubenchError, match="no frames"):
        sample_frame_indices(0, 8)


def test_a_clip_of_another_frame_count_is_resampled_to_the_model(tmp_path):
    config = tiny_config("moving_digits", "videomae", image_size=8)  # 8 frames
    rows = video_rows([numbered_clip(12), numbered_clip(5), numbered_clip(8)], [0, 1, 2])
    transform = VideoTransform(config)
    out = transform(rows.with_format(None)[:])
    assert [tuple(p.shape) for p in out["pixel_values"]] == [(8, 3, 8, 8)] * 3
    assert out["labels"] == [0, 1, 2]
    got = [frame_numbers(transform.frames(v)) for v in rows.with_format(None)["video"]]
    assert got == [[0, 2, 3, 5, 6, 8, 9, 11], [0, 1, 1, 2, 2, 3, 3, 4], list(range(8))]
    # the resampled clips train: one batch through the model and the collator
    batch = VideoCollator()([{k: v[i] for k, v in out.items()} for i in range(3)])
    model = VideoMAEForVideoClassification(config)
    assert model(**batch).logits.shape == (3, 8)


def test_a_clip_that_does_not_decode_names_its_row():
    rows = video_rows([numbered_clip(8), {"bytes": b"not a video at all", "path": "x.mkv"}], [0, 1])
    transform = VideoTransform(tiny_config("moving_digits", "videomae", image_size=8))
    with pytest.raises(MubenchError, match=r"video row sample_id=1: the video does not decode"):
        transform(rows.with_format(None)[:])
    with pytest.raises(MubenchError, match="video tasks need a video model"):
        VideoTransform(tiny_config("digits", "vit"))


def test_frames_are_resized_to_a_model_built_from_a_config_and_scaled():
    config = tiny_config("moving_digits", "videomae", image_size=4, patch_size=2)
    frames = np.zeros((8, 8, 8, 3), dtype=np.uint8)
    frames[:, :4, :4] = 255  # top-left quarter white
    out = VideoTransform(config)(video_rows([encode_clip(frames)], [3]).with_format(None)[:])
    pixels = out["pixel_values"][0]
    assert pixels.shape == (8, 3, 4, 4) and pixels.dtype == torch.float32
    # antialiased bilinear, as PIL resizes: the white corner stays white, the far corner black
    assert torch.all(pixels[:, :, 0, 0] == 1.0) and torch.all(pixels[:, :, 3, 3] == -1.0)
    assert pixels.min() >= -1.0 and pixels.max() <= 1.0
    assert torch.all(pixels[:, :, :2, :2].mean(dim=(-1, -2)) > 0.5)


def test_a_videomae_processor_gets_the_sampled_frames():
    processor = VideoMAEImageProcessorPil(size={"shortest_edge": 8}, crop_size={"height": 8, "width": 8})
    config = tiny_config("moving_digits", "videomae", image_size=8)
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (10, 12, 12, 3), dtype=np.uint8)
    out = VideoTransform(config, processor)(video_rows([encode_clip(frames)], [0]).with_format(None)[:])
    sampled = list(frames[sample_frame_indices(10, 8)])
    want = processor([sampled], return_tensors="pt")["pixel_values"][0]
    assert out["pixel_values"][0].shape == (8, 3, 8, 8)
    assert torch.allclose(out["pixel_values"][0], want)


def test_clips_of_different_shapes_in_one_batch_are_refused():
    with pytest.raises(
        MubenchError, match=r"clips of different shapes in one batch: \[\(8, 3, 4, 4\), \(8, 3, 8, 8\)\]"
    ):
        VideoCollator()(
            [{"pixel_values": torch.zeros(8, 3, 8, 8)}, {"pixel_values": torch.zeros(8, 3, 4, 4)}]
        )


# -------------------------------------------------------------------------------- decoded once
def test_each_clip_is_decoded_once_across_epochs_and_splits():
    clips = [numbered_clip(8 + k) for k in range(6)]  # six different clips
    train = video_rows(clips, [k % 8 for k in range(6)])
    splits = datasets.DatasetDict(
        {"train": train, "forget": train.select([0, 1]), "retain": train.select([2, 3, 4, 5])}
    )
    config = tiny_config("moving_digits", "videomae", image_size=8)
    prepared = prepare_splits(splits, "moving_digits", config)
    for _epoch in range(3):
        for name in ("forget", "retain", "train"):
            for i in range(len(prepared[name])):
                assert prepared[name][i]["pixel_values"].shape == (8, 3, 8, 8)
    # one transform serves every split of a prepare_splits call: 6 distinct clips, 6 decodes
    transform = prepared["train"].format["format_kwargs"]["transform"]
    assert transform.cache.decodes == 6
    # the cache is keyed by the clip's bytes: the same clip in another row is not decoded again
    again = VideoTransform(config)
    again(video_rows([clips[0], clips[0], clips[1]], [0, 0, 1]).with_format(None)[:])
    assert again.cache.decodes == 2


def test_past_the_cache_cap_clips_are_decoded_on_every_read():
    rows = video_rows([numbered_clip(8), numbered_clip(9)], [0, 1]).with_format(None)[:]
    transform = VideoTransform(tiny_config("moving_digits", "videomae", image_size=8), cache_bytes=0)
    with pytest.warns(UserWarning, match="decoded video clips fill the cache"):
        transform(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the warning is said once
        transform(rows)
    assert transform.cache.decodes == 4
    with pytest.raises(MubenchError, match="cache_bytes must be >= 0"):
        VideoTransform(tiny_config("moving_digits", "videomae"), cache_bytes=-1)


# ----------------------------------------------------------------------------- moving digits
def _centre(frame: np.ndarray) -> np.ndarray:
    weight = np.clip(frame.astype(np.float64) - 60, 0, None)  # above the noise
    ys, xs = np.indices(frame.shape)
    return np.array([(weight * ys).sum(), (weight * xs).sum()]) / weight.sum()


def test_each_class_moves_its_way():
    digit = np.full((8, 8), 255.0)
    rng = np.random.default_rng(0)
    for label, name in enumerate(MOVING_DIGITS_CLASS_NAMES):
        direction, speed = name.split("_")
        frames = moving_digit_clip(digit, label, rng)
        assert frames.shape == (NUM_FRAMES, 16, 16) and frames.dtype == np.uint8
        step = (_centre(frames[-1]) - _centre(frames[0])) / (NUM_FRAMES - 1)
        want = {"right": (0, 1), "left": (0, -1), "down": (1, 0), "up": (-1, 0)}[direction]
        per_frame = {"slow": 0.5, "fast": 1.0}[speed]
        assert np.allclose(step, np.array(want) * per_frame, atol=0.1), (name, step)


@pytest.fixture(scope="module")
def moving_repo(tmp_path_factory) -> Path:
    from mubench_hf import build_splits

    out = tmp_path_factory.mktemp("moving_digits_repo") / "mubench"
    build_splits("moving_digits", out, ratios=(5,), forget_classes=[FORGET_CLASS], show_progress=False)
    return out


def _config_splits(repo: Path, config: str, tmp_path_factory) -> datasets.DatasetDict:
    return datasets.load_dataset(str(repo), config, cache_dir=str(tmp_path_factory.mktemp("hf_cache_video")))


def test_moving_digits_splits_are_balanced_deterministic_clips(moving_repo, tmp_path_factory):
    splits = _config_splits(moving_repo, "moving_digits_del5", tmp_path_factory)
    sizes = {name: len(split) for name, split in splits.items()}
    assert sizes == {"train": 1257, "forget": 62, "retain": 1195, "validation": 180, "test": 360}
    assert splits["train"].features["video"] == datasets.Video(decode=False)
    counts = np.bincount(splits["train"]["label"], minlength=8)
    assert counts.min() >= 150 and counts.max() <= 165  # 1,797 clips, 224-225 per class before splitting
    first = splits["test"][0]
    assert frames_of(first["video"]).shape == (8, 16, 16, 3)
    # generated again from the seed: the same clips, byte for byte
    again = load_moving_digits_splits()["test"]
    assert again[0]["video"]["bytes"] == first["video"]["bytes"] and again["label"] == splits["test"]["label"]


# --------------------------------------------------------------------- trained, then unlearnt
@pytest.fixture(scope="module")
def base_model_dir(moving_repo, tmp_path_factory) -> tuple[Path, dict]:
    """θo: tiny VideoMAE trained by the product's ``train_base`` with the task's recipe."""
    from mubench_hf.reference_models import RecipeArguments, train_base

    out = tmp_path_factory.mktemp("moving_digits_base") / "base"
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # module fixtures start before the per-test one_torch_thread
    args = RecipeArguments(
        output_dir=str(out), seed=0, use_cpu=True, disable_tqdm=True, logging_strategy="no",
        **get_task("moving_digits").recipe_defaults(),
    )  # fmt: skip
    try:
        results = train_base(str(moving_repo), "moving_digits", "tiny:videomae", out, args, quiet=True,
                             cache_dir=str(tmp_path_factory.mktemp("hf_cache_base")))  # fmt: skip
    finally:
        torch.set_num_threads(before)
    return out, results


def test_the_tiny_videomae_learns_the_motion(base_model_dir):
    _, results = base_model_dir
    # chance is 0.125; measured test accuracy 0.961 / 0.986 (seeds 0 / 1, avx2), 0.975 (seed 0, default
    # kernels), 0.950 (seed 42, the sweep)
    assert results["test_accuracy"] >= 0.85, results


def _accuracy(model, dataset, collator) -> float:
    from torch.utils.data import DataLoader

    from mubench_hf.trainers.data import RowDataset

    model.eval()
    correct = total = 0
    with torch.no_grad():
        for batch in DataLoader(RowDataset(dataset), batch_size=128, collate_fn=collator):
            predicted = model(pixel_values=batch["pixel_values"]).logits.argmax(-1)
            correct += int((predicted == batch["labels"]).sum())
            total += len(batch["labels"])
    return correct / total


@pytest.fixture(scope="module")
def class_config(moving_repo, base_model_dir, tmp_path_factory):
    from mubench_hf.pipeline import prepare

    config = f"moving_digits_class{FORGET_CLASS}"
    prepared = prepare(str(moving_repo), config, str(base_model_dir[0]),
                       cache_dir=str(tmp_path_factory.mktemp("hf_cache_class")))  # fmt: skip
    return prepared, _accuracy(prepared.model, prepared.splits["forget"], prepared.collator)


# class-wise forgetting (moving_digits_class0, the methods' quick settings): method -> (smallest drop of
# the class's accuracy required, smallest drop measured over base seeds 0 and 1 and both kernel paths)
CLASS_DROP_DEFAULT = {"grad_ascent": (0.5, 0.968), "random_label": (0.5, 0.968), "scrub": (0.5, 0.968)}
CLASS_DROP_SLOW = {
    "bad_teaching": (0.3, 0.611), "delete": (0.4, 0.866), "finetune": (0.5, 0.968), "grad_diff": (0.45, 0.943),
    "l1_sparse": (0.5, 0.968), "npo": (0.45, 0.924), "retrain": (0.5, 0.987), "salun": (0.5, 0.968),
    "simnpo": (0.35, 0.777), "ssd": (0.5, 0.968),
    # the peers' methods (issue 25): drops measured once, seed 0, this machine's AVX-512 kernels; bounds
    # take about half of each measured drop
    "boundary_expand": (0.4, 0.790), "boundary_shrink": (0.35, 0.713), "cf_k": (0.5, 0.987),
    "conv_noise_finetune": (0.5, 0.987), "eu_k": (0.5, 0.987), "fisher": (0.25, 0.522), "influence": (0.4, 0.841),
    "neggrad_plus": (0.5, 0.987), "successive_random_labels": (0.5, 0.987), "transposed_kernels": (0.5, 0.987),
    "unsir": (0.5, 0.987),
    # the other NeurIPS 2023 challenge entries and SFR-on, measured the same way (each took the class to 0.000)
    "uniform_contrastive": (0.5, 0.987), "snip_reinit": (0.5, 0.987), "prune_reinit_entropy": (0.5, 0.987),
    "reset_distill": (0.5, 0.987), "layer_noise_finetune": (0.5, 0.987), "sfr_on": (0.5, 0.987),
}  # fmt: skip
# SSD at its declared alpha = 8 left the class untouched on seed 0 (both kernel paths) and erased it on
# seed 1, as on digits; alpha = 3 is what tests/test_trainers_digits.py uses too
SSD_SETTINGS = {"selection_weighting": 3.0}


def _unlearn_class(method, class_config, tmp_path):
    from copy import deepcopy

    from trainer_testlib import quiet_args

    from mubench_hf.pipeline import unlearning_trainer
    from mubench_hf.trainers import UnlearnConfig, get_spec

    prepared, before = class_config
    settings = {
        "retrain": dict(get_task("moving_digits").recipe_defaults()),
        "ssd": SSD_SETTINGS,
    }.get(method) or dict(get_spec(method).quick_settings)
    args = UnlearnConfig(
        method=method, **quiet_args(tmp_path, **{"per_device_train_batch_size": 32, **settings})
    )
    original = prepared.model
    prepared.model = deepcopy(original)
    try:
        trainer = unlearning_trainer(prepared, args)
        trainer.train()
        # trainer.model: retrain trains a freshly initialised copy, not the model it was given
        after = _accuracy(trainer.model, prepared.splits["forget"], prepared.collator)
    finally:
        prepared.model = original
    return before, after


@pytest.mark.parametrize("method", sorted(CLASS_DROP_DEFAULT))
def test_a_forgetting_method_lowers_the_class_accuracy(method, class_config, tmp_path):
    before, after = _unlearn_class(method, class_config, tmp_path)
    required, _ = CLASS_DROP_DEFAULT[method]
    assert after <= before - required, f"{method}: class accuracy {before:.3f} -> {after:.3f}"


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(CLASS_DROP_SLOW))
def test_every_forgetting_method_lowers_the_class_accuracy(method, class_config, tmp_path):
    before, after = _unlearn_class(method, class_config, tmp_path)
    required, _ = CLASS_DROP_SLOW[method]
    assert after <= before - required, f"{method}: class accuracy {before:.3f} -> {after:.3f}"


def test_every_method_is_covered_on_video():
    from mubench_hf.trainers import list_methods

    assert set(CLASS_DROP_DEFAULT) | set(CLASS_DROP_SLOW) == set(list_methods("classification"))
    assert not set(CLASS_DROP_DEFAULT) & set(CLASS_DROP_SLOW)


def test_every_metric_is_finite_on_video(class_config, tmp_path):
    from mubench_hf.pipeline import score

    prepared, _ = class_config
    results = score(prepared, output_dir=tmp_path / "scores", original_test_accuracy=0.9, use_cpu=True)
    numbers = {k: v for k, v in results.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    assert {"forget_accuracy", "retain_accuracy", "test_accuracy"} <= set(numbers)
    assert all(math.isfinite(v) for v in numbers.values()), numbers


# ------------------------------------------------------------------------------------- LoRA
def test_lora_unlearning_on_videomae_trains_only_adapters_and_head(class_config, tmp_path):
    from copy import deepcopy

    from trainer_testlib import quiet_args

    from mubench_hf.lora import apply_lora, lora_target_modules
    from mubench_hf.trainers import UnlearnConfig, UnlearnTrainer

    prepared, _ = class_config
    model = deepcopy(prepared.model)
    targets = lora_target_modules(model)
    layers = model.config.num_hidden_layers
    suffixes = sorted({t.split(".", 4)[-1] for t in targets})
    assert suffixes == ["attention.attention.key", "attention.attention.query", "attention.attention.value",
                        "attention.output.dense"], targets  # fmt: skip
    assert len(targets) == 4 * layers and all(t.startswith("videomae.encoder.layer.") for t in targets)
    peft_model, plan = apply_lora(model, r=4, alpha=8)
    assert set(plan.modules_to_save) == {"fc_norm", "classifier"}
    before = {k: v.detach().clone() for k, v in peft_model.state_dict().items()}
    args = UnlearnConfig(method="grad_ascent", **quiet_args(tmp_path, max_steps=3, learning_rate=1e-2))
    UnlearnTrainer(
        model=peft_model, args=args, splits=prepared.splits, data_collator=prepared.collator
    ).train()
    changed = {k for k, v in peft_model.state_dict().items() if not torch.equal(before[k], v)}
    assert changed, "nothing trained"
    assert all("lora_" in k or "modules_to_save" in k for k in changed), sorted(changed)[:5]
    assert any("lora_" in k for k in changed) and any("classifier" in k for k in changed)


# ------------------------------------------------------------------------------------- UCF101
def test_ucf101_is_registered_with_its_hub_copy():
    task = get_task("ucf101")
    assert task.modality == "video" and task.num_labels == 101
    assert task.hub.repo_id == "flwrlabs/ucf101"
    # upstream's ids: Python's sort of the names (upper case first)
    assert task.class_names[:3] == ("ApplyEyeMakeup", "ApplyLipstick", "Archery")
    assert task.class_names[34:36] == ("HammerThrow", "Hammering") and task.class_names[-1] == "YoYo"


def test_ucf101_frames_become_clips_in_frame_order(tmp_path, fresh_cache):
    from mubench_hf import build_splits

    repo = tmp_path / "repo"
    result = build_splits("ucf101", repo, ratios=(10,), source=ucf101_like(), show_progress=False)
    assert result.split_sizes["ucf101_del10"] == {"train": 20, "forget": 2, "retain": 18, "test": 4}
    splits = datasets.load_dataset(str(repo), "ucf101_del10", cache_dir=fresh_cache)
    train = splits["train"]
    assert train.features["video"] == datasets.Video(decode=False)
    expected = sorted(ucf101_clips(20))  # sample_id k: the k-th clip in (video_id, clip_id) order
    assert sorted(train["sample_id"]) == list(range(20))
    for row in train:
        _, _, label, num_frames = expected[row["sample_id"]]
        assert row["label"] == label
        frames = frames_of(row["video"]).astype(int)
        want = np.stack([ucf101_frame(t) for t in range(num_frames)]).astype(int)
        assert frames.shape == want.shape and np.abs(frames - want).max() <= 40  # H.264 is lossy
    model = resolve_model("ucf101", "tiny:videomae", train)  # built for the clips it gets
    assert model.config.num_frames == 4 and model.config.image_size == 12
    pixels = prepare_splits(splits, "ucf101", model)["test"][0]["pixel_values"]
    assert pixels.shape == (4, 3, 12, 12)


def test_ucf101_sources_that_do_not_match_are_refused():
    task = get_task("ucf101")
    shuffled = tuple(reversed(task.class_names))
    with pytest.raises(
        MubenchError, match="numbers its classes differently .* id 0 is 'YoYo' there, 'ApplyEyeMakeup' here"
    ):
        task.load(source=ucf101_like(names=shuffled))
    no_frame = ucf101_like().remove_columns("frame")
    with pytest.raises(MubenchError, match=r"per-frame source needs the columns .*\['frame'\] missing"):
        task.load(source=no_frame)
