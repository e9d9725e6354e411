"""Train ESPNet (p=2, q=8) on CamVid without some sequences, so that its outputs on those sequences carry a
network's real errors on images it never saw (a tuning input for the refiners).

    python scripts/train_backbone.py --out runs/espnet_without_0006R0 --exclude 0006R0 --val-sequence 0006R0

From scratch by default. ``--init WEIGHTS`` fine-tunes pretrained weights instead: with the default schedule the
pretrained ESPNet loses most of what it memorized of the left-out frames (on 0006R0's blocks 83.6 mIoU before, 60.6
after 250 steps, 68.7 after 2000; ``scripts/prepare_blocks.sh``). ``--mix A`` first moves them a share A of the way to
a fresh initialization (every parameter and BatchNorm statistic: (1 − A)·pretrained + A·fresh); with ESPNet's
BatchNorm even A = 0.02 loses nearly everything (model card).

Training images: ../shared/data/camvid/train.txt minus every name that starts with an ``--exclude`` prefix (a
sequence, or blocks of frames: ``--exclude 0006R0_f010 0006R0_f011`` leaves out frames 01000–01199).
Random scale 0.75–1.25, 256×256 crops, horizontal flips; class-weighted cross entropy (ENet's 1 / ln(1.02 + share)),
void (11) ignored; Adam, poly learning rate. Resumable: rerun the same command and it continues from
``OUT/last.pt``. Writes ``OUT/log.jsonl`` (loss; mIoU on every 4th image named by the ``--val-sequence`` prefixes) and
``OUT/espnet.pth``, a plain state dict for ``spnrefine segment --backbone espnet-camvid --backbone-weights``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from spnrefine.backbones.espnet import EspNet
from spnrefine.backbones.inference import to_input
from spnrefine.backbones.registry import ESPNET_CAMVID
from spnrefine.evaluation.metrics import SegmentationMetrics
from spnrefine.io.checkpoints import load_weights, save_weights
from spnrefine.io.images import read_image
from spnrefine.io.masks import read_label_png

CLASSES, VOID = 11, 11
CROP = 256


def load_split(data: Path, names: list[str]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Names → normalized images (3, H, W) float32 and labels (H, W) int64."""
    images, labels = [], []
    for name in names:
        rgb = read_image(data / "images" / name)
        batch, _ = to_input([rgb], ESPNET_CAMVID.preprocessing)
        images.append(batch[0, :, :rgb.shape[0], :rgb.shape[1]].contiguous())
        labels.append(torch.from_numpy(read_label_png(data / "masks" / name).astype(np.int64)))
    return images, labels


def class_weights(labels: list[torch.Tensor]) -> torch.Tensor:
    """ENet's weights 1 / ln(1.02 + share) over the 11 classes; void gets 0. → (12,)"""
    counts = torch.stack([torch.bincount(y[y < CLASSES], minlength=CLASSES) for y in labels]).sum(0).double()
    weights = 1 / torch.log(1.02 + counts / counts.sum())
    return torch.cat([weights, torch.zeros(1, dtype=torch.float64)]).float()


def random_crop(image: torch.Tensor, label: torch.Tensor, generator: torch.Generator):
    """(3, H, W), (H, W) → a randomly scaled, flipped CROP×CROP pair (void where the scaled image is smaller)."""
    scale = 0.75 + 0.5 * torch.rand(1, generator=generator).item()
    height, width = (round(s * scale) for s in image.shape[1:])
    image = F.interpolate(image[None], size=(height, width), mode="bilinear", align_corners=False)[0]
    label = F.interpolate(label[None, None].float(), size=(height, width), mode="nearest")[0, 0].long()
    pad_h, pad_w = max(0, CROP - height), max(0, CROP - width)
    if pad_h or pad_w:
        image = F.pad(image, (0, pad_w, 0, pad_h))
        label = F.pad(label, (0, pad_w, 0, pad_h), value=VOID)
    top = torch.randint(image.shape[1] - CROP + 1, (1,), generator=generator).item()
    left = torch.randint(image.shape[2] - CROP + 1, (1,), generator=generator).item()
    image, label = image[:, top:top + CROP, left:left + CROP], label[top:top + CROP, left:left + CROP]
    if torch.rand(1, generator=generator).item() < 0.5:
        image, label = image.flip(-1), label.flip(-1)
    return image, label


