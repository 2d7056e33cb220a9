#!/usr/bin/env bash
# Issue 13's science run on Fashion-MNIST (60,000 + 10,000 real images, Debian dataset-fashion-mnist):
# every classification method x deletion ratios 1, 5, 10 % and the class-wise config of class 0 (T-shirt/top)
# x MU-Bench's five seeds, learning rates picked on validation only. Resumable: run it again to go on.
#   OUT=runs/fashion_mnist_science examples/fashion_mnist_science/run.sh
#   (STUDY_FLAGS / RUN_FLAGS: extra flags of the learning-rate search / of the grid run)
# Cost (2-core CPU, quiet): ~70 s per base/retrain model (2 epochs), ~45 s per cell (most of it scoring:
# prediction over 70k images and SalUn's SVC attack fitted on 20k confidences): about 4 CPU-hours in all.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${OUT:-runs/fashion_mnist_science}"
SWEEP="$OUT/lr-search/sweep"
# 1. the splits of every config, built once (the learning-rate search reuses them: del5 is among them)
if [ ! -f "$SWEEP/mubench/mubench.json" ]; then
  mubench build-splits --task fashion_mnist --ratios 1,5,10 --forget-class 0 --seed 42 --output "$SWEEP/mubench" --quiet
fi
# 2. each method's learning rate x factors on fashion_mnist_del5, seed 42, picked on validation. A first
#    search over x0.3/1/3 put eleven methods at x0.3 and bad_teaching at x3 (the grid's edges), so the
#    factors reach further down, and up for bad_teaching; SSD searches its selection weighting alpha.
mubench study lr-search --task fashion_mnist --methods all --ratio 5 --seed 42 --output "$OUT" \
  --base-epochs 2 --max-steps 150 --hyperparameters "$HERE/start_hyperparameters.yaml" \
  --factors 0.03,0.1,0.3 --method-factors grad_ascent=0.01,0.03,0.1,0.3 \
  --method-factors delete=0.01,0.03,0.1,0.3 --method-factors bad_teaching=3,10,30 \
  --method-factors ssd=0.1,0.2,0.3 ${STUDY_FLAGS:-}
# 3. the same search on the class-wise config (class 0 forgotten): forgetting a whole class wants larger
#    steps than forgetting random rows that the model already treats like unseen ones
mubench study lr-search --task fashion_mnist --methods all --ratio 5 --forget-class 0 --seed 42 \
  --output "$OUT" --base-epochs 2 --max-steps 150 --hyperparameters "$HERE/start_hyperparameters.yaml" \
  --factors 0.1,0.3,3 --method-factors ssd=0.1,0.3,0.6 --method-factors grad_ascent=0.01,0.03,0.1,0.3,3 \
  --method-factors npo=0.1,0.3,3,10 ${STUDY_FLAGS:-}
# 4. the grid with the picked settings, in the same folder (its seed-42 models and cells are reused):
#    random deletion with the del5 picks, the class-wise config with the class0 picks
python - "$HERE/start_hyperparameters.yaml" "$OUT/lr-search" "$SWEEP" > "$OUT/grid.yaml" <<'PY'
import json, sys
from pathlib import Path
from mubench_hf.config_files import read_config_file
start, search = read_config_file(sys.argv[1]), Path(sys.argv[2])
def merged(picked):
    return {m: {**start.get(m, {}), **picked.get(m, {})} for m in sorted(set(start) | set(picked))}
random_picks = read_config_file(search / "hyperparameters.yaml")
class_picks = read_config_file(search / "fashion_mnist_class0" / "hyperparameters.yaml")
print(json.dumps({
    "task": "fashion_mnist", "methods": "all", "ratios": [1, 5, 10], "classes": [0],
    "seeds": [42, 87, 21, 100, 13], "output": sys.argv[3], "split_seed": 42,
    "base_recipe": {"num_train_epochs": 2}, "unlearn_args": {"max_steps": 150},
    "hyperparameters": merged(random_picks), "class_wise_hyperparameters": merged(class_picks),
}, indent=2))
PY
# RUN_FLAGS reach mubench run only, e.g. RUN_FLAGS="--backend ray" (two cells at a time on two cores)
mubench run "$OUT/grid.yaml" ${RUN_FLAGS:-}
# 5. the README's tables and the claims checked
python "$HERE/summarise.py" "$SWEEP"
