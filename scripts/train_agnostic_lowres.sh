#!/usr/bin/env bash
# From the project root, after scripts/train_agnostic.sh. Tried, not shipped: stage 3, 1500 steps from the
# shipped stage 2 with low-resolution masks added to the mix (every training list again, coarse = ground truth
# at 1/3–1/16 resolution, upsampled bilinearly, random sharpness; `train --coarse lowres`), to sharpen merely
# blurred masks. Compare with scripts/tune_refiners.sh (numbers in models/README.md).
set -euo pipefail
source "$(dirname "$0")/agnostic_sources.sh"
lowres=(
  --images $D/camvid/images --masks $D/camvid/masks --coarse lowres --list runs/camvid_fit.txt --label-space 12:11
  --images $D/coco128/images --masks $D/coco128/masks --coarse lowres --list $D/coco128/train.txt --label-space present:0
  --images $D/weizmann_horses/images --masks $D/weizmann_horses/masks --coarse lowres --list $D/weizmann_horses/train.txt --label-space 2
  --images $D/pennfudan/images --masks $D/pennfudan/masks --coarse lowres --list $D/pennfudan/train.txt --label-space 2
  --repeat 1 --repeat 1 --repeat 1 --repeat 1
)
$SPN train --out runs/refiner_agnostic_lowres "${sources[@]}" "${lowres[@]}" --steps 1500 --lr 1e-3 \
  --class-balance 0.5 --init runs/refiner_agnostic_balanced/refiner.pt
