"""evaluate module ``extraction_strength``: how much of each answer's end the model completes by itself."""

import evaluate

from mubench_hf.metrics.generative import extraction_strength, extraction_strength_open_unlearning
from mubench_hf.metrics.generative.evaluate_support import (
    MUBENCH_BIBTEX,
    OPEN_UNLEARNING_BIBTEX,
    token_id_features,
)

_DESCRIPTION = """\
Extraction strength, as in open-unlearning's metric suite: teacher-forced on the prompt and the answer y,
the model's argmax prediction at each answer position is compared with the answer; the score is
1 - k*/|y| with k* the shortest prefix after which every remaining answer token is predicted correctly
(the longest correctly predicted suffix over |y|), averaged over the samples. 1 = every answer token
predicted (memorised), 0 = not even the last one. On the forget set lower = more forgotten.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `int`): the model's argmax token id at each answer position.
    references (`list` of `list` of `int`): the answer's token ids, same lengths.
    variant (`str`): "definition" (default; the empty suffix counts, so a wrong last token scores 0) or
        "open_unlearning" (open-unlearning's loop, which stops at k = |y| - 1: a wrong last token scores 1/|y|).
Returns:
    extraction_strength (`float`): in [0, 1]; with variant="open_unlearning" the key is
        extraction_strength_open_unlearning.
"""

_CITATION = (
    MUBENCH_BIBTEX
    + OPEN_UNLEARNING_BIBTEX
    + """\
@inproceedings{carlini2021extracting,
  title={Extracting Training Data from Large Language Models},
  author={Carlini, Nicholas and Tram{\\`e}r, Florian and Wallace, Eric and Jagielski, Matthew and Herbert-Voss, Ariel and Lee, Katherine and Roberts, Adam and Brown, Tom and Song, Dawn and Erlingsson, {\\'U}lfar and Oprea, Alina and Raffel, Colin},
  booktitle={30th USENIX Security Symposium},
  year={2021}
}
"""
)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ExtractionStrength(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=token_id_features(),
            reference_urls=[
                "https://github.com/locuslab/open-unlearning",
                "https://arxiv.org/abs/2012.07805",
            ],
        )

    def _compute(self, predictions, references, variant="definition"):
        if variant == "open_unlearning":
            return {
                "extraction_strength_open_unlearning": extraction_strength_open_unlearning(
                    predictions, references
                )
            }
        if variant != "definition":
            raise ValueError(f"variant must be 'definition' or 'open_unlearning', got {variant!r}")
        return {"extraction_strength": extraction_strength(predictions, references)}
