"""Boundary offsets after a refiner (SegFix-like): a network predicts, from the image (and optionally the coarse map),
a band along segment boundaries and for each band pixel the direction toward the inside of its own segment; band
pixels then take the refined label found k px that way. A tuning tool (model card, session 30): 0006R0 only.

    python scripts/boundary_offsets.py train --out runs/s30/offsets [--coarse-features]
    python scripts/boundary_offsets.py score runs/s30/offsets/net.pt --list runs/camvid_tune.txt \
        --input mild=runs/degraded_tune/v0 --input own=runs/espnet --input blocks=runs/blocks_tune:runs/blocks_tune.txt

Targets come from the ground truth: a pixel is in the band if it lies within BAND px of its own class region's
edge (void excluded), its direction is the gradient of that distance, rounded to one of 8 neighbours. Training
uses CamVid's fit list (runs/camvid_fit.txt: no 0006R0 frame, no 0016E5 frame within ±300 of val) and its flips;
with ``--coarse-features`` the network also sees the 4 class-agnostic features of ESPNet's maps of the degraded
copies (runs/degraded/v0..v2), as the refiners' guidance does. ``score`` prints, per input, the mIoU change against
the refiner alone for k = 1, 2, 3 (band probability > 0.5), k = 2 at > 0.7, with the ground truth's own band and
directions (the mechanism's ceiling, k = 1 and 2), and with one of the two from the truth and the other learned (k = 1),
each with the class that loses most.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from spnrefine.evaluation.metrics import SegmentationMetrics
from spnrefine.io.images import read_image
from spnrefine.io.masks import read_label_png
from spnrefine.labels import CAMVID
from spnrefine.refiner import Refiner
from spnrefine.refiner.network import IMAGE_MEAN, IMAGE_STD, MASK_FEATURES, Guidance, mask_features

from camvid_tuning import named_inputs, tuning_parser

CLASSES = 11  # scored; 11 is void
BAND = 2  # px from a region's edge (the edge pixel itself is at 1)
DIRECTIONS = np.array([(0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1), (-1, 0), (-1, 1)])  # (dy, dx) by angle
CROP, BATCH = 256, 8
CAMVID_DATA = Path("../shared/data/camvid")


def band_and_directions(truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(H, W) truth → (H, W) band (bool) and (H, W) direction index 0..7 toward the inside of each pixel's own
    region (−1 on void)."""
    distance = np.zeros(truth.shape, np.float32)
    gy, gx = np.zeros_like(distance), np.zeros_like(distance)
    for c in range(CLASSES):
        inside = truth == c
        if inside.any():
            d = ndimage.distance_transform_edt(inside)
            dy, dx = np.gradient(d)
            distance[inside], gy[inside], gx[inside] = d[inside], dy[inside], dx[inside]
    index = np.round(np.arctan2(gy, gx) / (np.pi / 4)).astype(np.int64) % 8
    index[truth == CLASSES] = -1
    return (distance <= BAND) & (truth != CLASSES), index


def moved(labels: np.ndarray, band: np.ndarray, index: np.ndarray, k: int) -> np.ndarray:
    """(H, W) labels with each band pixel's label taken from k px along its direction (clipped to the image)."""
    h, w = labels.shape
    ys, xs = np.nonzero(band & (index >= 0))
    step = DIRECTIONS[index[ys, xs]] * k
    out = labels.copy()
    out[ys, xs] = labels[np.clip(ys + step[:, 0], 0, h - 1), np.clip(xs + step[:, 1], 0, w - 1)]
    return out


def network_input(image: torch.Tensor, coarse: torch.Tensor | None) -> torch.Tensor:
    """(N, 3, H, W) image in [0, 1] and (N, K, H, W) coarse probabilities or None → (N, 7, H, W): the normalized
    image and the coarse map's mask features (zeros without one)."""
    mean = image.new_tensor(IMAGE_MEAN).view(1, 3, 1, 1)
    std = image.new_tensor(IMAGE_STD).view(1, 3, 1, 1)
    n, _, h, w = image.shape
    features = mask_features(coarse) if coarse is not None else image.new_zeros(n, MASK_FEATURES, h, w)
    return torch.cat([(image - mean) / std, features], 1).contiguous(memory_format=torch.channels_last)


def offset_network() -> Guidance:
    """The refiners' guidance U-Net (width 24) with 9 outputs: a band logit and 8 direction logits."""
    return Guidance(24, 9).to(memory_format=torch.channels_last)


def training_examples(coarse_features: bool) -> list[tuple]:
    """Every fit image and its mirror image: (image (H, W, 3) uint8, band, directions, [coarse maps (K, H, W)])."""
    examples = []
    for name in Path("runs/camvid_fit.txt").read_text().split():
        image, truth = read_image(CAMVID_DATA / "images" / name), read_label_png(CAMVID_DATA / "masks" / name)
        maps = [np.load(f"runs/degraded/{v}/{Path(name).stem}.npy") for v in ("v0", "v1", "v2")] if coarse_features \
            else []
        for flip in (False, True):
            width = slice(None, None, -1 if flip else 1)  # the mirror image: the width axis reversed
            band, index = band_and_directions(np.ascontiguousarray(truth[:, width]))
            examples.append((np.ascontiguousarray(image[:, width]), band, index,
                             [np.ascontiguousarray(m[:, :, width]) for m in maps]))
    return examples


