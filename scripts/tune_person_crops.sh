#!/usr/bin/env bash
# From the project root, after scripts/person_crops.py and MediaPipe's maps of its crops (see there): refiner
# checkpoints on a third-party segmenter's close-up person maps (MediaPipe selfie models 0 and 1), probabilities
# and hard labels, with dense CRF and the guided filter. SPLIT=train (default; a tuning set: these images were
# in the refiners' training with synthesized masks) or SPLIT=val (score once).
# THEN_CRF=auto, always or "auto always": also each refiner followed by dense CRF (refine --then-crf).
# Usage: OUT=runs/X [SPLIT=val] bash scripts/tune_person_crops.sh CHECKPOINT [CHECKPOINT ...]
set -euo pipefail
OUT=${OUT:-runs/tune_person_crops}
SPLIT=${SPLIT:-train}
mkdir -p "$OUT"
checkpoints=()
for c in "$@"; do checkpoints+=(--checkpoint "$c"); done
for p in ${PRECISIONS:-auto}; do checkpoints+=(--precision "$p"); done  # "float32 bfloat16": both, side by side
if [ -n "${UNGUARDED:-}" ]; then checkpoints+=(--without-thin-guard); fi  # each also with refine --no-thin-guard
for mode in ${THEN_CRF:-}; do checkpoints+=(--then-crf "$mode"); done
for dataset in pennfudan coco; do
  F=runs/person_crops/${dataset}_$SPLIT
  for m in 0 1; do
    for input in probs hard; do
      flag=--no-hard; [ $input = hard ] && flag=--hard
      spnrefine benchmark refinement --images $F/images --masks $F/masks --list $F/list.txt --coarse $F/mp$m \
        --num-classes 2 --ignore-index 255 $flag "${checkpoints[@]}" --json "$OUT/${dataset}_mp${m}_$input.json" \
        | tee "$OUT/${dataset}_mp${m}_$input.txt"
    done
  done
done
