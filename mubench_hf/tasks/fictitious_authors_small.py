"""``fictitious_authors_small``: ``fictitious_authors`` at the demo's size (20 training authors, 4 holdout).

The same seeded generator and columns as :mod:`.fictitious_authors`, a fifth of the authors: its base model
(tiny:llama with the generation recipe, 20 epochs = 260 steps, the cost of four epochs of the full task)
memorises the answers, so ``mubench demo``'s generation grid starts from a model that knows the forget
authors far better than the retrain model that never saw them.
"""

from __future__ import annotations

import datasets

from .fictitious_authors import DEFAULT_SEED, make_fictitious_authors
from .generation import GenerationTask
from .registry import register_task

#: Measured on ``fictitious_authors_small_del10`` (seed 42): the base model's forget ROUGE-L is 0.97, the
#: retrain model's 0.62 (it gets the answers' wording, not the two forgotten authors' facts).
SMALL_AUTHORS = 20
SMALL_HOLDOUT = 4


def _build_small(source: object = None) -> datasets.DatasetDict:
    if source is not None:
        from .sources import load_source

        return load_source(source, what="source for task 'fictitious_authors_small'")
    return make_fictitious_authors(num_authors=SMALL_AUTHORS, num_holdout=SMALL_HOLDOUT)


FICTITIOUS_AUTHORS_SMALL = register_task(
    GenerationTask(
        name="fictitious_authors_small",
        modality="text",
        description=(
            f"fictitious_authors at the demo's size: {SMALL_AUTHORS} made-up authors (20 questions each), "
            f"{SMALL_HOLDOUT} holdout authors as test; memorised by a tiny LM in minutes on a CPU."
        ),
        build=_build_small,
        group_column="group",
        extra_columns=("paraphrased_completion", "perturbed_completions"),
        eval_splits=("test",),
        license="cc-by-4.0",
        source_citation="Maini et al., TOFU: A Task of Fictitious Unlearning for LLMs, 2024 (the shape imitated)",
        split_note=(
            f"seeded generator (seed {DEFAULT_SEED}): {SMALL_AUTHORS} authors x 20 QA train, "
            f"{SMALL_HOLDOUT} holdout authors x 20 QA test"
        ),
    )
)
