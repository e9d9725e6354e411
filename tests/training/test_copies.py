"""Deterministic coarse copies per image: the same copy whatever else is written, nothing rewritten."""

import numpy as np
from PIL import Image

from spnrefine.training.copies import copy_generator, write_coarse_copies


def _images(folder, names):
    folder.mkdir()
    for i, name in enumerate(names):
        Image.fromarray(np.full((6, 8, 3), 40 * i, np.uint8)).save(folder / name)


def _make(image, rng):
    """(2, H, W) probabilities that depend on the image and on the generator."""
    first = np.full(image.shape[:2], rng.uniform(0.1, 0.9)) * (1 + image[:, :, 0] / 1000)
    return np.stack([first, 1 - first])


def test_a_copy_depends_on_seed_name_and_copy_only(tmp_path):
    _images(tmp_path / "images", ["a.png", "b.png"])
    write_coarse_copies(tmp_path / "images", ["a.png", "b.png"], tmp_path / "both", 2, 0, _make, progress=False)
    write_coarse_copies(tmp_path / "images", ["b.png"], tmp_path / "one", 2, 0, _make, progress=False)
    for copy in range(2):
        both = np.load(tmp_path / "both" / f"v{copy}" / "b.npy")
        assert both.dtype == np.float16 and both.shape == (2, 6, 8)
        np.testing.assert_array_equal(both, np.load(tmp_path / "one" / f"v{copy}" / "b.npy"))
    copies = [np.load(tmp_path / "both" / f"v{copy}" / "a.npy") for copy in range(2)]
    assert not np.array_equal(*copies)
    draw = copy_generator(0, "a.png", 0).uniform()
    assert draw != copy_generator(1, "a.png", 0).uniform() and draw != copy_generator(0, "b.png", 0).uniform()


def test_copies_already_written_are_kept(tmp_path):
    _images(tmp_path / "images", ["a.png"])
    kept = tmp_path / "out" / "v0" / "a.npy"
    kept.parent.mkdir(parents=True)
    np.save(kept, np.zeros((2, 6, 8), np.float16))
    write_coarse_copies(tmp_path / "images", ["a.png"], tmp_path / "out", 2, 0, _make, progress=False)
    np.testing.assert_array_equal(np.load(kept), 0)
    assert (tmp_path / "out" / "v1" / "a.npy").is_file()
