"""ESPNet-CamVid with its subnormal weights as trained and zeroed (as ``load_backbone`` now gives it), timed in one
run, interleaved (a change of machine speed hits both alike); the logits are compared too.
Usage: python scripts/subnormal_speed.py [--images ../shared/data/camvid/images] [--limit 10] [--rounds 3]"""
import argparse
import time
from pathlib import Path

import torch

from spnrefine.backbones import load_backbone, predict_logits
from spnrefine.denormals import is_subnormal
from spnrefine.io.images import read_image


def subnormals(model: torch.nn.Module) -> int:
    return sum(int(is_subnormal(tensor).sum()) for tensor in model.state_dict().values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, default=Path("../shared/data/camvid/images"))
    parser.add_argument("--weights", type=Path, default=Path("../shared/weights/espnet_camvid.pth"))
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    images = [read_image(path) for path in sorted(args.images.iterdir())[:args.limit]]
    backbones = {"as trained": load_backbone("espnet-camvid", args.weights),
                 "zeroed": load_backbone("espnet-camvid", args.weights)}
    trained = torch.load(args.weights, map_location="cpu", weights_only=True)
    backbones["as trained"].model.load_state_dict(trained, strict=False)
    print("subnormal weights:", {name: subnormals(backbone.model) for name, backbone in backbones.items()})
    best = {name: float("inf") for name in backbones}
    logits = {}
    for _ in range(args.rounds):
        for name, backbone in backbones.items():
            began = time.perf_counter()
            logits[name] = [predict_logits(backbone, [image]) for image in images]
            best[name] = min(best[name], (time.perf_counter() - began) / len(images))
    same = all(torch.equal(a, b) for a, b in zip(logits["as trained"], logits["zeroed"]))
    print(f"ESPNet per {images[0].shape[1]}x{images[0].shape[0]} image, best of {args.rounds} rounds of "
          f"{len(images)}: as trained {best['as trained'] * 1000:.1f} ms, zeroed {best['zeroed'] * 1000:.1f} ms "
          f"({best['as trained'] / best['zeroed']:.2f}x); logits identical: {same}")


main()
