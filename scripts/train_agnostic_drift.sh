#!/usr/bin/env bash
# From the project root, after scripts/train_agnostic.sh: the agnostic refiner with a confident segmenter's kind of
# error added (`--coarse drift`, training.synth.drifted_coarse: boundaries drifting smoothly off the true ones by up
# to 2% of the diagonal, thin parts lost or gaps filled, a narrow soft band) on every training list, next to the
# stage-2 data. 1200 more class-balanced steps from stage 2 (the recipe of its control, model card).
set -euo pipefail
source "$(dirname "$0")/agnostic_sources.sh"
synthesized_sources drift
$SPN train --out "${OUT:-runs/refiner_agnostic_drift}" "${sources[@]}" "${synthesized[@]}" \
  --repeat 1 --repeat 2 --repeat 1 --repeat 2 --steps 1200 --lr 1e-3 \
  --class-balance 0.5 --init runs/refiner_agnostic_balanced/refiner.pt "$@"
