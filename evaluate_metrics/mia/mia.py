"""evaluate module ``mia``: membership inference (SalUn's MIA efficacy, a logistic variant, loss AUCs)."""

import evaluate

from mubench_hf.metrics import (
    loss_attack_auc_from_losses,
    membership_attack_from_outputs,
    membership_attack_lr_from_outputs,
    split_outputs,
)
from mubench_hf.metrics.evaluate_support import logits_features, require_arguments

_DESCRIPTION = """\
Membership inference on the unlearned model.
mia_efficacy, exactly as SalUn (Fan et al. 2024) and Jia et al. 2023 compute it (OPTML-Group/Unlearn-Sparse,
evaluation/SVC_MIA.py, its "confidence" entry): sklearn.svm.SVC(C=3, gamma="auto", kernel="rbf") on the
unscaled softmax probability of the true class, trained with the first |Dt| rows of the retain set Dr as
members against the test set Dt as non-members; the value is the share of the forget set Df predicted
non-member (higher = Df looks more like unseen data).
mia_test_nonmember_rate: the share of Dt the same attacker calls non-member (what a Df that looks like
unseen data would score).
mia_efficacy_lr: this package's earlier attack (logistic regression on true-class probability and
normalised entropy, balanced by seeded subsampling); not comparable with published tables.
mia_loss_auc / mia_forget_loss_auc (Yeom et al. 2018): ROC-AUC of -loss with members positive, for Dr vs Dt
and for Df vs Dt; 0.5 = the loss reveals nothing.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `list` of `float`): the model's logits on the forget set Df, shape (n_forget, K).
    references (`list` of `int`): labels of Df.
    retain_logits, retain_labels (array-like, required): the retain set Dr (members; its first |Dt| rows
        train SalUn's attacker, in the order given).
    test_logits, test_labels (array-like, required): the test set Dt (non-members).
    seed (`int`): seeds the logistic attacker's class balancing (default 0); SalUn's SVC needs no seed.
Returns:
    mia_efficacy, mia_test_nonmember_rate, mia_efficacy_lr, mia_loss_auc, mia_forget_loss_auc (`float`):
    each in [0, 1].
"""

_CITATION = """\
@article{cheng2024mubench,
  title={MU-Bench: A Multitask Multimodal Benchmark for Machine Unlearning},
  author={Cheng, Jiali and Amiri, Hadi},
  journal={arXiv preprint arXiv:2406.14796},
  year={2024}
}
@inproceedings{jia2023sparsity,
  title={Model Sparsity Can Simplify Machine Unlearning},
  author={Jia, Jinghan and Liu, Jiancheng and Ram, Parikshit and Yao, Yuguang and Liu, Gaowen and Liu, Yang and Sharma, Pranay and Liu, Sijia},
  booktitle={Advances in Neural Information Processing Systems},
  year={2023}
}
@inproceedings{fan2024salun,
  title={SalUn: Empowering Machine Unlearning via Gradient-based Weight Saliency in Both Image Classification and Generation},
  author={Fan, Chongyu and Liu, Jiancheng and Zhang, Yihua and Wong, Eric and Wei, Dennis and Liu, Sijia},
  booktitle={International Conference on Learning Representations},
  year={2024}
}
@inproceedings{yeom2018privacy,
  title={Privacy Risk in Machine Learning: Analyzing the Connection to Overfitting},
  author={Yeom, Samuel and Giacomelli, Irene and Fredrikson, Matt and Jha, Somesh},
  booktitle={IEEE 31st Computer Security Foundations Symposium (CSF)},
  year={2018}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Mia(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=logits_features(),
            reference_urls=[
                "https://arxiv.org/abs/2304.04934",
                "https://github.com/OPTML-Group/Unlearn-Sparse",
                "https://arxiv.org/abs/2310.12508",
                "https://arxiv.org/abs/1709.01604",
            ],
        )

    def _compute(
        self,
        predictions,
        references,
        retain_logits=None,
        retain_labels=None,
        test_logits=None,
        test_labels=None,
        seed=0,
    ):
        given = {
            "retain_logits": retain_logits,
            "retain_labels": retain_labels,
            "test_logits": test_logits,
            "test_labels": test_labels,
        }
        require_arguments("mia", given, ": the attacker learns members (retain) vs non-members (test)")
        forget = split_outputs(predictions, references, name="forget_logits", labels_name="forget_labels")
        num_labels = forget.num_labels
        retain = split_outputs(
            retain_logits,
            retain_labels,
            name="retain_logits",
            labels_name="retain_labels",
            num_labels=num_labels,
        )
        test = split_outputs(
            test_logits, test_labels, name="test_logits", labels_name="test_labels", num_labels=num_labels
        )
        attack = membership_attack_from_outputs(forget, retain, test)
        return {
            "mia_efficacy": attack.efficacy,
            "mia_test_nonmember_rate": attack.test_nonmember_rate,
            "mia_efficacy_lr": membership_attack_lr_from_outputs(forget, retain, test, seed=seed).efficacy,
            "mia_loss_auc": loss_attack_auc_from_losses(retain.loss, test.loss),
            "mia_forget_loss_auc": loss_attack_auc_from_losses(forget.loss, test.loss),
        }
