"""Image reading in every mode users bring, label PNG round trips, atomic writes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from spnrefine.errors import SpnrefineError
from spnrefine.io.images import read_image
from spnrefine.io.masks import check_label_range, read_label_png
from spnrefine.io.writers import write_label_png

RGB = np.random.default_rng(0).integers(0, 256, (6, 9, 3), dtype=np.uint8)


def test_rgb_png(tmp_path):
    Image.fromarray(RGB).save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), RGB)


def test_grayscale_becomes_three_channels(tmp_path):
    Image.fromarray(RGB[:, :, 0]).save(tmp_path / "g.png")
    image = read_image(tmp_path / "g.png")
    assert image.shape == (6, 9, 3) and (image[:, :, 1] == RGB[:, :, 0]).all()


def test_rgba_drops_alpha(tmp_path):
    rgba = np.dstack([RGB, np.full((6, 9), 7, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "a.png")
    np.testing.assert_array_equal(read_image(tmp_path / "a.png"), RGB)


def test_16_bit_keeps_the_top_byte(tmp_path):
    values = (RGB[:, :, 0].astype(np.uint16) << 8) | 0x7F
    Image.fromarray(values).save(tmp_path / "d.png")
    np.testing.assert_array_equal(read_image(tmp_path / "d.png")[:, :, 0], RGB[:, :, 0])


def test_exif_rotation_is_applied(tmp_path):
    image = Image.fromarray(RGB)
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    image.save(tmp_path / "r.jpg", exif=exif, quality=100)
    assert read_image(tmp_path / "r.jpg").shape == (9, 6, 3)


def test_bad_files_name_the_file(tmp_path):
    (tmp_path / "notes.png").write_text("hello")
    with pytest.raises(SpnrefineError, match="notes.png: not an image"):
        read_image(tmp_path / "notes.png")
    Image.fromarray(RGB).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(SpnrefineError, match="cut.png: corrupt or truncated"):
        read_image(tmp_path / "cut.png")
    with pytest.raises(SpnrefineError, match="missing.png: no such file"):
        read_image(tmp_path / "missing.png")


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 256), st.integers(0, 2**31 - 1))
def test_label_png_round_trip_with_palette(height, width, classes, seed):
    import tempfile
    from pathlib import Path

    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, (height, width))
    palette = [tuple(int(v) for v in rng.integers(0, 256, 3)) for _ in range(classes)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.png"
        write_label_png(path, labels, palette)
        np.testing.assert_array_equal(read_label_png(path), labels)
        stored = Image.open(path).getpalette()[: 3 * classes]
        assert stored == [v for colour in palette for v in colour]
        assert [p.name for p in Path(folder).iterdir()] == ["m.png"]  # no temporary left behind


def test_colour_masks_are_not_label_masks(tmp_path):
    Image.fromarray(RGB).save(tmp_path / "c.png")
    with pytest.raises(SpnrefineError, match="c.png: a label mask must be single-channel"):
        read_label_png(tmp_path / "c.png")


def test_label_range_check():
    labels = np.array([[0, 1], [11, 12]])
    with pytest.raises(SpnrefineError, match=r"m.png: labels \[12\] are outside \[0, 11\)"):
        check_label_range(labels, 11, 11, "m.png")
    np.testing.assert_array_equal(check_label_range(labels, 11, 11, "m.png", clip=True), [[0, 1], [11, 11]])
