#!/usr/bin/env bash
# From the project root, after scripts/mediapipe_masks.py (see there and scripts/train_agnostic_segmenter.sh) and
# scripts/coco_person_masks.py:
# refiner checkpoints on a third-party segmenter's person maps (MediaPipe selfie models 0 and 1), with dense CRF
# and the guided filter. SPLIT=tune (default): the train images held back from train_agnostic_segmenter.sh (last 30
# of pennfudan and coco128 train); SPLIT=val: the val lists (pennfudan 34, coco128 40; score them once).
# THEN_CRF=auto, always or "auto always": also each refiner followed by dense CRF (refine --then-crf).
# Usage: OUT=runs/X [SPLIT=val] bash scripts/tune_segmenter.sh CHECKPOINT [CHECKPOINT ...]
set -euo pipefail
D=../shared/data
OUT=${OUT:-runs/tune_segmenter}
mkdir -p "$OUT"
if [ "${SPLIT:-tune}" = val ]; then
  pennfudan=$D/pennfudan/val.txt coco=$D/coco128/val.txt maps=val
else
  pennfudan=runs/pennfudan_mp_tune.txt coco=runs/coco_mp_tune.txt maps=train
fi
checkpoints=()
for c in "$@"; do checkpoints+=(--checkpoint "$c"); done
for p in ${PRECISIONS:-auto}; do checkpoints+=(--precision "$p"); done  # "float32 bfloat16": both, side by side
if [ -n "${UNGUARDED:-}" ]; then checkpoints+=(--without-thin-guard); fi  # each also with refine --no-thin-guard
for mode in ${THEN_CRF:-}; do checkpoints+=(--then-crf "$mode"); done
for m in 0 1; do
  for input in probs hard; do
    flag=--no-hard; [ $input = hard ] && flag=--hard
    spnrefine benchmark refinement --images $D/pennfudan/images --masks $D/pennfudan/masks --list $pennfudan \
      --coarse runs/mediapipe$m/pennfudan_$maps --num-classes 2 --ignore-index 255 $flag "${checkpoints[@]}" \
      --json "$OUT/pennfudan_mp${m}_$input.json" | tee "$OUT/pennfudan_mp${m}_$input.txt"
    spnrefine benchmark refinement --images $D/coco128/images --masks runs/coco_person/masks --list $coco \
      --coarse runs/mediapipe$m/coco128_$maps --num-classes 2 --ignore-index 255 $flag "${checkpoints[@]}" \
      --json "$OUT/coco_mp${m}_$input.json" | tee "$OUT/coco_mp${m}_$input.txt"
  done
done
