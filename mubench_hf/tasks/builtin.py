"""The tasks mubench-hf ships. Only tasks that work end to end are registered here."""

from __future__ import annotations

from .base import HubSource, OODSource, Task
from .digit_pairs import DIGIT_PAIRS_CLASS_NAMES, DigitPairsTask, load_digit_pairs_splits
from .digits import DIGITS_CLASS_NAMES, load_digits_splits
from .fashion_mnist import (
    FASHION_MNIST_CITATION,
    FASHION_MNIST_CLASS_NAMES,
    FASHION_MNIST_DELETION_FRACTION,
    load_fashion_mnist_splits,
)
from .moving_digits import MOVING_DIGITS_CLASS_NAMES, MovingDigitsTask, load_moving_digits_splits
from .mubench_hub_tasks import nlvr2_task, tiny_imagenet_task
from .registry import register_task
from .speech_commands import (
    SPEECH_COMMANDS_CITATION,
    SPEECH_COMMANDS_CLASSES,
    SPEECH_COMMANDS_CONFIG,
    SPEECH_COMMANDS_REPO,
    SPEECH_COMMANDS_REVISION,
    SpeechCommandsTask,
)
from .spoken_keywords import SPOKEN_KEYWORDS, load_spoken_keywords_splits
from .ucf101 import UCF101_CITATION, UCF101_CLASS_NAMES, UCF101_REPO, FrameClipTask

MUBENCH_CITATION = """@article{cheng2024mubench,
  title   = {MU-Bench: A Multitask Multimodal Benchmark for Machine Unlearning},
  author  = {Cheng, Jiali and Amiri, Hadi},
  journal = {arXiv preprint arXiv:2406.14796},
  year    = {2024}
}"""

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip

CIFAR100_CLASSES = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
    "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
    "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur",
    "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard",
    "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle",
    "mountain", "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear",
    "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon",
    "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail",
    "snake", "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone",
    "television", "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe", "whale",
    "willow_tree", "wolf", "woman", "worm",
)  # fmt: skip

DIGITS = register_task(
    Task(
        name="digits",
        modality="image",
        class_names=DIGITS_CLASS_NAMES,
        description="scikit-learn's 1,797 handwritten 8x8 digits (UCI optical recognition), offline.",
        loader=load_digits_splits,
        validation_split="validation",
        license="cc-by-4.0",
        split_note="sklearn load_digits; stratified split, random_state=0: 1,257 train / 180 validation / 360 test",
    )
)

FASHION_MNIST = register_task(
    Task(
        name="fashion_mnist",
        modality="image",
        class_names=FASHION_MNIST_CLASS_NAMES,
        description="Fashion-MNIST: 70,000 28x28 grey clothing images in 10 classes, offline from Debian's "
        "dataset-fashion-mnist files.",
        loader=load_fashion_mnist_splits,
        validation_split="validation",
        deletion_fraction=FASHION_MNIST_DELETION_FRACTION,
        license="mit",
        source_citation=FASHION_MNIST_CITATION,
        split_note="Debian dataset-fashion-mnist IDX files; validation = 6,000 train rows "
        "(numpy default_rng(0) permutation): 54,000 train / 6,000 validation / 10,000 test; "
        "deletion order 6,000 rows (10 % of the 60,000 source training images)",
    )
)

DIGIT_PAIRS = register_task(
    DigitPairsTask(
        name="digit_pairs",
        modality="image_text",
        class_names=DIGIT_PAIRS_CLASS_NAMES,
        description="Two scikit-learn digits and a sentence about them (NLVR2-shaped: is it true?), offline.",
        loader=load_digit_pairs_splits,
        validation_split="validation",
        license="cc-by-4.0",
        split_note="pairs of the digits task's split images, balanced true/false, seed 0: "
        "4,000 train / 400 validation / 800 test",
    )
)

SPOKEN_KEYWORDS_TASK = register_task(
    Task(
        name="spoken_keywords",
        modality="audio",
        class_names=SPOKEN_KEYWORDS,
        description="Speech Commands' ten core words spoken by espeak-ng (7 accents x 22 voice variants, "
        "varied speed and pitch) over seeded background noise, 1 s at 16 kHz, offline.",
        loader=load_spoken_keywords_splits,
        validation_split="validation",
        license="cc0-1.0",
        split_note="synthesised by Debian espeak-ng from seed 0, 300 clips per word split 80/10/10 per word: "
        "2,400 train / 300 validation / 300 test (mubench_hf/tasks/spoken_keywords.py)",
    )
)

SPEECH_COMMANDS = register_task(
    SpeechCommandsTask(
        name="speech_commands",
        modality="audio",
        class_names=SPEECH_COMMANDS_CLASSES,
        description="Speech Commands v0.01 keyword spotting as SUPERB ks: the ten core words, _silence_ and "
        "_unknown_ (all other words), 1 s clips at 16 kHz.",
        hub=HubSource(
            SPEECH_COMMANDS_REPO, revision=SPEECH_COMMANDS_REVISION, config_name=SPEECH_COMMANDS_CONFIG
        ),
        validation_split="validation",
        license="cc-by-4.0",
        source_citation=SPEECH_COMMANDS_CITATION,
        split_note="the Hub's parquet conversion of google/speech_commands v0.01; labels mapped onto SUPERB's "
        "12 classes (words outside the ten, flagged is_unknown, become _unknown_)",
    )
)

