"""`spnrefine train`: a few real steps, resumable, deterministic."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from spnrefine.cli import app
from spnrefine.io.checkpoints import load_weights
from spnrefine.io.writers import write_label_png

runner = CliRunner()


def _dataset(folder, count=3):
    rng = np.random.default_rng(0)
    (folder / "images").mkdir(parents=True), (folder / "masks").mkdir()
    for i in range(count):
        labels = np.zeros((40, 48), np.int64)
        labels[8:30, 10 + i:36] = 1 + i % 2
        image = (labels[:, :, None] * 80 + rng.integers(0, 30, (40, 48, 3))).astype(np.uint8)
        Image.fromarray(image).save(folder / "images" / f"f{i}.png")
        write_label_png(folder / "masks" / f"f{i}.png", labels, None)
    return folder / "images", folder / "masks"


def _train(out, images, masks, steps, *extra):
    return runner.invoke(app, ["train", "--out", str(out), "--images", str(images), "--masks", str(masks),
                               "--coarse", "synth", "--list", "all", "--val-images", str(images),
                               "--val-masks", str(masks), "--steps", str(steps), "--batch-size", "2",
                               "--crop", "32", "--num-classes", "3", "--ignore-index", "255",
                               "--eval-every", "2", "-q", *extra])


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path):
    images, masks = _dataset(tmp_path)
    straight = _train(tmp_path / "a", images, masks, 4)
    assert straight.exit_code == 0, straight.output
    stopped = _train(tmp_path / "b", images, masks, 4, "--stop-after", "3")
    assert stopped.exit_code == 0 and "rerun to resume" in stopped.output
    assert not (tmp_path / "b" / "refiner.pt").exists()
    resumed = _train(tmp_path / "b", images, masks, 4)
    assert resumed.exit_code == 0, resumed.output
    a = load_weights(tmp_path / "a" / "refiner.pt")["state_dict"]
    b = load_weights(tmp_path / "b" / "refiner.pt")["state_dict"]
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=0, rtol=0, msg=key)
    for run in ("a", "b"):
        log = [json.loads(line) for line in (tmp_path / run / "log.jsonl").read_text().splitlines()]
        assert [r["step"] for r in log if "loss" in r] == [1, 2, 3, 4]
        assert any("val_miou" in r for r in log)


def test_resuming_with_another_config_is_refused(tmp_path):
    images, masks = _dataset(tmp_path)
    assert _train(tmp_path / "a", images, masks, 2).exit_code == 0
    result = _train(tmp_path / "a", images, masks, 3)
    assert result.exit_code == 1 and "another training configuration" in result.output


def test_class_balanced_loss_is_plain_nll_at_power_zero_and_weighs_rare_classes_up():
    import torch.nn.functional as F

    from spnrefine.training.data import IGNORE
    from spnrefine.training.loop import balanced_nll

    targets = torch.zeros((1, 10, 10), dtype=torch.long)
    targets[0, 0, :2] = 1  # a rare class: 2 of 100 pixels
    targets[0, 9, 9] = IGNORE
    log_probs = torch.log_softmax(torch.zeros((1, 2, 10, 10)), 1).clone()
    log_probs[0, :, 0, :2] = torch.log(torch.tensor([0.9, 0.1]))[:, None]  # the rare pixels are badly wrong
    plain = F.nll_loss(log_probs, targets, ignore_index=IGNORE)
    torch.testing.assert_close(balanced_nll(log_probs, targets, 0.0), plain)
    assert balanced_nll(log_probs, targets, 0.5) > plain  # the wrong rare pixels now weigh more


def test_balancing_by_the_coarse_label_weighs_a_false_blob_of_a_rare_class_up():
    from spnrefine.training.loop import balanced_nll

    targets = torch.zeros((1, 10, 10), dtype=torch.long)
    targets[0, 9, :5] = 1  # the true rare class: 5 pixels, refined right
    coarse_labels = targets.clone()
    coarse_labels[0, 0, :2] = 1  # the coarse map also drew it at 2 pixels of class 0 ...
    log_probs = torch.log_softmax(torch.zeros((1, 2, 10, 10)), 1).clone()
    log_probs[0, :, 9, :5] = torch.log(torch.tensor([0.1, 0.9]))[:, None]
    log_probs[0, :, 0, :2] = torch.log(torch.tensor([0.2, 0.8]))[:, None]  # ... and the refiner kept that blob
    by_truth = balanced_nll(log_probs, targets, 0.5)
    by_both = balanced_nll(log_probs, targets, 0.5, coarse_labels)
    assert by_both > by_truth  # the blob's pixels weigh as a rare class's now
    torch.testing.assert_close(balanced_nll(log_probs, targets, 0.5, targets), by_truth)  # coarse = truth: unchanged


def test_a_false_blob_margin_spares_the_over_wide_edge_of_a_thin_object_but_not_a_blob():
    from spnrefine.training.loop import balanced_nll

    targets = torch.zeros((1, 12, 12), dtype=torch.long)
    targets[0, :, 2] = 1  # a true pole, one pixel wide
    log_probs = torch.log_softmax(torch.randn((1, 2, 12, 12), generator=torch.Generator().manual_seed(0)), 1)
    edge = targets.clone()
    edge[0, :, 3] = 1  # the coarse pole is a pixel too wide
    blob = targets.clone()
    blob[0, 4:6, 9:11] = 1  # the coarse map drew a pole 7–8 px away from the true one
    by_truth = balanced_nll(log_probs, targets, 0.5)
    torch.testing.assert_close(balanced_nll(log_probs, targets, 0.5, edge, margin=2), by_truth)
    assert balanced_nll(log_probs, targets, 0.5, edge) != by_truth  # without a margin the edge weighs as a pole
    log_probs[0, :, 4:6, 9:11] = torch.log(torch.tensor([0.2, 0.8]))[:, None, None]  # the refiner kept the blob
    by_truth = balanced_nll(log_probs, targets, 0.5)
    assert balanced_nll(log_probs, targets, 0.5, blob, margin=2) > by_truth  # its pixels weigh as a pole's
    torch.testing.assert_close(balanced_nll(log_probs, targets, 0.5, blob, margin=8), by_truth)  # all within 8 px


def test_balancing_by_the_coarse_label_can_be_left_off_for_synthesized_coarse_maps(tmp_path):
    """Every batch here is synthesized: with --no-balance-synthesized the coarse labels weigh nothing (the losses of
    a run without --balance-coarse), with the default they do."""
    images, masks = _dataset(tmp_path)
    balance = ["--class-balance", "0.5"]
    runs = {"plain": balance, "network only": [*balance, "--balance-coarse", "--no-balance-synthesized"],
            "all": [*balance, "--balance-coarse"], "blobs": [*balance, "--balance-coarse", "--false-blob-margin", "1"]}
    losses = {}
    for name, extra in runs.items():
        result = _train(tmp_path / name.replace(" ", "_"), images, masks, 3, *extra)
        assert result.exit_code == 0, result.output
        log = (tmp_path / name.replace(" ", "_") / "log.jsonl").read_text().splitlines()
        losses[name] = [json.loads(line)["loss"] for line in log if "loss" in json.loads(line)]
    assert losses["network only"] == losses["plain"]
    assert losses["all"] != losses["plain"]
    assert losses["blobs"] not in (losses["plain"], losses["all"])  # the margin reaches the loss


def test_lovasz_softmax_is_one_minus_iou_for_hard_predictions_and_has_gradients():
    from spnrefine.training.data import IGNORE
    from spnrefine.training.loop import lovasz_softmax

    rng = np.random.default_rng(0)
    targets = torch.from_numpy(rng.integers(0, 3, (2, 9, 11)))
    targets[0, 0] = IGNORE
    predicted = torch.from_numpy(rng.integers(0, 4, (2, 9, 11)))  # class 3: predicted, never present
    one_hot = torch.nn.functional.one_hot(predicted, 4).permute(0, 3, 1, 2).double()
    expected = []
    for b in range(2):
        valid = targets[b] != IGNORE
        for label in targets[b][valid].unique():
            truth, guess = targets[b][valid] == label, predicted[b][valid] == label
            expected.append(1 - (truth & guess).sum().item() / (truth | guess).sum().item())
    assert lovasz_softmax(one_hot, targets).item() == pytest.approx(np.mean(expected))
    assert lovasz_softmax(torch.nn.functional.one_hot(targets.clamp(min=0), 4).permute(0, 3, 1, 2).double(),
                          targets).item() == 0  # right everywhere
    logits = torch.randn(2, 4, 9, 11, dtype=torch.double, requires_grad=True)
    lovasz_softmax(torch.softmax(logits, 1), targets).backward()
    assert logits.grad.abs().sum() > 0


@pytest.mark.parametrize("sharpen", [False, True])
def test_a_two_pass_refiner_starts_every_pass_from_the_one_pass_gates(sharpen):
    from spnrefine.refiner.network import RefinerConfig, SpnRefiner
    from spnrefine.training.loop import repeat_gate_outputs

    one = SpnRefiner(RefinerConfig(pixel_blend=True, sharpen=sharpen)).state_dict()
    two = SpnRefiner(RefinerConfig(pixel_blend=True, sharpen=sharpen, iterations=2))
    state = repeat_gate_outputs(one, 2)
    two.load_state_dict(state)
    weight = two.state_dict()["guidance.head.1.weight"]
    original = one["guidance.head.1.weight"]
    torch.testing.assert_close(weight[:12], original[:12])
    torch.testing.assert_close(weight[12:24], original[:12])
    torch.testing.assert_close(weight[24:], original[12:])  # blend (and sharpening) channels stay last, in order
    assert repeat_gate_outputs(one, 1) is one
    assert repeat_gate_outputs(state, 2) is state  # already two passes


def _trained_like(config, seed=1):
    """A refiner of ``config`` whose BatchNorm statistics are not the identity (as after training)."""
    from spnrefine.refiner.network import SpnRefiner

    torch.manual_seed(seed)
    model = SpnRefiner(config)
    for name, tensor in model.state_dict().items():
        if name.endswith("running_var"):
            tensor.uniform_(0.5, 2.0)
    return model.eval()


@pytest.mark.parametrize("grown", [dict(classes=12, class_head=False, class_guidance=True), dict(sharpen=True)],
                         ids=["class_guidance", "sharpen"])
def test_widened_weights_start_a_grown_refiner_where_the_smaller_one_is(grown):
    """New guidance inputs (the class probabilities) or outputs (the sharpening power) start at zero weight:
    the outputs are the old refiner's (up to the log's epsilon)."""
    from spnrefine.refiner.network import RefinerConfig, SpnRefiner
    from spnrefine.training.loop import widened

    small = _trained_like(RefinerConfig(pixel_blend=True))
    image = torch.rand(1, 3, 40, 56, generator=torch.Generator().manual_seed(0))
    coarse = torch.softmax(3 * torch.randn(1, 12, 40, 56, generator=torch.Generator().manual_seed(1)), 1)
    larger = SpnRefiner(RefinerConfig(pixel_blend=True, **grown)).eval()
    larger.load_state_dict(widened(small.state_dict(), larger.state_dict()), strict=False)
    with torch.no_grad():
        torch.testing.assert_close(larger(image, coarse, log=False), small(image, coarse, log=False), atol=1e-4,
                                   rtol=0)


def test_a_class_guided_refiner_has_its_new_inputs():
    from spnrefine.refiner.network import RefinerConfig, SpnRefiner

    guided = SpnRefiner(RefinerConfig(classes=12, class_head=False, class_guidance=True))
    assert not hasattr(guided, "correction")
    assert guided.guidance.full[0].weight.shape[1] == guided.guidance.down1[0][0].weight.shape[1] == 3 + 4 + 12


def test_class_guidance_needs_its_label_set():
    import pytest

    from spnrefine.refiner.network import RefinerConfig, SpnRefiner

    with pytest.raises(ValueError, match="class_guidance needs classes"):
        SpnRefiner(RefinerConfig(class_guidance=True))
    model = SpnRefiner(RefinerConfig(classes=4, class_head=False, class_guidance=True)).eval()
    with pytest.raises(ValueError, match="made for 4 classes; got 3 channels"):
        model(torch.rand(1, 3, 8, 8), torch.softmax(torch.randn(1, 3, 8, 8), 1))


def test_train_takes_the_new_refiner_options(tmp_path):
    images, masks = _dataset(tmp_path / "data")
    result = _train(tmp_path / "run", images, masks, 2, "--head-classes", "3", "--no-class-head", "--class-guidance",
                    "--log-class-guidance", "--sharpen", "--temper-network", "1.5", "--width", "16")
    assert result.exit_code == 0, result.output
    config = load_weights(tmp_path / "run" / "refiner.pt")["config"]
    assert config["classes"] == 3 and not config["class_head"] and config["class_guidance"] and config["sharpen"]
    assert config["width"] == 16
    assert config["log_class_guidance"]
    assert load_weights(tmp_path / "run" / "last.pt")["train_config"]["temper_network"] == 1.5
