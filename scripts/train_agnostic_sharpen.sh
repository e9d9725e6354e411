#!/usr/bin/env bash
# From the project root, after scripts/train_agnostic.sh: the agnostic refiner given a per-pixel power that
# sharpens its coarse input before propagation (`train --sharpen`; starts at power 1, i.e. at the shipped
# refiner), 1200 more class-balanced steps on the same data. Its control is the same 1200 steps without it
# (runs/refiner_agnostic_more_max, models/README.md). Compare with scripts/tune_refiners.sh.
set -euo pipefail
source "$(dirname "$0")/agnostic_sources.sh"
$SPN train --out "${OUT:-runs/refiner_agnostic_sharpen}" "${sources[@]}" --steps 1200 --lr 1e-3 --class-balance 0.5 \
  --init runs/refiner_agnostic_balanced/refiner.pt --sharpen "$@"
