#!/usr/bin/env bash
# From the project root, after scripts/train_agnostic.sh: the agnostic refiner with a learned per-pixel blend
# of the max and the mean over the four directions (--merge mixed), 1200 more class-balanced steps from the
# shipped refiner; and, as the control, the same 1200 steps with the max merge.
set -euo pipefail
source "$(dirname "$0")/agnostic_sources.sh"
for merge in mixed max; do
  $SPN train --out runs/refiner_agnostic_more_$merge "${sources[@]}" --steps 1200 --lr 1e-3 --class-balance 0.5 \
    --merge $merge --init runs/refiner_agnostic_balanced/refiner.pt
done
