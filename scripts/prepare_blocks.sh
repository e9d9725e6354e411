#!/usr/bin/env bash
# From the project root, after scripts/prepare_training.sh: ESPNet's errors on frames seconds away from its training
# frames, as on CamVid val (whose frames lie among 0016E5's training frames, ~1 s from the nearest). The pretrained
# ESPNet is fine-tuned (scripts/train_backbone.py --init, 2000 steps, ~30 min each on this CPU, resumable) on CamVid
# train without blocks of 200 frame numbers (~6-7 s each, flanked by training frames) and run on the frames it was not
# fine-tuned on:
# - runs/espnet_blocks_tune → runs/blocks_tune: 51 frames of 0006R0 in 16 blocks (runs/blocks_0006R0.txt), an
#   optional input of scripts/tune_refiners.sh ("blocks"; list runs/blocks_tune.txt)
# - runs/espnet_fit_fold0, runs/espnet_fit_fold1 → runs/blocks_fit: every frame of runs/camvid_fit.txt (a training
#   source; frame number // 200 even → fold 0, odd → fold 1, each fold's network fine-tuned without its frames)
set -euo pipefail
D=../shared/data/camvid
printf '%s\n' 0006R0_f010 0006R0_f011 0006R0_f014 0006R0_f015 0006R0_f018 0006R0_f019 0006R0_f022 0006R0_f023 \
  0006R0_f026 0006R0_f027 0006R0_f030 0006R0_f031 0006R0_f034 0006R0_f035 0006R0_f038 0006R0_f039 > runs/blocks_0006R0.txt
grep -E "^($(paste -sd'|' runs/blocks_0006R0.txt))" $D/train.txt | sort > runs/blocks_tune.txt
python - <<'PY'
from pathlib import Path
names = Path("runs/camvid_fit.txt").read_text().split()
for fold in (0, 1):
    held = [n for n in names if int(n.split("_")[1].split(".")[0]) // 200 % 2 == fold]
    Path(f"runs/fit_fold{fold}.txt").write_text("".join(n + "\n" for n in held))
PY
fine_tune() {  # OUT, file of held-out names (prefixes); the fold logs in models/runs evaluated every 500 steps
  python scripts/train_backbone.py --out "$1" --exclude $(cat "$2") --val-sequence $(cat "$2") \
    --init ../shared/weights/espnet_camvid.pth --steps 2000 --eval-every 250
}
segment_with() {  # fine-tuned run, list, output folder
  spnrefine segment $D/images --list "$2" --out "$3" --backbone espnet-camvid \
    --backbone-weights "$1/espnet.pth" --no-refine --save-probs -q
}
fine_tune runs/espnet_blocks_tune runs/blocks_0006R0.txt
segment_with runs/espnet_blocks_tune runs/blocks_tune.txt runs/blocks_tune
for fold in 0 1; do
  fine_tune runs/espnet_fit_fold$fold runs/fit_fold$fold.txt
  segment_with runs/espnet_fit_fold$fold runs/fit_fold$fold.txt runs/blocks_fit
done
