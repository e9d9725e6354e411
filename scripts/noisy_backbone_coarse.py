"""Write the probabilities of a backbone whose weights carry noise (training inputs for the refiner).

    python scripts/noisy_backbone_coarse.py --images DIR --list FILE --out DIR [--copies 2] [--sigma 0.08 0.12]

For each copy, every convolution weight's channel c (first dimension: a convolution's output, a transposed one's
input) is scaled by exp(sigma * e_c), e_c ~ N(0, 1), sigma drawn uniformly from the given range: errors of the
network's own kind (whole regions and far-off boundaries, not only blur), at a level set by sigma, on images it
may have seen. Copy i of image NAME goes to OUT/v{i}/STEM.npy as float16 (K, H, W). Deterministic per
(seed, name, copy).
"""

from __future__ import annotations

import numpy as np
import torch

from spnrefine.backbones import load_backbone, predict_probabilities
from spnrefine.cli.options import list_names
from spnrefine.training.copies import copy_writer_parser, write_coarse_copies


def scale_weight_channels(model: torch.nn.Module, clean: dict[str, torch.Tensor], sigma: float,
                          rng: np.random.Generator) -> None:
    """Set every 4-D weight (C, ·, kh, kw) of ``model`` to its ``clean`` value times exp(sigma * e), one e ~ N(0, 1)
    per channel c of the first dimension."""
    with torch.no_grad():
        for name, weight in model.named_parameters():
            if weight.dim() != 4:
                continue
            noise = torch.from_numpy(rng.standard_normal(weight.shape[0])).to(weight.dtype)
            weight.copy_(clean[name] * torch.exp(sigma * noise).view(-1, 1, 1, 1))


def main() -> None:
    parser = copy_writer_parser(__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--sigma", type=float, nargs=2, default=(0.08, 0.12), metavar=("LOW", "HIGH"))
    args = parser.parse_args()
    backbone = load_backbone(args.backbone, args.weights)
    clean = {name: weight.detach().clone() for name, weight in backbone.model.named_parameters()}

    def noisy_probabilities(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        scale_weight_channels(backbone.model, clean, rng.uniform(*args.sigma), rng)
        return predict_probabilities(backbone, [image])[0].numpy()

    names = list_names(args.list, args.images)
    write_coarse_copies(args.images, names, args.out, args.copies, args.seed, noisy_probabilities)


if __name__ == "__main__":
    main()
