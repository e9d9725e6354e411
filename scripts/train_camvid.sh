#!/usr/bin/env bash
# From the project root, after scripts/train_agnostic.sh: a CamVid class head on top of the shipped agnostic
# refiner, trained on the same CamVid inputs (no val image), class-balanced; validation on sequence 0006R0.
set -euo pipefail
D=../shared/data
${SPNREFINE:-spnrefine} train --out runs/refiner_camvid --init runs/refiner_agnostic_balanced/refiner.pt \
  --images $D/camvid/images --masks $D/camvid/masks --coarse runs/degraded/v0 --list runs/camvid_fit.txt \
  --images $D/camvid/images --masks $D/camvid/masks --coarse runs/degraded/v1 --list runs/camvid_fit.txt \
  --images $D/camvid/images --masks $D/camvid/masks --coarse runs/degraded/v2 --list runs/camvid_fit.txt \
  --images $D/camvid/images --masks $D/camvid/masks --coarse synth --list runs/camvid_fit.txt \
  --val-images $D/camvid/images --val-masks $D/camvid/masks --val-coarse runs/degraded_tune/v0 \
  --val-list runs/camvid_tune_small.txt --num-classes 12 --ignore-index 11 \
  --steps "${STEPS:-1000}" --lr 1e-3 --eval-every 250 --hard-fraction 0.3 --pixel-blend \
  --head-classes 12 --head-labels camvid --class-balance 0.5 -q "$@"
