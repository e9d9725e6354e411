#!/usr/bin/env bash
# From the project root: the CamVid val split lists and ESPNet's coarse probabilities the refiners train on.
set -euo pipefail
mkdir -p runs
head -n 45 ../shared/data/camvid/val.txt > runs/val_train.txt     # refiner training (real coarse masks)
sed -n 46,50p ../shared/data/camvid/val.txt > runs/val_gap.txt    # validation during training
tail -n 51 ../shared/data/camvid/val.txt > runs/val_heldout.txt   # held out: only for reported numbers
spnrefine segment ../shared/data/camvid/images --out runs/espnet --backbone espnet-camvid \
  --backbone-weights ../shared/weights/espnet_camvid.pth --no-refine --save-probs -q
