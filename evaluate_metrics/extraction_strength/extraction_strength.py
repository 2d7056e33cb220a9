"""evaluate module ``extraction_strength``: how much of each answer's end the model completes by itself."""

import evaluate

from mubench_hf.metrics.generative import extraction_strength
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
Returns:
    extraction_strength (`float`): in [0, 1].
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

    def _compute(self, predictions, references):
        return {"extraction_strength": extraction_strength(predictions, references)}
