#!/usr/bin/env bash
# From the project root: compare refiner checkpoints on ×8 low-resolution masks (ground truth area-downsampled,
# upsampled bilinearly; probabilities) of images from the *train* lists (every 4th coco128, every 6th
# weizmann_horses, every 3rd pennfudan train image: runs/*_tune.txt) — a tuning set for masks that are merely
# low-resolution; the val lists stay unscored. Usage: [FACTOR=4] bash scripts/tune_lowres.sh CHECKPOINT [CHECKPOINT ...]
set -euo pipefail
D=../shared/data
OUT=${OUT:-runs/tune_lowres}
mkdir -p "$OUT"
[ -f runs/coco_tune.txt ] || awk 'NR%4==0' $D/coco128/train.txt > runs/coco_tune.txt
[ -f runs/horses_tune.txt ] || awk 'NR%6==0' $D/weizmann_horses/train.txt > runs/horses_tune.txt
[ -f runs/pennfudan_tune.txt ] || awk 'NR%3==0' $D/pennfudan/train.txt > runs/pennfudan_tune.txt
checkpoints=()
for c in "$@"; do checkpoints+=(--checkpoint "$c"); done
spnrefine benchmark refinement --images $D/coco128/images --masks $D/coco128/masks --coarse lowres \
  --lowres-factor "${FACTOR:-8}" --list runs/coco_tune.txt --num-classes 201 --ignore-index 0 --present-classes \
  --no-crf "${checkpoints[@]}" --json "$OUT/coco128.json" | tee "$OUT/coco128.txt"
for set in weizmann_horses:horses pennfudan:pennfudan; do
  spnrefine benchmark refinement --images $D/${set%%:*}/images --masks $D/${set%%:*}/masks --coarse lowres \
    --lowres-factor "${FACTOR:-8}" --list runs/${set##*:}_tune.txt --num-classes 2 --ignore-index 255 --no-crf \
    "${checkpoints[@]}" --json "$OUT/${set##*:}.json" | tee "$OUT/${set##*:}.txt"
done
