#!/usr/bin/env bash
# From the project root: the CamVid list files and the coarse probabilities the refiner trains on (runs/).
# - runs/camvid_fit.txt: CamVid train minus sequence 0006R0 and minus the 0016E5 frames within ±300 of val
# - runs/camvid_tune.txt: sequence 0006R0 (validation during training; runs/camvid_tune_small.txt = every 4th)
# - runs/degraded/v{0,1,2}: ESPNet on three degraded copies of each fit image (scripts/degraded_coarse.py)
# - runs/degraded_tune/v0, runs/degraded_tune_strong/v0: ESPNet on a mildly / strongly degraded copy of each 0006R0 image
# - runs/espnet: ESPNet on every CamVid image, undegraded (the coarse input of the val benchmark)
# - runs/espnet_tta: ESPNet with test-time augmentation (segment --tta) on the CamVid val images
# - runs/espnet_tta_tune: the same on 0006R0 (a tuning input: maps soft because averaged, not because wrong)
set -euo pipefail
mkdir -p runs
python - <<'PY'
from pathlib import Path
root = Path("../shared/data/camvid")
train = root.joinpath("train.txt").read_text().split()
frames = [int(n[7:12]) for n in root.joinpath("val.txt").read_text().split() if n.startswith("0016E5")]
near = {n for n in train if n.startswith("0016E5") and min(frames) - 300 <= int(n[7:12]) <= max(frames) + 300}
tune = [n for n in train if n.startswith("0006R0")]
fit = [n for n in train if n not in near and n not in tune]
Path("runs/camvid_fit.txt").write_text("\n".join(fit) + "\n")
Path("runs/camvid_tune.txt").write_text("\n".join(tune) + "\n")
Path("runs/camvid_tune_small.txt").write_text("\n".join(tune[::4]) + "\n")
PY
python scripts/degraded_coarse.py --images ../shared/data/camvid/images --list runs/camvid_fit.txt --out runs/degraded --variants 3
python scripts/degraded_coarse.py --images ../shared/data/camvid/images --list runs/camvid_tune.txt --out runs/degraded_tune --variants 1
python scripts/degraded_coarse.py --images ../shared/data/camvid/images --list runs/camvid_tune.txt --out runs/degraded_tune_strong \
  --variants 1 --strength strong
spnrefine segment ../shared/data/camvid/images --out runs/espnet --backbone espnet-camvid \
  --backbone-weights ../shared/weights/espnet_camvid.pth --no-refine --save-probs -q
spnrefine segment ../shared/data/camvid/images --out runs/espnet_tta --list ../shared/data/camvid/val.txt \
  --backbone espnet-camvid --backbone-weights ../shared/weights/espnet_camvid.pth --no-refine --tta --save-probs -q
spnrefine segment ../shared/data/camvid/images --out runs/espnet_tta_tune --list runs/camvid_tune.txt \
  --backbone espnet-camvid --backbone-weights ../shared/weights/espnet_camvid.pth --no-refine --tta --save-probs -q
