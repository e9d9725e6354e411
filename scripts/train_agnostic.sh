#!/usr/bin/env bash
# From the project root, after scripts/prepare_training.sh: trains models/spn_refiner_agnostic.pt in two stages.
# Training data: CamVid train without sequence 0006R0 (held back for validation) and without the 0016E5
# frames within ±300 of the val frames; coco128, weizmann_horses and pennfudan train lists. No val image.
# Stage 1: 3000 steps, plain NLL. Stage 2: 1200 steps from stage 1 with class-balanced NLL (small and thin
# objects count more), lr 1e-3. Stage 3: 1500 steps from stage 2 with low-resolution masks added to the mix
# (every training list again, coarse = ground truth at 1/3–1/16 resolution, upsampled bilinearly), so that
# merely blurred masks are sharpened, not smoothed further. Each stage resumes from its last.pt when rerun.
set -euo pipefail
D=../shared/data
SPN=${SPNREFINE:-spnrefine}
sources=(
  --images $D/camvid/images --masks $D/camvid/masks --coarse runs/degraded/v0 --list runs/camvid_fit.txt --label-space 12:11
  --images $D/camvid/images --masks $D/camvid/masks --coarse runs/degraded/v1 --list runs/camvid_fit.txt --label-space 12:11
  --images $D/camvid/images --masks $D/camvid/masks --coarse runs/degraded/v2 --list runs/camvid_fit.txt --label-space 12:11
  --images $D/camvid/images --masks $D/camvid/masks --coarse synth --list runs/camvid_fit.txt --label-space 12:11
  --images $D/coco128/images --masks $D/coco128/masks --coarse synth --list $D/coco128/train.txt --label-space present:0
  --images $D/weizmann_horses/images --masks $D/weizmann_horses/masks --coarse synth --list $D/weizmann_horses/train.txt --label-space 2
  --images $D/pennfudan/images --masks $D/pennfudan/masks --coarse synth --list $D/pennfudan/train.txt --label-space 2
  --repeat 1 --repeat 1 --repeat 1 --repeat 1 --repeat 2 --repeat 1 --repeat 2
  --val-images $D/camvid/images --val-masks $D/camvid/masks --val-coarse runs/degraded_tune/v0
  --val-list runs/camvid_tune_small.txt --num-classes 12 --ignore-index 11
  --eval-every 250 --hard-fraction 0.3 --pixel-blend -q
)
lowres=(
  --images $D/camvid/images --masks $D/camvid/masks --coarse lowres --list runs/camvid_fit.txt --label-space 12:11
  --images $D/coco128/images --masks $D/coco128/masks --coarse lowres --list $D/coco128/train.txt --label-space present:0
  --images $D/weizmann_horses/images --masks $D/weizmann_horses/masks --coarse lowres --list $D/weizmann_horses/train.txt --label-space 2
  --images $D/pennfudan/images --masks $D/pennfudan/masks --coarse lowres --list $D/pennfudan/train.txt --label-space 2
  --repeat 1 --repeat 1 --repeat 1 --repeat 1
)
$SPN train --out runs/refiner_agnostic "${sources[@]}" --steps 3000
$SPN train --out runs/refiner_agnostic_balanced "${sources[@]}" --steps 1200 --lr 1e-3 --class-balance 0.5 \
  --init runs/refiner_agnostic/refiner.pt
$SPN train --out runs/refiner_agnostic_lowres "${sources[@]}" "${lowres[@]}" --steps 1500 --lr 1e-3 \
  --class-balance 0.5 --init runs/refiner_agnostic_balanced/refiner.pt