def train(out: Path, steps: int, coarse_features: bool) -> None:
    """Adam 1e-3, cosine schedule, 256 px crops, batch 8; band BCE + direction CE on band pixels. Resumable
    (out/last.pt every 200 steps); log out/log.jsonl; weights out/net.pt."""
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    examples = training_examples(coarse_features)
    net = offset_network()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    start = 0
    if (out / "last.pt").exists():
        state = torch.load(out / "last.pt")
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        start = state["step"]
    rng = np.random.default_rng(start)
    began = time.time()
    for step in range(start, steps):
        crops = []
        for j in rng.integers(len(examples), size=BATCH):
            image, band, index, maps = examples[j]
            y, x = rng.integers(image.shape[0] - CROP + 1), rng.integers(image.shape[1] - CROP + 1)
            window = (slice(y, y + CROP), slice(x, x + CROP))
            coarse = maps[rng.integers(len(maps))][(slice(None), *window)].astype(np.float32) if maps else None
            crops.append((image[window], band[window], index[window], coarse))
        image = torch.from_numpy(np.stack([c[0] for c in crops])).permute(0, 3, 1, 2).float() / 255
        band = torch.from_numpy(np.stack([c[1] for c in crops])).float()
        index = torch.from_numpy(np.stack([c[2] for c in crops]))
        coarse = torch.from_numpy(np.stack([c[3] for c in crops])) if coarse_features else None
        raw, _ = net(network_input(image, coarse))
        band_loss = F.binary_cross_entropy_with_logits(raw[:, 0], band)
        direction_loss = F.cross_entropy(raw[:, 1:], torch.where(band > 0, index, -1), ignore_index=-1)
        optimizer.zero_grad()
        (band_loss + direction_loss).backward()
        optimizer.step()
        schedule.step()
        if (step + 1) % 25 == 0:
            with open(out / "log.jsonl", "a") as log:
                log.write(json.dumps({"step": step + 1, "band": band_loss.item(), "direction": direction_loss.item(),
                                      "s_per_step": (time.time() - began) / 25}) + "\n")
            began = time.time()
        if (step + 1) % 200 == 0 or step + 1 == steps:
            torch.save({"net": net.state_dict(), "optimizer": optimizer.state_dict(),
                        "schedule": schedule.state_dict(), "step": step + 1}, out / "last.pt")
    torch.save({"net": net.state_dict(), "coarse_features": coarse_features}, out / "net.pt")


VARIANTS = {"k1": (1, 0.5), "k2": (2, 0.5), "k3": (3, 0.5), "k2 p>0.7": (2, 0.7)}  # k px, band probability above
ORACLES = {"oracle k1": (1, True, True), "oracle k2": (2, True, True),  # k px, band / directions from the truth
           "true band k1": (1, True, False), "true directions k1": (1, False, True)}


def score(net_file: Path, inputs: list[str], refiner_name: str, images: Path, masks: Path, names_file: Path) -> None:
    """Print per input the mIoU change against the refiner alone of each variant and of the ground-truth oracle."""
    saved = torch.load(net_file)
    net = offset_network()
    net.load_state_dict(saved["net"])
    net.eval()
    refiner = Refiner.load(refiner_name)
    for key, (folder, names) in named_inputs(inputs, names_file).items():
        metrics = {v: SegmentationMetrics(CLASSES, CLASSES, boundary=False)
                   for v in ["alone", *VARIANTS, *ORACLES]}
        for name in names:
            image, truth = read_image(images / name), read_label_png(masks / name)
            coarse = np.load(folder / f"{Path(name).stem}.npy").astype(np.float32)
            labels = np.asarray(refiner.refine(image, coarse)).argmax(0)
            with torch.no_grad():
                tensor = torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255
                raw, _ = net(network_input(tensor, torch.from_numpy(coarse)[None] if saved["coarse_features"]
                                           else None))
            band, index = torch.sigmoid(raw[0, 0]).numpy(), raw[0, 1:].argmax(0).numpy()
            metrics["alone"].update(labels, truth)
            for variant, (k, threshold) in VARIANTS.items():
                metrics[variant].update(moved(labels, band > threshold, index, k), truth)
            true_band, true_index = band_and_directions(truth)
            for variant, (k, band_from_truth, directions_from_truth) in ORACLES.items():
                metrics[variant].update(moved(labels, true_band if band_from_truth else band > 0.5,
                                              true_index if directions_from_truth else index, k), truth)
        summaries = {v: m.summary(CAMVID.class_names[:CLASSES]) for v, m in metrics.items()}
        alone = summaries.pop("alone")
        line = [f"{key:8s} alone {alone['miou']:.2f}"]
        for variant, summary in summaries.items():
            change = {c: summary["per_class_iou"][c] - alone["per_class_iou"][c] for c in alone["per_class_iou"]
                      if summary["per_class_iou"][c] is not None and alone["per_class_iou"][c] is not None}
            worst = min(change, key=change.get)
            line.append(f"{variant} {summary['miou'] - alone['miou']:+.2f} ({worst} {change[worst]:+.2f})")
        print(" | ".join(line), flush=True)


def main() -> None:
    torch.set_num_threads(2)
    if sys.argv[1:2] == ["train"]:
        parser = argparse.ArgumentParser(description="train the boundary-offset network")
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--steps", type=int, default=1500)
        parser.add_argument("--coarse-features", action="store_true")
        args = parser.parse_args(sys.argv[2:])
        train(args.out, args.steps, args.coarse_features)
        return
    parser = tuning_parser(__doc__)
    parser.add_argument("command", choices=["score"])
    parser.add_argument("net", type=Path)
    parser.add_argument("--input", action="append", required=True, help="NAME=FOLDER[:LIST] of .npy maps")
    parser.add_argument("--refiner", default="camvid", help="a shipped name or a checkpoint file")
    args = parser.parse_args()
    score(args.net, args.input, args.refiner, args.images, args.masks, args.list)


if __name__ == "__main__":
    main()
