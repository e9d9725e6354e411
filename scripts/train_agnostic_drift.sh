#!/usr/bin/env bash
# From the project root, after scripts/train_agnostic.sh: the agnostic refiner with a confident segmenter's kind of
# error added (`--coarse drift`, training.synth.drifted_coarse: boundaries drifting smoothly off the true ones by up
# to 2% of the diagonal, thin parts lost or gaps filled, a narrow soft band) on every training list, next to the
# stage-2 data. 1200 more class-balanced steps from stage 2 (the recipe of its control, model card).
set -euo pipefail
source "$(dirname "$0")/agnostic_sources.sh"
drift=(
  --images $D/camvid/images --masks $D/camvid/masks --coarse drift --list runs/camvid_fit.txt --label-space 12:11
  --images $D/coco128/images --masks $D/coco128/masks --coarse drift --list $D/coco128/train.txt --label-space present:0
  --images $D/weizmann_horses/images --masks $D/weizmann_horses/masks --coarse drift --list $D/weizmann_horses/train.txt --label-space 2
  --images $D/pennfudan/images --masks $D/pennfudan/masks --coarse drift --list $D/pennfudan/train.txt --label-space 2
  --repeat 1 --repeat 2 --repeat 1 --repeat 2
)
$SPN train --out "${OUT:-runs/refiner_agnostic_drift}" "${sources[@]}" "${drift[@]}" --steps 1200 --lr 1e-3 \
  --class-balance 0.5 --init runs/refiner_agnostic_balanced/refiner.pt "$@"
