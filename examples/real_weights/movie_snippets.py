"""Real, human-rated movie-review sentiment as a task file: the VADER paper's 10,605 movie-review snippets.

The data ships inside the ``vaderSentiment`` source distribution on PyPI (MIT licence; Hutto & Gilbert,
ICWSM 2014): ``additional_resources/hutto_ICWSM_2014.tar.gz`` holds ``movieReviewSnippets_GroundTruth.txt``,
one snippet a line (id, mean rating of about 20 human raters on −4 … +4, text). The snippets are the
Rotten Tomatoes sentences of Pang & Lee (2005). This script fetches the sdist with pip (``pip download``, once,
into ``--cache``; its SHA-256 is checked), labels each snippet ``positive`` (mean rating ≥ ``--threshold``)
or ``negative`` (≤ −``--threshold``), drops the near-neutral ones in between, and writes

* ``movie_snippets.csv`` (columns ``text``, ``label``; ``--rows`` keeps a seeded, class-balanced subset), and
* ``movie_snippets.yaml``, the task file that declares it (no package code: ``mubench build-splits --task
  movie_snippets.yaml``; test 20 % and validation 10 % are carved out of it, seeded).

    python examples/real_weights/movie_snippets.py --output movie_snippets [--rows 3000] [--threshold 1]

PyPI must be reachable on the first run; later runs read the cached sdist.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import yaml

SDIST = "vaderSentiment-3.3.2.tar.gz"
# the file PyPI serves for vadersentiment==3.3.2 (checked so a changed download is refused, not used)
SDIST_SHA256 = "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9"
INNER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
SNIPPETS = "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"
CITATION = """@inproceedings{hutto2014vader,
  title={VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text},
  author={Hutto, C. J. and Gilbert, Eric},
  booktitle={Eighth International Conference on Weblogs and Social Media (ICWSM-14)},
  year={2014}
}"""


def fetch_sdist(cache: Path) -> Path:
    """The vaderSentiment sdist in ``cache``, downloaded with pip when missing, its SHA-256 checked."""
    path = cache / SDIST
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "vadersentiment==3.3.2", "--dest", str(cache)],
            check=True,
        )  # fmt: skip
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise SystemExit(f"{path}: SHA-256 {digest}, expected {SDIST_SHA256}; delete it and run again")
    return path


def read_snippets(sdist: Path) -> list[tuple[float, str]]:
    """(mean rating, text) of every movie-review snippet, read from the nested tarball without extracting."""
    with tarfile.open(sdist) as outer:
        inner_bytes = outer.extractfile(INNER).read()
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        text = inner.extractfile(SNIPPETS).read().decode("utf-8")
    rows = []
    for line in text.splitlines():
        if line.strip():
            _, rating, snippet = line.split("\t", 2)
            rows.append((float(rating), snippet.strip()))
    return rows


def label_rows(
    rows: list[tuple[float, str]], threshold: float, keep: int | None, seed: int
) -> list[tuple[str, str]]:
    """(text, label) rows: positive at rating ≥ threshold, negative at ≤ −threshold, the rest dropped;
    ``keep`` rows (half of each class, seeded) when given."""
    positive = [text for rating, text in rows if rating >= threshold]
    negative = [text for rating, text in rows if rating <= -threshold]
    rng = np.random.default_rng(seed)
    if keep is not None:
        half = keep // 2
        if half > min(len(positive), len(negative)):
            raise SystemExit(f"--rows {keep}: only {len(positive)} positive and {len(negative)} negative")
        positive = [positive[i] for i in sorted(rng.choice(len(positive), half, replace=False))]
        negative = [negative[i] for i in sorted(rng.choice(len(negative), keep - half, replace=False))]
    labelled = [(text, "positive") for text in positive] + [(text, "negative") for text in negative]
    return [labelled[i] for i in rng.permutation(len(labelled))]


def task_yaml(csv_name: str, threshold: float, count: int) -> str:
    """The task file declaring the CSV as the ``movie_snippets`` task."""
    declaration = {
        "name": "movie_snippets",
        "modality": "text",
        "files": csv_name,
        "input_column": "text",
        "label_column": "label",
        "class_names": ["negative", "positive"],
        "license": "mit",
        "description": f"{count} movie-review snippets rated by humans (VADER, Hutto & Gilbert 2014), "
        f"positive at mean rating >= {threshold:g}, negative at <= -{threshold:g}",
        "citation": CITATION,
    }
    header = "# written by examples/real_weights/movie_snippets.py\n"
    return header + yaml.safe_dump(declaration, sort_keys=False, allow_unicode=True, width=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", default="movie_snippets", help="folder of the CSV and the task file")
    parser.add_argument(
        "--cache",
        default=str(Path.home() / ".cache" / "mubench-hf" / "vader"),
        help="where the sdist is downloaded once",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=1.0,
        help="|mean rating| a snippet needs to be labelled (ratings run from -4 to 4); nearer 0 is dropped",
    )
    parser.add_argument(
        "--rows", type=int, default=None, help="a seeded class-balanced subset (default: all)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the subset and the row order")
    args = parser.parse_args()

    rows = read_snippets(fetch_sdist(Path(args.cache)))
    labelled = label_rows(rows, args.threshold, args.rows, args.seed)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    with open(output / "movie_snippets.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(labelled)
    (output / "movie_snippets.yaml").write_text(
        task_yaml("movie_snippets.csv", args.threshold, len(labelled))
    )
    positives = sum(label == "positive" for _, label in labelled)
    print(
        f"{len(rows)} snippets; {len(labelled)} kept at |rating| >= {args.threshold:g} "
        f"({positives} positive, {len(labelled) - positives} negative) -> {output / 'movie_snippets.yaml'}"
    )


if __name__ == "__main__":
    main()
