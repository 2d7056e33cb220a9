"""``mubench push``: publish a model output folder (weights, config, card, results) as a Hub model repo.

Only the allow-listed files go up (safetensors weights, configs, processor files, the card, results;
see ``mubench_hf.hub.push.MODEL_FILE_PATTERNS``); pickles such as ``training_args.bin`` stay local, and
a file holding the Hub token stops the push before any upload. A static Space folder (``mubench
leaderboard --space DIR``: index.html and a README.md saying ``sdk: static``) is pushed as a Space repo."""

from __future__ import annotations

from ..hub import push_model
from ._push_common import print_push, push_parser


def main(argv: list[str] | None = None) -> int:
    args = push_parser(
        "mubench push",
        "Push a model folder (save_pretrained output with a README.md model card) to a Hub model repo in one "
        "commit: safetensors weights, configs, processor files, the card and results only. Pushing again "
        "adds a commit; other files in the repo are kept.",
        ("OUT", "the model output folder"),
        "the model repo, 'namespace/name'",
    ).parse_args(argv)
    from ..hub.leaderboard_page import is_space_folder, push_space

    if is_space_folder(args.folder):
        print_push(push_space(args.folder, args.repo_id, token=args.token, private=args.private,
                              commit_message=args.commit_message))  # fmt: skip
        return 0
    print_push(push_model(args.folder, args.repo_id, token=args.token, private=args.private,
                          commit_message=args.commit_message))  # fmt: skip
    return 0
