"""Masks as people have them: 0/255 binary masks, (H, W) / (1, H, W) foreground probabilities, channel-last
maps; each written back in the input's own values."""

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from spnrefine.cli import app

runner = CliRunner()


def _scene(folder, names=("a", "b"), size=(40, 56)):
    """Images with a bright square; the true square's mask (bool)."""
    images, masks = folder / "images", folder / "masks"
    images.mkdir(parents=True), masks.mkdir(parents=True)
    image = np.full((*size, 3), 40, np.uint8)
    image[10:30, 15:40] = 220
    truth = np.zeros(size, bool)
    truth[10:30, 15:40] = True
    for name in names:
        Image.fromarray(image).save(images / f"{name}.png")
    return images, masks, truth


def _refine(images, masks, out, *extra):
    return runner.invoke(app, ["refine", "--images", str(images), "--masks", str(masks), "--out", str(out), "-q",
                               "--device", "cpu", *extra])


def test_binary_masks_are_two_classes_written_back_in_their_own_values(tmp_path):
    images, masks, truth = _scene(tmp_path, names=("a", "b", "c"))
    coarse = np.zeros(truth.shape, np.uint8)
    coarse[12:28, 17:38] = 1  # slightly off
    Image.fromarray(coarse * 255).save(masks / "a.png")  # 0/255, as rembg or SAM exports
    Image.fromarray(coarse * 7).save(masks / "b.png")  # another tool: 0/7
    Image.fromarray(coarse).save(masks / "c.png")  # 0/1 label mask
    result = _refine(images, masks, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "classes: 2 (inferred: two-valued masks" in result.output and "done 3" in result.output
    reference = np.asarray(Image.open(tmp_path / "out" / "c.png"))
    assert set(np.unique(reference)) == {0, 1}
    for name, value in (("a", 255), ("b", 7)):
        written = Image.open(tmp_path / "out" / f"{name}.png")
        assert written.mode == "L"
        assert np.array_equal(np.asarray(written), reference * value)  # the same refinement, in its own values


def test_foreground_probability_maps_in_2d_and_1hw(tmp_path):
    images, masks, truth = _scene(tmp_path)
    soft = np.where(truth, 0.8, 0.1).astype(np.float32)
    np.save(masks / "a.npy", soft)
    np.save(masks / "b.npy", soft[None])
    result = _refine(images, masks, tmp_path / "out", "--save-probs")
    assert result.exit_code == 0, result.output
    assert "classes: 2 (inferred: from the probability maps" in result.output
    for name in ("a", "b"):
        labels = np.asarray(Image.open(tmp_path / "out" / f"{name}.png"))
        assert set(np.unique(labels)) == {0, 1} and ((labels == 1) == truth).mean() > 0.95
        assert np.load(tmp_path / "out" / f"{name}.npy").shape == (2, *truth.shape)


def test_channel_last_maps_of_the_image_size_are_recognised(tmp_path):
    images, masks, truth = _scene(tmp_path, names=("a",))
    probs = np.stack([np.where(truth, 0.2, 0.9), np.where(truth, 0.8, 0.1)], axis=-1).astype(np.float32)
    np.save(masks / "a.npy", probs)  # (H, W, 2)
    result = _refine(images, masks, tmp_path / "out")
    assert result.exit_code == 0, result.output
    labels = np.asarray(Image.open(tmp_path / "out" / "a.png"))
    assert ((labels == 1) == truth).mean() > 0.95


def test_a_channel_last_map_of_another_size_is_refused_with_how_to_pass_it(tmp_path):
    images, masks, _ = _scene(tmp_path, names=("a",))
    np.save(masks / "a.npy", np.full((20, 28, 2), 0.5, np.float32))
    result = _refine(images, masks, tmp_path / "out", "--num-classes", "2")
    assert result.exit_code == 1
    assert "a.npy: shape (20, 28, 2) looks channel-last" in result.output and "transpose(2, 0, 1)" in result.output


def test_alpha_cut_outs_and_mattes_are_refined_as_foreground_probability_and_written_back(tmp_path):
    images, masks, truth = _scene(tmp_path, names=("cut", "matte"))
    soft = np.zeros(truth.shape, np.float32)
    soft[12:28, 17:38] = 0.9  # slightly off
    colours = np.random.default_rng(0).integers(0, 255, (*truth.shape, 3), dtype=np.uint8)
    Image.fromarray(np.dstack([colours, (soft * 255).astype(np.uint8)]), "RGBA").save(masks / "cut.png")
    Image.fromarray((soft * 255).astype(np.uint8)).save(masks / "matte.png")
    result = _refine(images, masks, tmp_path / "out", "--alpha", "--save-probs")
    assert result.exit_code == 0, result.output
    cut = Image.open(tmp_path / "out" / "cut.png")
    matte = Image.open(tmp_path / "out" / "matte.png")
    assert cut.mode == "RGBA" and matte.mode == "L"
    assert np.array_equal(np.asarray(cut)[..., :3], colours)  # the cut-out's colours are kept
    probs = np.load(tmp_path / "out" / "matte.npy").astype(np.float32)
    assert np.abs(np.asarray(matte) - np.round(probs[1] * 255)).max() <= 1  # the matte is the refined probability
    assert np.array_equal(np.asarray(cut)[..., 3], np.asarray(matte))  # same foreground, same refinement


def test_a_soft_matte_is_not_read_as_hundreds_of_classes(tmp_path):
    """A grayscale PNG whose values ramp (a matte, or a mask upsampled bilinearly) without --alpha: refused
    with how to pass it, nothing written; with --alpha: refined. A label mask with many ids is still labels."""
    import cv2

    images, masks, _ = _scene(tmp_path, names=("soft",), size=(80, 112))
    rows, columns = np.mgrid[:80, :112] + 0.5
    disc = (np.hypot(rows - 40, columns - 56) < 25).astype(np.float32)
    small = cv2.resize(disc, (14, 10), interpolation=cv2.INTER_AREA)  # ×8 low resolution
    upsampled = cv2.resize(small, (112, 80), interpolation=cv2.INTER_LINEAR)
    Image.fromarray(np.round(upsampled * 255).astype(np.uint8)).save(masks / "soft.png")
    refused = _refine(images, masks, tmp_path / "out")
    assert refused.exit_code == 1
    assert "soft.png: a soft matte or an upsampled mask, not class ids" in refused.output
    assert "--alpha" in refused.output and not (tmp_path / "out" / "soft.png").exists()
    assert _refine(images, masks, tmp_path / "out", "--alpha").exit_code == 0
    labels = np.repeat(np.arange(20, dtype=np.uint8), 112 * 4).reshape(80, 112)  # 20 ids in bands, 255 in a corner
    labels[:8, :8] = 255
    Image.fromarray(labels).save(masks / "soft.png")
    read_as_labels = _refine(images, masks, tmp_path / "labels")
    assert read_as_labels.exit_code == 0 and "classes: 256" in read_as_labels.output, read_as_labels.output


def test_alpha_refuses_a_mask_without_alpha(tmp_path):
    images, masks, _ = _scene(tmp_path, names=("a",))
    Image.fromarray(np.zeros((40, 56, 3), np.uint8)).save(masks / "a.png")
    result = _refine(images, masks, tmp_path / "out", "--alpha")
    assert result.exit_code == 1 and "a.png: --alpha reads an RGBA cut-out or a single-channel matte" in result.output


def test_ids_of_a_large_label_space_come_back_as_they_were(tmp_path):
    """A 150-class label mask holding ids 3 and 149, and a 150-channel map with mass in two of them: refined
    on those classes only, written with the original ids (and 150 channels in --save-probs)."""
    images, masks, truth = _scene(tmp_path)
    Image.fromarray(np.where(truth, 149, 3).astype(np.uint8)).save(masks / "a.png")
    probs = np.full((150, *truth.shape), 1e-5, np.float32)
    probs[77], probs[12] = np.where(truth, 0.9, 0.1), np.where(truth, 0.1, 0.9)
    np.save(masks / "b.npy", probs / probs.sum(0))
    result = _refine(images, masks, tmp_path / "out", "--num-classes", "150", "--save-probs")
    assert result.exit_code == 0, result.output
    for name, (inside, outside) in (("a", (149, 3)), ("b", (77, 12))):
        labels = np.asarray(Image.open(tmp_path / "out" / f"{name}.png"))
        assert set(np.unique(labels)) == {inside, outside}
        assert ((labels == inside) == truth).mean() > 0.95
        saved = np.load(tmp_path / "out" / f"{name}.npy").astype(np.float32)
        assert saved.shape == (150, *truth.shape)
        np.testing.assert_allclose(saved.sum(0), 1, atol=2e-2)


def test_an_upsampled_low_resolution_map_is_sharpened_unless_asked_not_to(tmp_path):
    """(H, W) foreground probability of a ×8 low-resolution mask (ramps 16 px wide): sharpened before refinement
    by default (refiner/softness.py), refined as given with --no-sharpen-lowres."""
    from spnrefine.evaluation.comparison import lowres_coarse

    images, masks, truth = _scene(tmp_path, names=("a",), size=(120, 160))
    np.save(masks / "a.npy", lowres_coarse(truth.astype(np.int64), 2, 8)[1])
    results = {}
    for name, extra in (("sharpened", ()), ("as_given", ("--no-sharpen-lowres",))):
        result = _refine(images, masks, tmp_path / name, "--save-probs", *extra)
        assert result.exit_code == 0, result.output
        results[name] = np.load(tmp_path / name / "a.npy").astype(np.float32)[1]
    assert np.abs(results["sharpened"] - results["as_given"]).max() > 0.2  # (quality: README, on real masks)