CIFAR10 = register_task(
    Task(
        name="cifar10",
        modality="image",
        class_names=CIFAR10_CLASSES,
        description="CIFAR-10: 60,000 32x32 colour images in 10 classes.",
        hub=HubSource("uoft-cs/cifar10", column_mapping={"img": "image"}),
        license="unknown",
    )
)

CIFAR100 = register_task(
    Task(
        name="cifar100",
        modality="image",
        class_names=CIFAR100_CLASSES,
        description="CIFAR-100: 60,000 32x32 colour images in 100 fine-grained classes.",
        hub=HubSource("uoft-cs/cifar100", column_mapping={"img": "image", "fine_label": "label"}),
        license="unknown",
    )
)

IMDB = register_task(
    Task(
        name="imdb",
        modality="text",
        class_names=("neg", "pos"),
        description="IMDB movie-review sentiment (25,000 train / 25,000 test); OOD: Rotten Tomatoes test.",
        hub=HubSource("stanfordnlp/imdb"),
        ood=OODSource("cornell-movie-review-data/rotten_tomatoes", split="test"),
        license="other",
    )
)

MOVING_DIGITS = register_task(
    MovingDigitsTask(
        name="moving_digits",
        modality="video",
        class_names=MOVING_DIGITS_CLASS_NAMES,
        description="Clips of scikit-learn's handwritten digits moving across a 16x16 frame for 8 frames; "
        "the class is the motion (4 directions x 2 speeds), offline.",
        loader=load_moving_digits_splits,
        validation_split="validation",
        license="cc-by-4.0",
        split_note="one clip per sklearn digit, motions drawn with numpy default_rng(0); stratified split, "
        "random_state=0: 1,257 train / 180 validation / 360 test",
    )
)

UCF101 = register_task(
    FrameClipTask(
        name="ucf101",
        modality="video",
        class_names=UCF101_CLASS_NAMES,
        description="UCF101 split 1: 13,320 YouTube clips of 101 human actions (9,537 train / 3,783 test).",
        hub=HubSource(UCF101_REPO, column_mapping={"label": "label"}),
        license="unknown",
        source_citation=UCF101_CITATION,
        split_note="flwrlabs/ucf101 stores one row per frame; each (video_id, clip_id) becomes one H.264 clip",
    )
)

# Generation tasks (prompt–completion rows): registered from their own modules.
from . import debian_summaries, fictitious_authors, fictitious_authors_small, generation_hub  # noqa: E402,F401

NLVR2 = register_task(nlvr2_task())

TINY_IMAGENET = register_task(tiny_imagenet_task())

# Biomedical relation classification: MU-Bench's DDI-2013 (Hub) and its offline stand-in from the Gene
# Ontology.
from .ddi import (  # noqa: E402
    DDI_CITATION,
    DDI_CLASS_NAMES,
    DDI_CONFIG,
    DDI_REPO,
    DDI_REVISION,
    DDI_TINY_WORDS,
    DdiTask,
)
from .go_relations import (  # noqa: E402
    GO_CITATION,
    GO_RELATION_CLASS_NAMES,
    GO_RELATIONS_RECIPE,
    TinyTokenizerTask,
    load_go_relations_splits,
)

DDI = register_task(
    DdiTask(
        name="ddi",
        modality="text",
        class_names=DDI_CLASS_NAMES,
        description="DDI-2013 drug-drug interactions: a pair of drugs in a DrugBank/MedLine sentence, both "
        "masked as @DRUG$ (BLURB's input), classed false/mechanism/advise/effect/int.",
        hub=HubSource(DDI_REPO, revision=DDI_REVISION, config_name=DDI_CONFIG),
        validation_split="validation",
        license="cc-by-nc-4.0",
        source_citation=DDI_CITATION,
        split_note="the Hub's parquet conversion of bigbio/ddi_corpus (ddi_corpus_source, BRAT documents); "
        "every entity pair of a sentence is a row; validation = 10 % of the train documents (rng seed 0)",
        tiny_words=DDI_TINY_WORDS,
    )
)

GO_RELATIONS = register_task(
    TinyTokenizerTask(
        name="go_relations",
        modality="text",
        class_names=GO_RELATION_CLASS_NAMES,
        description="Gene Ontology term pairs in a sentence with [E1]/[E2] markers, classed by their GO "
        "relation (is_a, part_of, regulates, positively/negatively regulates): a DDI-shaped task, offline.",
        loader=load_go_relations_splits,
        validation_split="validation",
        license="cc-by-4.0",
        source_citation=GO_CITATION,
        split_note="Debian r-bioc-go.db 3.16 (GO 2022-07-01) direct edges, 800 per relation drawn with rng "
        "seed 0, split 80/10/10 per relation (seed 1): 3,200 train / 400 validation / 400 test",
        recipe=GO_RELATIONS_RECIPE,
    )
)
