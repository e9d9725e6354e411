"""Training inputs: label spaces, one-source batches, degraded-image inputs."""

import numpy as np
import pytest
from PIL import Image

from spnrefine.errors import SpnrefineError
from spnrefine.io.writers import write_label_png
from spnrefine.training.data import IGNORE, LabelSpace, SampleCache, draw_batch, list_samples, random_crops
from spnrefine.training.degrade import DEGRADATIONS, degrade_image


def test_label_space_parses_its_forms():
    assert LabelSpace.parse("12:11") == LabelSpace(12, 11)
    assert LabelSpace.parse("2") == LabelSpace(2, None)
    assert LabelSpace.parse("present:0") == LabelSpace(None, 0)
    with pytest.raises(SpnrefineError, match="expected K"):
        LabelSpace.parse("twelve")


def test_present_classes_are_renumbered_and_the_ignored_pixels_get_their_own_channel():
    mask = np.array([[0, 7, 7], [200, 200, 0]])
    labels, targets, k = LabelSpace(None, 0).targets(mask)
    assert k == 3  # ids 7 and 200, plus the channel for the ignored id 0
    assert labels.tolist() == [[2, 0, 0], [1, 1, 2]]
    assert targets.tolist() == [[IGNORE, 0, 0], [1, 1, IGNORE]]


def test_a_fixed_label_space_keeps_ids_and_puts_void_in_its_channel():
    labels, targets, k = LabelSpace(12, 11).targets(np.array([[3, 11]]))
    assert (labels.tolist(), targets.tolist(), k) == ([[3, 11]], [[3, IGNORE]], 12)
    with pytest.raises(SpnrefineError, match="do not fit 2 channels"):
        LabelSpace(2, None).targets(np.array([[0, 5]]))


