#!/usr/bin/env bash
# From the project root, after scripts/train_agnostic.sh: a CamVid refiner whose guidance CNN also sees the 12
# coarse probabilities (which class is where), started from the shipped agnostic refiner (the new inputs start
# at zero weight), trained on the CamVid inputs of the agnostic refiner (no val image), class-balanced;
# validation on sequence 0006R0. INIT=…/refiner.pt starts from another agnostic checkpoint (default: stage 2).
set -euo pipefail
D=../shared/data
camvid=()
for coarse in ${COARSE:-runs/degraded/v0 runs/degraded/v1 runs/degraded/v2 synth}; do
  camvid+=(--images $D/camvid/images --masks $D/camvid/masks --coarse $coarse --list "${LIST:-runs/camvid_fit.txt}")
done
${SPNREFINE:-spnrefine} train --out "${OUT:-runs/refiner_camvid_guided}" --init "${INIT:-runs/refiner_agnostic_balanced/refiner.pt}" \
  "${camvid[@]}" --val-images $D/camvid/images --val-masks $D/camvid/masks --val-coarse runs/degraded_tune/v0 \
  --val-list runs/camvid_tune_small.txt --num-classes 12 --ignore-index 11 \
  --steps "${STEPS:-1200}" --lr 1e-3 --eval-every 300 --hard-fraction 0.3 --pixel-blend \
  --head-classes 12 --head-labels camvid --no-class-head --class-guidance --class-balance 0.5 -q "$@"
