#!/usr/bin/env bash
# From the project root, after scripts/prepare_training.sh: coarse probabilities with a network's real errors on
# CamVid sequences it never saw (cross-fitting). Two ESPNets are trained from scratch (scripts/train_backbone.py,
# resumable; about 95 + 30 minutes of this 2-core CPU one after the other):
# - runs/espnet_without_0006R0 → runs/unseen_tune: its outputs on 0006R0 (a tuning input of scripts/tune_refiners.sh)
# - runs/espnet_without_0016E5 → runs/unseen_fit: its outputs on the 0016E5 frames of runs/camvid_fit.txt (a training
#   source: runs/camvid_fit_0016E5.txt lists them; no val frame, none within ±300 of val)
set -euo pipefail
python scripts/train_backbone.py --out runs/espnet_without_0006R0 --exclude 0006R0 --val-sequence 0006R0 --steps 8000
python scripts/train_backbone.py --out runs/espnet_without_0016E5 --exclude 0016E5 --val-sequence 0016E5 --steps 2500
grep ^0016E5 runs/camvid_fit.txt > runs/camvid_fit_0016E5.txt
for named in 0006R0:runs/camvid_tune.txt:runs/unseen_tune 0016E5:runs/camvid_fit_0016E5.txt:runs/unseen_fit; do
  IFS=: read -r sequence list out <<< "$named"
  spnrefine segment ../shared/data/camvid/images --list "$list" --out "$out" --backbone espnet-camvid \
    --backbone-weights "runs/espnet_without_$sequence/espnet.pth" --no-refine --save-probs -q
done
