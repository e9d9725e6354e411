# Sourced by scripts/train_agnostic*.sh: the training data of the agnostic refiner (no val image).
# CamVid train without sequence 0006R0 (held back for validation) and without the 0016E5 frames within ±300 of
# the val frames; coco128, weizmann_horses and pennfudan train lists.
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
# synthesized_sources KIND: every training list again, coarse inputs synthesized as KIND (train --coarse KIND), into
# the array `synthesized` (their --repeat flags are the caller's)
synthesized_sources() {
  synthesized=(
    --images $D/camvid/images --masks $D/camvid/masks --coarse "$1" --list runs/camvid_fit.txt --label-space 12:11
    --images $D/coco128/images --masks $D/coco128/masks --coarse "$1" --list $D/coco128/train.txt --label-space present:0
    --images $D/weizmann_horses/images --masks $D/weizmann_horses/masks --coarse "$1" --list $D/weizmann_horses/train.txt --label-space 2
    --images $D/pennfudan/images --masks $D/pennfudan/masks --coarse "$1" --list $D/pennfudan/train.txt --label-space 2
  )
}