@torch.no_grad()
def held_out_miou(model: EspNet, images: list[torch.Tensor], labels: list[torch.Tensor]) -> float:
    """mIoU (11 classes, void ignored, a void prediction wrong) of whole 480×360 images (multiples of 8)."""
    model.eval()
    metrics = SegmentationMetrics(CLASSES, VOID, boundary=False)
    for image, label in zip(images, labels):
        metrics.update(model(image[None]).argmax(1)[0].numpy(), label.numpy())
    model.train()
    return metrics.summary()["miou"]


def mixed_weights(pretrained: dict, fresh: dict, mix: float) -> dict:
    """(1 − mix)·pretrained + mix·fresh for every floating-point entry; counters kept from ``pretrained``."""
    if not 0 <= mix <= 1:
        raise SystemExit(f"--mix must lie in [0, 1], got {mix}")
    return {name: torch.lerp(value, fresh[name], mix) if value.is_floating_point() else value
            for name, value in pretrained.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/camvid"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--exclude", nargs="+", required=True, help="name prefixes (sequences) left out of training")
    parser.add_argument("--val-sequence", nargs="+", required=True,
                        help="name prefixes of the images scored during training (every 4th of them)")
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--save-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", type=Path, help="pretrained ESPNet state dict to start from (default: scratch)")
    parser.add_argument("--mix", type=float, default=0.0,
                        help="with --init: share of the way from the pretrained weights to a fresh initialization")
    parser.add_argument("--threads", type=int, default=2, help="1 when two trainings share this 2-core machine")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    all_names = (args.data / "train.txt").read_text().split()
    train_names = [n for n in all_names if not n.startswith(tuple(args.exclude))]
    held_names = sorted(n for n in all_names if n.startswith(tuple(args.val_sequence)))[::4]
    if not train_names or not held_names:
        raise SystemExit(f"{args.data / 'train.txt'}: no training images left, "
                         f"or none of {', '.join(args.val_sequence)}")
    images, labels = load_split(args.data, train_names)
    held_images, held_labels = load_split(args.data, held_names)
    weights = class_weights(labels)
    torch.manual_seed(args.seed)  # the initial weights
    model = EspNet(classes=12, p=2, q=8)
    if args.init is not None:
        model.load_state_dict(mixed_weights(load_weights(args.init), model.state_dict(), args.mix))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=2e-4)
    generator = torch.Generator().manual_seed(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    state_path, step, log_mode = args.out / "last.pt", 0, "w"  # a fresh start drops an earlier log
    if state_path.is_file():
        state = torch.load(state_path, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        step = state["step"]
        log_path = args.out / "log.jsonl"  # records after the saved step are redone
        kept = [line for line in log_path.read_text().splitlines() if json.loads(line)["step"] <= step]
        log_path.write_text("".join(line + "\n" for line in kept))
        print(f"resumed at step {step}")
        log_mode = "a"
    else:
        print(f"{len(train_names)} training images (without {', '.join(args.exclude)}), "
              f"{len(held_names)} held-out images of {', '.join(args.val_sequence)}")
    model.train()
    with (args.out / "log.jsonl").open(log_mode) as log:
        while step < args.steps:
            started = time.perf_counter()
            for group in optimizer.param_groups:
                group["lr"] = args.lr * (1 - step / args.steps) ** 0.9
            picks = torch.randint(len(images), (args.batch_size,), generator=generator).tolist()
            crops = [random_crop(images[i], labels[i], generator) for i in picks]
            batch, target = torch.stack([c[0] for c in crops]), torch.stack([c[1] for c in crops])
            loss = F.cross_entropy(model(batch), target, weight=weights, ignore_index=VOID)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            record = {"step": step, "loss": round(loss.item(), 5), "seconds": round(time.perf_counter() - started, 3)}
            if step % args.eval_every == 0 or step == args.steps:
                record["held_out_miou"] = round(held_out_miou(model, held_images, held_labels), 2)
                save_weights(args.out / "espnet.pth", model.state_dict())
            log.write(json.dumps(record) + "\n")
            log.flush()
            if step % args.save_every == 0 or step == args.steps:
                save_weights(state_path, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                          "generator": generator.get_state(), "step": step})


if __name__ == "__main__":
    main()
