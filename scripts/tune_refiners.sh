#!/usr/bin/env bash
# From the project root, after scripts/prepare_training.sh: compare refiner checkpoints on CamVid train
# sequence 0006R0 (held back from every training run; never scored for the README). Three coarse inputs:
# ESPNet on degraded copies (runs/degraded_tune/v0), ESPNet's own outputs (runs/espnet) and ground truth at
# ×8 low resolution. Usage: bash scripts/tune_refiners.sh CHECKPOINT [CHECKPOINT ...]
set -euo pipefail
D=../shared/data
OUT=${OUT:-runs/tune}
mkdir -p "$OUT"
checkpoints=()
for c in "$@"; do checkpoints+=(--checkpoint "$c"); done
common=(--images $D/camvid/images --masks $D/camvid/masks --list runs/camvid_tune.txt --num-classes 11
        --ignore-index 11 --class-names camvid --no-crf "${checkpoints[@]}")
for coarse in runs/degraded_tune/v0 runs/espnet lowres; do
  name=$(basename "$coarse")
  spnrefine benchmark refinement "${common[@]}" --coarse "$coarse" --json "$OUT/$name.json" | tee "$OUT/$name.txt"
done
