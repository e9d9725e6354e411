"""Plot a training run's loss and validation mIoU (the model card's curves).

    python scripts/plot_training.py RUN/log.jsonl OUT.png [--title TEXT]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    records = [json.loads(line) for line in args.log.read_text().splitlines() if line.strip()]
    steps = np.array([r["step"] for r in records if "loss" in r])
    loss = np.array([r["loss"] for r in records if "loss" in r])
    val = [r for r in records if "val_miou" in r]
    window = max(1, len(loss) // 50)
    smooth = np.convolve(loss, np.ones(window) / window, mode="valid")
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(steps, loss, color="0.8", linewidth=0.5, label="per step")
    left.plot(steps[window - 1 :], smooth, color="C0", label=f"mean of {window} steps")
    left.set(xlabel="step", ylabel="training loss (NLL)", title="loss", ylim=(0, np.percentile(loss, 99)))
    left.legend()
    right.plot([r["step"] for r in val], [r["val_miou"] for r in val], "o-", color="C1", label="refined")
    right.plot([r["step"] for r in val], [r["val_coarse_miou"] for r in val], "--", color="0.4", label="coarse input")
    right.set(xlabel="step", ylabel="mIoU (%)", title="validation (held-back training sequence)")
    right.legend()
    figure.suptitle(args.title)
    figure.tight_layout()
    figure.savefig(args.out, dpi=110)


if __name__ == "__main__":
    main()
