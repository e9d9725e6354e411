"""Average refiner checkpoints of one architecture parameter by parameter (a "model soup", Wortsman et al. 2022).

    python scripts/average_checkpoints.py runs/soup.pt runs/refiner_camvid_guided/refiner.pt runs/refiner_camvid_strong/refiner.pt

The checkpoints must share the network configuration and label set (fine-tunings from one start, e.g. `agnostic`
stage 2); floating-point tensors (BatchNorm statistics included) are averaged, the rest taken from the first.
Checkpoints with two sets of weights (scripts/pair_checkpoints.py) are refused: average single sets, then pair.
The output is a checkpoint file `--checkpoint` reads. Tried and not shipped (model card).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from spnrefine.io.checkpoints import load_weights, save_weights
from spnrefine.refiner.weights import same_network


def averaged(payloads: list[dict]) -> dict:
    """Refiner checkpoint payloads → one payload with the mean of their floating-point weights."""
    first = payloads[0]
    if any("certain_state_dict" in p for p in payloads):
        raise SystemExit("a checkpoint holds two sets of weights; average single sets, then pair them")
    for other in payloads[1:]:
        if not same_network(first, other):
            raise SystemExit("the checkpoints differ in network configuration or label set")
        if other["state_dict"].keys() != first["state_dict"].keys():
            raise SystemExit("the checkpoints hold different tensors")
    states = [p["state_dict"] for p in payloads]
    mean = {key: (sum(s[key] for s in states) / len(states) if value.is_floating_point() else value.clone())
            for key, value in first["state_dict"].items()}
    return {**first, "state_dict": mean, "train_config": {"average_of": len(payloads)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("checkpoints", type=Path, nargs="+")
    args = parser.parse_args()
    if args.out.exists():
        raise SystemExit(f"{args.out} exists; not overwritten")
    save_weights(args.out, averaged([load_weights(path) for path in args.checkpoints]))
    print(f"{args.out}: the mean of {len(args.checkpoints)} checkpoints")


if __name__ == "__main__":
    main()
