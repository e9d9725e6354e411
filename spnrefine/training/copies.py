"""Write several deterministic coarse copies of each training image (the refiner's training inputs).

Copy i of image NAME is made from its own random generator, seeded by (seed, a hash of NAME, i), so a copy is the
same whichever images or copies are made with it, and a rerun skips the copies already written.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from ..io.images import read_image
from ..io.writers import write_npy


def copy_writer_parser(description: str) -> argparse.ArgumentParser:
    """The options every script that writes a backbone's coarse copies takes: --images, --list, --out, --backbone,
    --weights, --seed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--list", type=Path, required=True, help="image file names, one per line")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--backbone", default="espnet-camvid")
    parser.add_argument("--weights", type=Path, default=Path("../shared/weights/espnet_camvid.pth"))
    parser.add_argument("--seed", type=int, default=0)
    return parser


def copy_generator(seed: int, name: str, copy: int) -> np.random.Generator:
    """The random generator of copy ``copy`` of image ``name``."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
    return np.random.default_rng([seed, key, copy])


def write_coarse_copies(images: Path, names: list[str], out: Path, copies: int, seed: int,
                        make: Callable[[np.ndarray, np.random.Generator], np.ndarray], progress: bool = True) -> None:
    """For each image file name of ``names`` in ``images`` and each copy i: ``make(image, rng)`` → (K, H, W)
    probabilities, written to OUT/v{i}/STEM.npy as float16 (skipped where that file exists)."""
    for name in tqdm(names, unit="img", disable=not progress):
        image = None
        for copy in range(copies):
            path = Path(out) / f"v{copy}" / f"{Path(name).stem}.npy"
            if path.is_file():
                continue
            if image is None:
                image = read_image(Path(images) / name)
            write_npy(path, make(image, copy_generator(seed, name, copy)).astype(np.float16))
