#!/usr/bin/env bash
# From the project root, after scripts/prepare_camvid.sh: trains models/spn_refiner_camvid.pt.
spnrefine train --out runs/refiner_camvid \
  --images ../shared/data/camvid/images --masks ../shared/data/camvid/masks --coarse runs/espnet \
  --list runs/val_train.txt --repeat 8 \
  --images ../shared/data/camvid/images --masks ../shared/data/camvid/masks --coarse synth \
  --list ../shared/data/camvid/train.txt --repeat 1 \
  --val-images ../shared/data/camvid/images --val-masks ../shared/data/camvid/masks \
  --val-coarse runs/espnet --val-list runs/val_gap.txt \
  --steps 800 --eval-every 200 --head-classes 12 -q
