import numpy as np
import pytest

from spnrefine.refiner.then_crf import INTERIOR_DOUBT, after_refiner, dense_crf, interior_doubt, wants_crf


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
    assert (wants_crf("auto", soft_edges), wants_crf("auto", unsure_inside)) == (False, True)


def test_unsure_pixels_count_from_five_pixels_off_the_boundary():
    probs = _two_regions()  # the boundary runs between columns 39 and 40
    probs[0, :, 35:40], probs[1, :, 35:40] = 0.6, 0.4  # unsure, argmax unchanged, 0–4 px from the boundary
    assert interior_doubt(probs) == 0
    probs[0, :, 34], probs[1, :, 34] = 0.6, 0.4  # 5 px off
    probs[0, :, 10:13], probs[1, :, 10:13] = 0.6, 0.4
    assert interior_doubt(probs) == 4 / 80


def test_modes_never_and_always_and_label_masks():
    unsure = np.full((2, 30, 30), 0.5, np.float32)
    assert (wants_crf("never", unsure), wants_crf("always", unsure), wants_crf("auto", None)) == (False, True, False)
    assert wants_crf("strong", None)
    assert wants_crf("auto", unsure)


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
