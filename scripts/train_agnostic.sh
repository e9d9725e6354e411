#!/usr/bin/env bash
# From the project root, after scripts/prepare_training.sh: trains models/spn_refiner_agnostic.pt in two stages.
# Training data: CamVid train without sequence 0006R0 (held back for validation) and without the 0016E5
# frames within ±300 of the val frames; coco128, weizmann_horses and pennfudan train lists. No val image.
# Stage 1: 3000 steps, plain NLL. Stage 2: 1200 steps from stage 1 with class-balanced NLL (small and thin
# objects count more), lr 1e-3. Each stage resumes from its last.pt when rerun.
set -euo pipefail
source "$(dirname "$0")/agnostic_sources.sh"
$SPN train --out runs/refiner_agnostic "${sources[@]}" --steps 3000
$SPN train --out runs/refiner_agnostic_balanced "${sources[@]}" --steps 1200 --lr 1e-3 --class-balance 0.5 \
  --init runs/refiner_agnostic/refiner.pt
