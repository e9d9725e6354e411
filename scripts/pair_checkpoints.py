"""Join two refiner checkpoints of one network into one: weights for a network's probability maps, and weights for
hard masks (label masks, and probability maps the refiner recognises as upsampled hard masks; ``refiner.softness``).

    python scripts/pair_checkpoints.py runs/camvid_pair.pt runs/refiner_camvid_balcoarse/refiner.pt models/spn_refiner_camvid.pt

The output is a checkpoint file `--checkpoint` reads; the shipped ones were made so (model card).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from spnrefine.errors import SpnrefineError
from spnrefine.io.checkpoints import load_weights
from spnrefine.refiner.weights import paired_payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("network", type=Path, help="weights for a network's probability maps")
    parser.add_argument("hard", type=Path, help="weights for hard masks (label masks, upsampled hard masks)")
    args = parser.parse_args()
    if args.out.exists():
        raise SystemExit(f"{args.out} exists; not overwritten")
    try:
        payload = paired_payload(load_weights(args.network), load_weights(args.hard))
    except SpnrefineError as error:
        raise SystemExit(f"{args.network}, {args.hard}: {error}") from None
    torch.save(payload, args.out)
    print(f"{args.out}: {args.network} for a network's probability maps, {args.hard} for hard masks")


if __name__ == "__main__":
    main()