def _source(folder, count, size, ids):
    (folder / "images").mkdir(parents=True), (folder / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        mask = np.full(size, ids[0], np.int64)
        mask[size[0] // 4 :, size[1] // 3 :] = ids[1]
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(folder / "images" / f"s{i}.jpg")
        write_label_png(folder / "masks" / f"s{i}.png", mask, None)
    return folder / "images", folder / "masks"


def test_batches_come_from_one_source_and_small_images_are_enlarged_to_the_crop(tmp_path):
    coco = list_samples(*_source(tmp_path / "a", 3, (40, 50), (0, 90)), [f"s{i}" for i in range(3)], None,
                        LabelSpace(None, 0), source=0)
    binary = list_samples(*_source(tmp_path / "b", 3, (20, 30), (0, 1)), None, None, LabelSpace(2, None), source=1)
    samples = coco + binary
    by_source = {0: coco, 1: binary}
    cache = SampleCache(min_side=32)
    for step in range(6):
        rng = np.random.default_rng(step)
        batch = draw_batch(samples, by_source, 4, rng)
        assert len({s.source for s in batch}) == 1
        images, coarse, targets = random_crops(cache, batch, 32, rng, hard_fraction=0.5)
        assert images.shape == (4, 3, 32, 32) and targets.shape == (4, 32, 32)
        assert coarse.shape[1] == 2  # present (1 class + ignored channel) or binary
        assert np.allclose(coarse.sum(1).numpy(), 1, atol=1e-4)


def test_sources_sharing_an_image_share_its_memory_and_return_what_training_expects(tmp_path):
    """Two sources of the same images (one with .npy coarse maps, one synthesized) hold each image and label map
    once; labels are stored compactly but the batch targets are int64 with IGNORE, as before."""
    images, masks = _source(tmp_path / "c", 2, (24, 30), (0, 11))
    (tmp_path / "npy").mkdir()
    for i in range(2):
        np.save(tmp_path / "npy" / f"s{i}.npy", np.full((12, 24, 30), 1 / 12, np.float32))
    given = list_samples(images, masks, None, tmp_path / "npy", LabelSpace(12, 11), source=0)
    synthesized = list_samples(images, masks, None, None, LabelSpace(12, 11), source=1)
    cache = SampleCache()
    first, second = cache.load(given[0]), cache.load(synthesized[0])
    assert np.shares_memory(first[0], second[0]) and np.shares_memory(first[2], second[2])
    assert first[1].dtype == np.int16 and first[3].shape == (12, 24, 30) and second[3] is None
    image, targets, coarse = cache.coarse_for(synthesized[0], np.random.default_rng(0))
    assert targets.dtype == np.int64 and set(np.unique(targets)) == {0, IGNORE}
    assert coarse.dtype == np.float32 and coarse.shape == (12, 24, 30)
    np.save(tmp_path / "npy" / "s1.npy", np.zeros((12, 20, 30), np.float32))
    with pytest.raises(SpnrefineError, match="s1.npy: shape"):
        cache.load(given[1])


@pytest.mark.parametrize("strength", sorted(DEGRADATIONS))
def test_degraded_images_are_smaller_and_reproducible(strength):
    how = DEGRADATIONS[strength]
    image = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    a = degrade_image(image, np.random.default_rng(7), how)
    b = degrade_image(image, np.random.default_rng(7), how)
    assert a.dtype == np.uint8 and np.array_equal(a, b)
    scale = a.shape[1] / 160
    assert how.scale[0] - 0.01 <= scale <= how.scale[1] + 0.01


def test_strong_degradation_changes_an_image_more_than_mild():
    """Over many draws the strong copies are further from the (resized) original than the mild ones."""
    import cv2

    y, x = np.mgrid[0:120, 0:160]
    image = np.stack([x * 1.5, y * 2.0, (x + y) * 0.9], -1).clip(0, 255).astype(np.uint8)
    error = {}
    for strength, how in DEGRADATIONS.items():
        total = 0.0
        for seed in range(40):
            out = degrade_image(image, np.random.default_rng(seed), how).astype(np.float32)
            plain = cv2.resize(image, out.shape[1::-1], interpolation=cv2.INTER_AREA).astype(np.float32)
            total += np.abs(out - plain).mean()
        error[strength] = total / 40
    assert error["strong"] > 1.5 * error["mild"]


def test_drifted_coarse_is_confident_and_wrong_only_near_the_boundaries():
    """A confident segmenter's kind of error: most pixels certain, the argmax off the truth only within the drift
    (≤ 2% of the diagonal) plus the opening/closing radius of the true boundaries; reproducible from the seed."""
    import cv2

    from spnrefine.training.synth import drifted_coarse

    drawn = np.zeros((240, 320), np.uint8)
    cv2.circle(drawn, (110, 120), 60, 1, -1)
    cv2.rectangle(drawn, (200, 40), (290, 200), 2, -1)
    cv2.line(drawn, (20, 10), (20, 230), 2, 3)  # a thin part, which may be lost
    labels = drawn.astype(np.int64)
    for seed in range(6):
        probs = drifted_coarse(labels, 3, np.random.default_rng(seed))
        assert probs.shape == (3, 240, 320) and probs.dtype == np.float32
        np.testing.assert_allclose(probs.sum(0), 1, atol=1e-5)
        assert (probs.max(0) >= 0.99).mean() > 0.6
        wrong = probs.argmax(0) != labels
        assert 0 < wrong.mean() < 0.2
        edges = cv2.morphologyEx(labels.astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
        distance = cv2.distanceTransform((~edges).astype(np.uint8), cv2.DIST_L2, 5)
        assert distance[wrong].max() <= 0.02 * np.hypot(240, 320) + 4 + 4  # drift + radius + the soft band
        np.testing.assert_array_equal(probs, drifted_coarse(labels, 3, np.random.default_rng(seed)))


def test_tempering_gives_a_networks_map_softer_or_surer_with_the_same_labels_and_leaves_synthesized_maps_alone(
        tmp_path):
    images, masks = _source(tmp_path / "c", 1, (24, 30), (0, 1))
    (tmp_path / "npy").mkdir()
    made = np.stack([np.full((24, 30), 0.7), np.full((24, 30), 0.2), np.full((24, 30), 0.1)]).astype(np.float32)
    np.save(tmp_path / "npy" / "s0.npy", made)
    given = list_samples(images, masks, None, tmp_path / "npy", LabelSpace(3, None), source=0)[0]
    synthesized = list_samples(images, masks, None, None, LabelSpace(3, None), source=1)[0]
    cache = SampleCache()
    np.testing.assert_allclose(cache.coarse_for(given, np.random.default_rng(0))[2], made, atol=1e-3)  # float16
    top = [cache.coarse_for(given, np.random.default_rng(seed), temper=2.0)[2] for seed in range(40)]
    assert all(t.argmax(0).max() == 0 and np.allclose(t.sum(0), 1, atol=1e-5) for t in top)
    firsts = [float(t[0, 0, 0]) for t in top]
    assert min(firsts) < 0.7 - 0.05 and max(firsts) > 0.7 + 0.05  # softer and surer than made
    lowest = made ** 2 / (made ** 2).sum(0)  # T = 1/2 at most: never surer than that
    assert max(firsts) <= lowest[0, 0, 0] + 1e-4
    for seed in range(3):
        plain = cache.coarse_for(synthesized, np.random.default_rng(seed))[2]
        tempered = cache.coarse_for(synthesized, np.random.default_rng(seed), temper=2.0)[2]
        assert np.array_equal(plain, tempered)


def _stripes(tmp_path):
    """One 64×96 sample of vertical stripes 8 px wide (grey 200 on black), its label mask and a matching .npy map."""
    (tmp_path / "images").mkdir(), (tmp_path / "masks").mkdir(), (tmp_path / "npy").mkdir()
    mask = np.tile((np.arange(96) // 8) % 2, (64, 1))
    Image.fromarray(np.repeat((mask * 200).astype(np.uint8)[..., None], 3, 2)).save(tmp_path / "images" / "s0.png")
    write_label_png(tmp_path / "masks" / "s0.png", mask, None)
    np.save(tmp_path / "npy" / "s0.npy", np.stack([1 - mask, mask]).astype(np.float32))
    return list_samples(tmp_path / "images", tmp_path / "masks", None, tmp_path / "npy", LabelSpace(2, None))


def test_zoomed_crops_keep_image_coarse_map_and_targets_aligned_at_scales_both_ways(tmp_path):
    """Vertical stripes 8 px wide: a crop shown at scale s has stripes 8·s px wide (both smaller and larger than
    stored over 40 draws), and its image, coarse map and targets agree away from stripe edges; zoom 1 draws the
    same crops as before."""
    samples = _stripes(tmp_path)
    cache = SampleCache(min_side=32)
    widths = []
    for seed in range(40):
        images, coarse, targets = random_crops(cache, samples, 32, np.random.default_rng(seed), zoom=2.0)
        assert images.shape == (1, 3, 32, 32) and coarse.shape == (1, 2, 32, 32) and targets.shape == (1, 32, 32)
        row = targets[0, 16].numpy()
        edges = np.flatnonzero(np.diff(row)) + 1
        inner = np.ones(32, bool)
        for edge in edges:
            inner[max(0, edge - 2):edge + 2] = False
        assert np.array_equal((images[0, 0, 16].numpy() > 0.5)[inner], row[inner] == 1)
        assert np.array_equal(coarse[0, :, 16].argmax(0).numpy()[inner], row[inner])
        widths += list(np.diff(edges))
        plain = random_crops(cache, samples, 32, np.random.default_rng(seed))
        again = random_crops(cache, samples, 32, np.random.default_rng(seed), zoom=1.0)
        assert all(np.array_equal(a, b) for a, b in zip(plain, again))
    assert min(widths) <= 5 and max(widths) >= 12  # stripes of 8 px shown at about 0.5x and 2x


def test_degraded_crop_images_change_the_guidance_image_only_and_about_half_the_time(tmp_path):
    """With an image degradation about half the crops' images differ from the plain draw's and keep their size; the
    coarse maps and targets stay as the flip and crop made them (the same rng draws but for the degradation's)."""
    from spnrefine.training.degrade import same_size

    samples = _stripes(tmp_path)
    cache, changed = SampleCache(min_side=32), 0
    for seed in range(40):
        images, coarse, targets = random_crops(cache, samples, 32, np.random.default_rng(seed),
                                               image_degradation=same_size("strong"))
        plain_images, plain_coarse, plain_targets = random_crops(cache, samples, 32, np.random.default_rng(seed))
        assert images.shape == plain_images.shape == (1, 3, 32, 32)
        assert np.array_equal(coarse, plain_coarse) and np.array_equal(targets, plain_targets)
        changed += not np.array_equal(images, plain_images)
    assert 8 <= changed <= 32
