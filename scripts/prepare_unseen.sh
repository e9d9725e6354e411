#!/usr/bin/env bash
# From the project root, after scripts/prepare_training.sh: coarse probabilities with a network's real errors on
# CamVid sequences it never saw (cross-fitting), from two ESPNets trained from scratch (scripts/train_backbone.py):
# - without 0006R0 (8000 steps) → runs/unseen_tune: its outputs on 0006R0 (a tuning input of scripts/tune_refiners.sh)
# - without 0016E5 (2500 steps) → runs/unseen_fit: its outputs on the 0016E5 frames of runs/camvid_fit.txt (a training
#   source: runs/camvid_fit_0016E5.txt lists them; no val frame, none within ±300 of val)
# A network committed as models/runs/espnet_without_SEQUENCE.pth (both, session 32) is used as it is: their outputs
# take two minutes. Otherwise, or with RETRAIN=1, it is trained in runs/ (resumable; without 0006R0 ~75 minutes of this
# 2-core CPU, without 0016E5 ~25).
set -euo pipefail
grep ^0016E5 runs/camvid_fit.txt > runs/camvid_fit_0016E5.txt
for named in 0006R0:8000:runs/camvid_tune.txt:runs/unseen_tune 0016E5:2500:runs/camvid_fit_0016E5.txt:runs/unseen_fit; do
  IFS=: read -r sequence steps list out <<< "$named"
  weights=models/runs/espnet_without_$sequence.pth
  if [ -n "${RETRAIN:-}" ] || [ ! -f "$weights" ]; then
    python scripts/train_backbone.py --out "runs/espnet_without_$sequence" --exclude "$sequence" \
      --val-sequence "$sequence" --steps "$steps"
    weights=runs/espnet_without_$sequence/espnet.pth
  fi
  spnrefine segment ../shared/data/camvid/images --list "$list" --out "$out" --backbone espnet-camvid \
    --backbone-weights "$weights" --no-refine --save-probs -q
done
