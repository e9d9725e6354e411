"""Fixtures shared by every test folder (helpers live in helpers.py)."""

import pytest
from helpers import CAMVID, camvid_names


@pytest.fixture
def camvid_val_subset(tmp_path):
    """A folder pair with the first 4 CamVid val images and masks (copies, not links)."""
    import shutil

    images, masks = tmp_path / "images", tmp_path / "masks"
    images.mkdir(), masks.mkdir()
    for name in camvid_names("val", 4):
        shutil.copy(CAMVID / "images" / name, images / name)
        shutil.copy(CAMVID / "masks" / name, masks / name)
    return images, masks
