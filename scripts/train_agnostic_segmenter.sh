#!/usr/bin/env bash
# From the project root, after scripts/train_agnostic.sh and scripts/mediapipe_masks.py (see there): the agnostic
# refiner with a third-party segmenter's real errors added — MediaPipe selfie segmentation (models 0 and 1) on
# pennfudan and coco128 train images (persons; the last 30 stems of each train list held back for tuning:
# runs/{pennfudan,coco}_mp_tune.txt). 1200 more class-balanced steps from stage 2 on the stage-2 data plus these.
# Needs runs/mediapipe{0,1}_2ch/{pennfudan,coco128}_train/*.npy (2, H, W) and runs/coco_person/masks (0/1, 255 =
# unlabeled), made as the model card says.
set -euo pipefail
source "$(dirname "$0")/agnostic_sources.sh"
mp=()
for m in 0 1; do
  mp+=(--images $D/pennfudan/images --masks $D/pennfudan/masks --coarse runs/mediapipe${m}_2ch/pennfudan_train
       --list runs/pennfudan_mp_fit.txt --label-space 2 --repeat 1
       --images $D/coco128/images --masks runs/coco_person/masks --coarse runs/mediapipe${m}_2ch/coco128_train
       --list runs/coco_mp_fit.txt --label-space 2:255 --repeat 1)
done
$SPN train --out "${OUT:-runs/refiner_agnostic_segmenter}" "${sources[@]}" "${mp[@]}" --steps 1200 --lr 1e-3 \
  --class-balance 0.5 --init runs/refiner_agnostic_balanced/refiner.pt "$@"
