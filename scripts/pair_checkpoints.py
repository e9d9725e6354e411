"""Join two refiner checkpoints of one network into one: weights for uncertain probability maps (a network's soft
output), and weights for certain masks (label masks; maps certain at many pixels, ``refiner.softness.is_certain``).

    python scripts/pair_checkpoints.py OUT.pt runs/refiner_camvid_balcoarse/refiner.pt models/spn_refiner_camvid.pt

The output is a checkpoint file `--checkpoint` reads (`Refiner` picks the weights per mask). The shipped `camvid` is
one (model card).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spnrefine.errors import SpnrefineError
from spnrefine.io.checkpoints import load_weights, save_weights
from spnrefine.refiner.weights import paired_payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("uncertain", type=Path, help="weights for uncertain probability maps")
    parser.add_argument("certain", type=Path,
                        help="weights for label masks and certain probability maps (a paired file: its second set)")
    args = parser.parse_args()
    if args.out.exists():
        raise SystemExit(f"{args.out} exists; not overwritten")
    try:
        payload = paired_payload(load_weights(args.uncertain), load_weights(args.certain))
    except SpnrefineError as error:
        raise SystemExit(f"{args.uncertain}, {args.certain}: {error}") from None
    save_weights(args.out, payload)
    print(f"{args.out}: {args.uncertain} for uncertain probability maps, {args.certain} for certain masks")


if __name__ == "__main__":
    main()
