#!/usr/bin/env bash
# From the project root, after scripts/prepare_training.sh: compare refiner checkpoints on CamVid train
# sequence 0006R0 (held back from every training run; never scored for the README). Six coarse inputs:
# ESPNet on mildly degraded copies (runs/degraded_tune/v0: its val level), on strongly degraded copies
# (runs/degraded_tune_strong/v0: its level on unseen sequences), ESPNet's own outputs (runs/espnet), the same averaged
# over test-time augmentation (runs/espnet_tta_tune), an ESPNet that never saw 0006R0 (runs/unseen_tune, from
# scripts/prepare_unseen.sh), ground truth at ×8 low resolution. Not in the default set: "blocks" (the 51 frames of
# 0006R0's blocks by an ESPNet fine-tuned without them, runs/blocks_tune from scripts/prepare_blocks.sh) and "noisy"
# (ESPNet with noise in its weights, runs/noisy_tune/v0: python scripts/noisy_backbone_coarse.py --images
# ../shared/data/camvid/images --list runs/camvid_tune.txt --out runs/noisy_tune --copies 1) and "camera" (the
# frames as another camera would take them, ESPNet and the refiner both given the shifted image: python
# scripts/camera_shift_copies.py --images ../shared/data/camvid/images --list runs/camvid_tune.txt --out
# runs/camera_tune).
# Usage: bash scripts/tune_refiners.sh CHECKPOINT [CHECKPOINT ...]
# (PRECISIONS="float32 bfloat16" runs each checkpoint's guidance in both number formats, side by side;
# INPUTS="unseen espnet" runs only those inputs; UPSCALE=1.25 adds each checkpoint with refine --upscale 1.25;
# UNGUARDED=1 adds each checkpoint with refine --no-thin-guard; THEN_CRF=auto, always or "auto always" adds each
# checkpoint followed by dense CRF, refine --then-crf.)
set -euo pipefail
D=../shared/data
OUT=${OUT:-runs/tune}
mkdir -p "$OUT"
checkpoints=()
for c in "$@"; do checkpoints+=(--checkpoint "$c"); done
for p in ${PRECISIONS:-auto}; do checkpoints+=(--precision "$p"); done
for f in ${UPSCALE:-}; do checkpoints+=(--upscale "$f"); done
if [ -n "${UNGUARDED:-}" ]; then checkpoints+=(--without-thin-guard); fi
for mode in ${THEN_CRF:-}; do checkpoints+=(--then-crf "$mode"); done
common=(--masks $D/camvid/masks --num-classes 11 --ignore-index 11 --class-names camvid --no-crf "${checkpoints[@]}")
declare -A inputs=([degraded]=runs/degraded_tune/v0 [degraded_strong]=runs/degraded_tune_strong/v0 [espnet]=runs/espnet
                   [tta]=runs/espnet_tta_tune [unseen]=runs/unseen_tune [lowres]=lowres [blocks]=runs/blocks_tune
                   [noisy]=runs/noisy_tune/v0 [camera]=runs/camera_tune/maps)
declare -A lists=([blocks]=runs/blocks_tune.txt)  # every other input: all 101 images of 0006R0
declare -A image_dirs=([camera]=runs/camera_tune/images)  # every other input: the images as they are
for name in ${INPUTS:-degraded degraded_strong espnet tta unseen lowres}; do
  coarse=${inputs[$name]:?"unknown input $name (one of ${!inputs[*]})"}
  ${SPNREFINE:-spnrefine} benchmark refinement --images "${image_dirs[$name]:-$D/camvid/images}" "${common[@]}" --list "${lists[$name]:-runs/camvid_tune.txt}" --coarse "$coarse" --json "$OUT/$name.json" \
    | tee "$OUT/$name.txt"
done
