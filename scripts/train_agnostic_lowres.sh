#!/usr/bin/env bash
# From the project root, after scripts/train_agnostic.sh. Tried, not shipped: stage 3, 1500 steps from the
# shipped stage 2 with low-resolution masks added to the mix (every training list again, coarse = ground truth
# at 1/3–1/16 resolution, upsampled bilinearly, random sharpness; `train --coarse lowres`), to sharpen merely
# blurred masks. Compare with scripts/tune_refiners.sh (numbers in models/README.md).
set -euo pipefail
source "$(dirname "$0")/agnostic_sources.sh"
synthesized_sources lowres
$SPN train --out runs/refiner_agnostic_lowres "${sources[@]}" "${synthesized[@]}" \
  --repeat 1 --repeat 1 --repeat 1 --repeat 1 --steps 1500 --lr 1e-3 \
  --class-balance 0.5 --init runs/refiner_agnostic_balanced/refiner.pt
