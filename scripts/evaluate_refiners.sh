#!/usr/bin/env bash
# From the project root, after scripts/prepare_training.sh: the README's quality tables, one run per dataset.
# Every scored image is from a val list; none was used to train, stop or tune anything.
# Usage: bash scripts/evaluate_refiners.sh [CHECKPOINT ...]   (default: the shipped agnostic refiner, and on
# CamVid also the shipped camvid refiner, which takes CamVid's label set only). PRECISIONS="float32 bfloat16":
# every refiner's guidance in both number formats, side by side (default: auto). THEN_CRF=auto, always or
# "auto always": also each refiner followed by dense CRF (refine --then-crf). MIRROR=1: also each refiner with
# refine --mirror; UPSCALE=1.25: also each refiner with refine --upscale 1.25; UNGUARDED=1: also each refiner with
# refine --no-thin-guard
set -euo pipefail
D=../shared/data
OUT=${OUT:-runs/eval}
mkdir -p "$OUT"
checkpoints=()
for c in "${@:-agnostic}"; do checkpoints+=(--checkpoint "$c"); done
camvid_checkpoints=("${checkpoints[@]}")
[ $# -eq 0 ] && camvid_checkpoints+=(--checkpoint camvid)
for p in ${PRECISIONS:-auto}; do checkpoints+=(--precision "$p"); camvid_checkpoints+=(--precision "$p"); done
for mode in ${THEN_CRF:-}; do checkpoints+=(--then-crf "$mode"); camvid_checkpoints+=(--then-crf "$mode"); done
if [ -n "${MIRROR:-}" ]; then checkpoints+=(--mirror); camvid_checkpoints+=(--mirror); fi
for f in ${UPSCALE:-}; do checkpoints+=(--upscale "$f"); camvid_checkpoints+=(--upscale "$f"); done
if [ -n "${UNGUARDED:-}" ]; then checkpoints+=(--without-thin-guard); camvid_checkpoints+=(--without-thin-guard); fi
for hard in no-hard hard; do
  # CamVid val (101 images, sequence 0016E5): ESPNet's real probabilities as the coarse input
  spnrefine benchmark refinement --images $D/camvid/images --masks $D/camvid/masks --coarse runs/espnet \
    --list $D/camvid/val.txt --num-classes 11 --ignore-index 11 --class-names camvid --"$hard" \
    "${camvid_checkpoints[@]}" --json "$OUT/camvid_$hard.json" | tee "$OUT/camvid_$hard.txt"
  # other val lists: coarse masks synthesized from the ground truth (x8 low resolution, bilinear up)
  spnrefine benchmark refinement --images $D/coco128/images --masks $D/coco128/masks --coarse lowres \
    --list $D/coco128/val.txt --num-classes 201 --ignore-index 0 --present-classes --"$hard" \
    "${checkpoints[@]}" --json "$OUT/coco128_$hard.json" | tee "$OUT/coco128_$hard.txt"
  for set in weizmann_horses pennfudan; do
    spnrefine benchmark refinement --images $D/$set/images --masks $D/$set/masks --coarse lowres \
      --list $D/$set/val.txt --num-classes 2 --ignore-index 255 --"$hard" \
      "${checkpoints[@]}" --json "$OUT/${set}_$hard.json" | tee "$OUT/${set}_$hard.txt"
  done
done
# CamVid val with test-time augmentation of ESPNet (segment --tta) as the coarse input
spnrefine benchmark refinement --images $D/camvid/images --masks $D/camvid/masks --coarse runs/espnet_tta \
  --list $D/camvid/val.txt --num-classes 11 --ignore-index 11 --class-names camvid --no-hard \
  "${camvid_checkpoints[@]}" --json "$OUT/camvid_tta.json" | tee "$OUT/camvid_tta.txt"
# blocky label masks (x8, nearest neighbour down and up, as label maps are resized): every val list, CamVid too
# (its ground truth made blocky, both refiners)
spnrefine benchmark refinement --images $D/camvid/images --masks $D/camvid/masks --coarse blocky \
  --list $D/camvid/val.txt --num-classes 11 --ignore-index 11 --class-names camvid \
  "${camvid_checkpoints[@]}" --json "$OUT/camvid_blocky.json" | tee "$OUT/camvid_blocky.txt"
spnrefine benchmark refinement --images $D/coco128/images --masks $D/coco128/masks --coarse blocky \
  --list $D/coco128/val.txt --num-classes 201 --ignore-index 0 --present-classes \
  "${checkpoints[@]}" --json "$OUT/coco128_blocky.json" | tee "$OUT/coco128_blocky.txt"
for set in weizmann_horses pennfudan; do
  spnrefine benchmark refinement --images $D/$set/images --masks $D/$set/masks --coarse blocky \
    --list $D/$set/val.txt --num-classes 2 --ignore-index 255 \
    "${checkpoints[@]}" --json "$OUT/${set}_blocky.json" | tee "$OUT/${set}_blocky.txt"
done
