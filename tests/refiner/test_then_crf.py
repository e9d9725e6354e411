import numpy as np
import pytest

from spnrefine.refiner.then_crf import (FAR_OFF_SHARE, FAR_OFF_SHARE_SURE, INTERIOR_DOUBT, after_refiner, crf_following,
                                       crf_mode, dense_crf, far_off_share, interior_doubt)


def _two_regions(height: int = 60, width: int = 80) -> np.ndarray:
    """(2, H, W) certain map: class 1 on the right half."""
    right = np.zeros((height, width), np.float32)
    right[:, width // 2:] = 1
    return np.stack([1 - right, right])


def test_doubt_along_the_edges_is_not_interior_doubt_but_doubt_inside_a_region_is():
    certain = _two_regions()
    soft_edges = certain.copy()  # an averaged map: a ramp 8 px wide across the boundary
    ramp = np.linspace(0.0, 1.0, 8, dtype=np.float32)
    soft_edges[1, :, 36:44] = ramp
    soft_edges[0] = 1 - soft_edges[1]
    unsure_inside = certain.copy()  # a blob the map cannot decide, 12 px from the boundary
    unsure_inside[:, 10:30, 5:25] = 0.5
    assert interior_doubt(certain) == 0
    assert interior_doubt(soft_edges) == 0
    assert interior_doubt(unsure_inside) > INTERIOR_DOUBT


def test_unsure_pixels_count_from_five_pixels_off_the_boundary():
    probs = _two_regions()  # the boundary runs between columns 39 and 40
    probs[0, :, 35:40], probs[1, :, 35:40] = 0.6, 0.4  # unsure, argmax unchanged, 0–4 px from the boundary
    assert interior_doubt(probs) == 0
    probs[0, :, 34], probs[1, :, 34] = 0.6, 0.4  # 5 px off
    probs[0, :, 10:13], probs[1, :, 10:13] = 0.6, 0.4
    assert interior_doubt(probs) == 4 / 80


def _halves_image(height: int = 96, width: int = 128) -> np.ndarray:
    """(H, W, 3) uint8: dark left half, bright right half, a little noise."""
    image = np.full((height, width, 3), 60, np.int64)
    image[:, width // 2:] = 190
    return (image + np.random.default_rng(0).integers(-8, 9, image.shape)).astype(np.uint8)


def _map_with_edge_at(column: int, top: float = 0.8, height: int = 96, width: int = 128) -> np.ndarray:
    """(2, H, W): class 1 (at probability ``top``) from ``column`` on."""
    right = np.zeros((height, width), np.float32)
    right[:, column:] = 1
    one = top * right + (1 - top) * (1 - right)
    return np.stack([1 - one, one])


def test_a_map_whose_boundary_lies_off_the_images_edge_is_far_off_and_one_on_it_is_not():
    pytest.importorskip("pydensecrf.densecrf")
    image = _halves_image()
    assert far_off_share(image, _map_with_edge_at(64)) == 0
    assert far_off_share(image, _map_with_edge_at(48)) > FAR_OFF_SHARE  # 16 px off: CRF moves it to the edge
    assert FAR_OFF_SHARE_SURE < far_off_share(image, _map_with_edge_at(56)) < FAR_OFF_SHARE  # 8 px off


def test_auto_runs_deeplabs_crf_on_a_far_off_map_the_weak_one_on_inner_doubt_and_none_on_label_masks():
    pytest.importorskip("pydensecrf.densecrf")
    image = _halves_image()
    near, somewhat, far = _map_with_edge_at(64), _map_with_edge_at(56), _map_with_edge_at(48)
    doubting = near.copy()  # unsure inside the left region, the refined map as near
    doubting[:, 20:60, 8:40] = 0.5
    assert crf_mode("auto", image, near, near) is None
    soft_edges = near.copy()  # an averaged map: a ramp 8 px wide across the boundary
    soft_edges[1, :, 60:68] = np.linspace(0.2, 0.8, 8, dtype=np.float32)
    soft_edges[0] = 1 - soft_edges[1]
    assert crf_mode("auto", image, soft_edges, soft_edges) is None
    assert crf_mode("auto", image, near, far) == "strong"  # decided on the refined map
    assert crf_mode("auto", image, near, somewhat) == "strong"  # less far off, the coarse map sure inside
    assert crf_mode("auto", image, doubting, near) == "always"
    assert crf_mode("auto", image, None, far) is None
    assert crf_mode("auto", image, doubting, somewhat) == "always"  # unsure inside, as averaged maps are
    assert crf_mode("auto", image, doubting, far) == "strong"  # this far off, whatever the doubt
    unsure = np.full((2, 96, 128), 0.5, np.float32)
    assert crf_mode("auto", image, unsure, near) == "always"
    crf, marginals = crf_following("auto", image, near, far)
    assert crf == "strong"
    np.testing.assert_array_equal(marginals, dense_crf(image, far))
    crf, marginals = crf_following("auto", image, doubting, near)
    assert crf == "always"
    np.testing.assert_array_equal(marginals, after_refiner(image, near))
    assert crf_following("auto", image, near, near) == (None, None)


def test_modes_never_always_and_strong_do_not_look_at_the_maps():
    unsure = np.full((2, 30, 30), 0.5, np.float32)
    image = np.zeros((30, 30, 3), np.uint8)
    assert [crf_mode(mode, image, None, unsure) for mode in ("never", "always", "strong")] == [None, "always", "strong"]
    assert crf_mode("auto", image, None, unsure) is None  # a label mask
    assert crf_following("never", image, unsure, unsure) == (None, None)


def test_the_crf_after_the_refiner_keeps_a_thin_object_that_deeplabs_weights_erase_and_strong_uses_those():
    pytest.importorskip("pydensecrf.densecrf")
    rng = np.random.default_rng(0)
    image = rng.integers(90, 130, (60, 80, 3), dtype=np.uint8)  # texture without edges
    image[:, 38:41] += 10  # a faint 3-px pole
    line = np.zeros((60, 80), np.float32)
    line[:, 38:41] = 1
    probs = np.stack([0.8 - 0.5 * line, 0.2 + 0.5 * line]).astype(np.float32)  # the refiner: pole at 0.7

    def kept(marginals: np.ndarray) -> float:
        """The share of the pole's pixels still labelled pole."""
        return (marginals.argmax(0)[:, 38:41] == 1).mean()

    assert kept(after_refiner(image, probs)) == 1.0
    assert kept(dense_crf(image, probs)) < 0.5
    np.testing.assert_array_equal(after_refiner(image, probs, "strong"), dense_crf(image, probs))
    assert (after_refiner(image, probs).argmax(0) == probs.argmax(0)).all()
