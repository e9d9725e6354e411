"""The command line shared by the tuning scripts that score refiners on CamVid-labelled images (0006R0, never val)."""

from __future__ import annotations

import argparse
from pathlib import Path


def tuning_parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by the first line of ``doc`` with --images, --masks (CamVid's folders by default) and
    --list (the file names scored)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--images", type=Path, default=Path("../shared/data/camvid/images"))
    parser.add_argument("--masks", type=Path, default=Path("../shared/data/camvid/masks"))
    parser.add_argument("--list", type=Path, required=True, help="file names of the scored images")
    return parser


def named_inputs(specs: list[str], default_list: Path) -> dict[str, tuple[Path, list[str]]]:
    """``--input NAME=FOLDER[:LIST]`` values → {name: (folder of .npy maps, the file names scored)}; without
    ``:LIST`` the names of ``default_list``."""
    inputs = {}
    for spec in specs:
        name, _, where = spec.partition("=")
        folder, _, names = where.partition(":")
        inputs[name] = Path(folder), Path(names or default_list).read_text().split()
    return inputs
