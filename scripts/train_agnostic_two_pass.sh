#!/usr/bin/env bash
# From the project root, after scripts/train_agnostic.sh. An experiment: two propagation passes (more reach),
# both starting from the shipped refiner's gates, 700 steps class-balanced like stage 2. Compare with
# scripts/tune_refiners.sh (held-out CamVid sequence 0006R0).
set -euo pipefail
source "$(dirname "$0")/agnostic_sources.sh"
$SPN train --out runs/refiner_agnostic_two_pass "${sources[@]}" --steps 700 --lr 1e-3 --class-balance 0.5 \
  --iterations 2 --init runs/refiner_agnostic_balanced/refiner.pt
