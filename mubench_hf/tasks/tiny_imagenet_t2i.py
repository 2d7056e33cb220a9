"""``tiny_imagenet_t2i``: Stable Diffusion 1.x prompted with Tiny-ImageNet's 200 classes (MU-Bench's
text-to-image setting), from the Hub.

Rows are the ``tiny_imagenet`` task's: ``zh-plus/tiny-imagenet`` (``image`` 64x64 RGB, ``label`` a ClassLabel
of the 200 WordNet ids in sorted order; ``train`` 100,000 and ``valid`` 10,000, the latter the test split since
the official test split has no labels). ``source=`` takes a local copy of that schema. The prompt of a row
is CLIP's ImageNet template with the class's name, ``"a photo of a goldfish."``: the names are the first
WordNet lemma of each synset as ImageNet-1k's class index spells it (``n01443537`` → ``goldfish``), every one of
the 200 distinct. ``tiny_imagenet_t2i_class<k>`` forgets every image of class k.

The base model starts from a pretrained pipeline, ``CompVis/stable-diffusion-v1-4`` by default
(``DEFAULT_MODEL``; ``mubench train-base --model <diffusers folder or Hub id>``), fine-tuned on the train
split with the task's recipe (Stable Diffusion's fine-tuning settings: lr 1e-5, constant, one epoch, the text
encoder and VAE frozen); the retrain model is the same pipeline fine-tuned on the retain split. The
pipeline saw every ImageNet class in its own pretraining, which no retrain reference can undo: the gap to
retrain measures unlearning of what the fine-tuning added, and the forgotten class's accuracy under the
retrain model says how much the pretraining alone keeps. Generated images (512x512 for SD 1.x) are read by
the task's evaluation classifier at the photographs' 64x64; sampling batches hold at most 16 images.
"""

from __future__ import annotations

from .mubench_hub_tasks import TINY_IMAGENET_CLASSES, TINY_IMAGENET_REPO
from .registry import register_task
from .sources import HubSource
from .text_to_image import ImageGenerationTask

#: The pretrained pipeline a base model of a Stable Diffusion task starts from unless ``--model`` says otherwise.
STABLE_DIFFUSION_V1 = "CompVis/stable-diffusion-v1-4"
#: Fine-tuning a pretrained Stable Diffusion (diffusers' text-to-image fine-tuning defaults, one epoch).
STABLE_DIFFUSION_RECIPE = dict(
    num_train_epochs=1.0,
    learning_rate=1e-5,
    per_device_train_batch_size=8,
    warmup_steps=0,
    lr_scheduler_type="constant",
)
#: A report's sampling batches for a 512x512 Stable Diffusion model (classifier-free guidance doubles them).
STABLE_DIFFUSION_SAMPLING_BATCH = 16

# ImageNet-1k's name of each Tiny-ImageNet synset, in the order of TINY_IMAGENET_CLASSES (';'-separated).
TINY_IMAGENET_WORDS = tuple(
    "".join(
        line.strip()
        for line in """
        goldfish;European fire salamander;bullfrog;tailed frog;American alligator;boa constrictor;trilobite;
        scorpion;black widow;tarantula;centipede;goose;koala;jellyfish;brain coral;snail;slug;sea slug;
        American lobster;spiny lobster;black stork;king penguin;albatross;dugong;Chihuahua;
        Yorkshire terrier;golden retriever;Labrador retriever;German shepherd;standard poodle;tabby;
        Persian cat;Egyptian cat;cougar;lion;brown bear;ladybug;fly;bee;grasshopper;walking stick;cockroach;
        mantis;dragonfly;monarch;sulphur butterfly;sea cucumber;guinea pig;hog;ox;bison;bighorn;gazelle;
        Arabian camel;orangutan;chimpanzee;baboon;African elephant;lesser panda;abacus;academic gown;altar;
        apron;backpack;bannister;barbershop;barn;barrel;basketball;bathtub;beach wagon;beacon;beaker;
        beer bottle;bikini;binoculars;birdhouse;bow tie;brass;broom;bucket;bullet train;butcher shop;candle;
        cannon;cardigan;cash machine;CD player;chain;chest;Christmas stocking;cliff dwelling;
        computer keyboard;confectionery;convertible;crane;dam;desk;dining table;drumstick;dumbbell;flagpole;
        fountain;freight car;frying pan;fur coat;gasmask;go-kart;gondola;hourglass;iPod;jinrikisha;kimono;
        lampshade;lawn mower;lifeboat;limousine;magnetic compass;maypole;military uniform;miniskirt;
        moving van;nail;neck brace;obelisk;oboe;organ;parking meter;pay-phone;picket fence;pill bottle;
        plunger;pole;police van;poncho;pop bottle;potter's wheel;projectile;punching bag;reel;refrigerator;
        remote control;rocking chair;rugby ball;sandal;school bus;scoreboard;sewing machine;snorkel;sock;
        sombrero;space heater;spider web;sports car;steel arch bridge;stopwatch;sunglasses;
        suspension bridge;swimming trunks;syringe;teapot;teddy;thatch;torch;tractor;triumphal arch;
        trolleybus;turnstile;umbrella;vestment;viaduct;volleyball;water jug;water tower;wok;wooden spoon;
        comic book;plate;guacamole;ice cream;ice lolly;pretzel;mashed potato;cauliflower;bell pepper;
        mushroom;orange;lemon;banana;pomegranate;meat loaf;pizza;potpie;espresso;alp;cliff;coral reef;
        lakeside;seashore;acorn
        """.splitlines()
    ).split(";")
)

TINY_IMAGENET_T2I = register_task(
    ImageGenerationTask(
        name="tiny_imagenet_t2i",
        modality="image",
        class_names=TINY_IMAGENET_CLASSES,
        concepts=TINY_IMAGENET_WORDS,
        prompt_template="a photo of a {}.",
        generic_prompt="a photo.",
        image_size=64,
        channels=3,
        description="Text-to-image: Stable Diffusion 1.x prompted with Tiny-ImageNet's 200 classes ('a photo of a "
        "goldfish.'), MU-Bench's setting; base: CompVis/stable-diffusion-v1-4 fine-tuned on the task.",
        hub=HubSource(TINY_IMAGENET_REPO),
        test_split="valid",
        license="unknown",
        split_note="train (100,000) / valid (10,000, the labelled evaluation split) of zh-plus/tiny-imagenet",
        recipe=dict(STABLE_DIFFUSION_RECIPE),
        sampling_batch_size=STABLE_DIFFUSION_SAMPLING_BATCH,
        default_model=STABLE_DIFFUSION_V1,
    )
)
