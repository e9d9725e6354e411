"""The training loop: resumable checkpoints, a JSONL log of losses and val mIoU, seeded and deterministic."""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..errors import SpnrefineError
from ..evaluation.metrics import SegmentationMetrics
from ..io.checkpoints import load_weights, save_weights
from ..propagation import DIRECTIONS
from ..refiner.network import RefinerConfig, SpnRefiner
from ..refiner.weights import checkpoint_payload
from .data import IGNORE, Sample, SampleCache, draw_batch, random_crops
from .degrade import same_size


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1000
    batch_size: int = 8
    crop: int = 192
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    eval_every: int = 100
    width: int = 24
    classes: int | None = None  # a class-specific correction head for this many classes
    hard_fraction: float = 0.0  # share of coarse inputs given as hard labels
    pixel_blend: bool = False  # the guidance also predicts, per pixel, how much of the coarse input to keep
    head_labels: str | None = None  # the label set of the class head (recorded in the checkpoint)
    init: str | None = None  # start from this checkpoint's weights (those that fit; a new class head starts at 0)
    class_balance: float = 0.0  # weigh each pixel by its class's share of its crop to the power -class_balance
    iterations: int = 1  # propagation passes, each with its own gates
    class_head: bool = True  # with classes: a correction head (else the classes only feed class_guidance)
    class_guidance: bool = False  # with classes: the guidance also sees the coarse probabilities
    log_class_guidance: bool = False  # with class_guidance: those probabilities log-scaled (refiner.network.log_scaled)
    sharpen: bool = False  # the guidance also predicts, per pixel, a power that sharpens the coarse input
    promote_second: bool = False  # the guidance also predicts, per pixel, a boost of the coarse map's second class
    neighbour_pick: int = 0  # r > 0: the guidance also predicts a mix of the refined map in each (2r + 1)² window
    lovasz: float = 0.0  # weight of the Lovász-softmax loss (a surrogate of 1 − IoU per class) added to the NLL
    balance_coarse: bool = False  # with class_balance: a pixel also weighs as much as its coarse label's share says
    balance_synthesized: bool = True  # with balance_coarse: on batches of synthesized coarse maps too (else a network's)
    false_blob_margin: int | None = None  # with balance_coarse: only pixels this far (px) from their coarse label's truth
    temper_network: float = 1.0  # > 1: each network map (from a file) at a temperature in [1/this, this], log-uniform
    zoom: float = 1.0  # > 1: each crop at a scale drawn log-uniformly from [1/zoom, zoom] (data.random_crops)
    image_degradation: str | None = None  # mild / strong: half the crops' images degraded at their size (guidance only)


@torch.no_grad()
def evaluate(model: SpnRefiner, cache: SampleCache, samples: list[Sample]):
    """mIoU (%) of the coarse input and of the refinement on whole images of one label space
    (a void channel at the ignore index is not scored)."""
    model.eval()
    space = samples[0].labels
    classes = cache.load(samples[0])[4]
    if space.ignore_index is not None and space.ignore_index < classes:
        classes = space.ignore_index
    coarse_metrics = SegmentationMetrics(classes, IGNORE, boundary=False)
    refined_metrics = SegmentationMetrics(classes, IGNORE, boundary=False)
    rng = np.random.default_rng(12345)
    for sample in samples:
        image, mask, coarse = cache.coarse_for(sample, rng)
        image_t = torch.from_numpy(image.transpose(2, 0, 1).copy()).float().div(255)[None]
        coarse_t = torch.from_numpy(coarse)[None]
        refined = model(image_t, coarse_t)[0]
        coarse_metrics.update(coarse.argmax(0), mask)
        refined_metrics.update(refined.argmax(0).numpy(), mask)
    model.train()
    return coarse_metrics.summary()["miou"], refined_metrics.summary()["miou"]


def balanced_nll(log_probs: torch.Tensor, targets: torch.Tensor, power: float,
                 coarse_labels: torch.Tensor | None = None, margin: int | None = None) -> torch.Tensor:
    """NLL where each pixel weighs (share of its class in its own crop) ** -power, normalized to mean 1.

    log_probs (B, K, H, W), targets (B, H, W) with IGNORE. Shares are counted per crop, so the weights
    need no label set (present-class ids of different images are never mixed). power 0: plain NLL.
    coarse_labels (B, H, W): the coarse argmax; a pixel then weighs the larger of its true class's weight and
    its coarse label's (that label's share of the crop's coarse map): a small class drawn where it is not (a
    false blob) counts as much as one missed, so the refiner learns to remove a small class as well as grow it.
    margin: the coarse label's weight only where that class is truly nowhere within ``margin`` px (a blob, not
    the over-wide edge of a thin object, which growing and shrinking trade evenly).
    """
    loss = F.nll_loss(log_probs, targets, ignore_index=IGNORE, reduction="none")
    valid = targets != IGNORE
    if not valid.any():
        return loss.sum() * 0
    if power == 0:
        return loss[valid].mean()
    far = None
    if coarse_labels is not None and margin is not None:
        far = ~_near_own_class(targets, coarse_labels, log_probs.shape[1], margin)
    weights = torch.zeros_like(loss)
    for b in range(targets.shape[0]):
        if valid[b].any():
            crop_weights = _share_weights(targets[b][valid[b]], power)
            if coarse_labels is not None:
                by_coarse = torch.maximum(crop_weights, _share_weights(coarse_labels[b][valid[b]], power))
                crop_weights = by_coarse if far is None else torch.where(far[b][valid[b]], by_coarse, crop_weights)
            weights[b][valid[b]] = crop_weights
    weights = weights / weights[valid].mean()
    return (loss * weights)[valid].mean()


def _near_own_class(targets: torch.Tensor, labels: torch.Tensor, classes: int, margin: int) -> torch.Tensor:
    """(B, H, W) targets (with IGNORE) and labels in [0, classes) → (B, H, W) bool: some pixel within ``margin``
    px (a square) truly belongs to the pixel's label."""
    truth = F.one_hot(targets.masked_fill(targets == IGNORE, classes), classes + 1)[..., :classes]
    near = F.max_pool2d(truth.permute(0, 3, 1, 2).float(), 2 * margin + 1, stride=1, padding=margin)
    return near.gather(1, labels[:, None]).squeeze(1) > 0


def _share_weights(ids: torch.Tensor, power: float) -> torch.Tensor:
    """(n,) ids → (n,) each id's share of them to the power −``power``."""
    _, inverse, counts = torch.unique(ids, return_inverse=True, return_counts=True)
    return (counts.float() / ids.numel()).pow(-power)[inverse]


def _jaccard_steps(foreground: torch.Tensor) -> torch.Tensor:
    """Of (n,) 0/1 labels sorted by decreasing error: how much 1 − IoU grows as each pixel is counted wrong in
    that order (the gradient of the Lovász extension of the Jaccard loss; Berman et al., CVPR 2018)."""
    total = foreground.sum()
    intersection = total - foreground.cumsum(0)
    union = total + (1 - foreground).cumsum(0)
    jaccard = 1 - intersection / union
    return torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])


def lovasz_softmax(probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Lovász-softmax: the convex surrogate of 1 − IoU, averaged over the classes present in each crop.

    probs (B, K, H, W), targets (B, H, W) with IGNORE. Equals 1 − IoU (per class, mean) for one-hot probs."""
    losses = []
    for b in range(targets.shape[0]):
        valid = targets[b] != IGNORE
        labels, scores = targets[b][valid], probs[b][:, valid]
        for label in labels.unique():
            foreground = (labels == label).to(scores.dtype)
            errors, order = (foreground - scores[label]).abs().sort(descending=True)
            losses.append(errors @ _jaccard_steps(foreground[order]))
    return torch.stack(losses).mean() if losses else probs.sum() * 0


def repeat_gate_outputs(state: dict, iterations: int) -> dict:
    """A one-pass checkpoint's weights for ``iterations`` passes: every pass starts with its gates (the
    guidance's last convolution repeated per pass; the channels after the gates — per-pixel blend, sharpening
    power — stay last, in their order)."""
    gates = len(DIRECTIONS) * 3
    weight, bias = state.get("guidance.head.1.weight"), state.get("guidance.head.1.bias")
    if iterations == 1 or weight is None or weight.shape[0] >= 2 * gates:  # none, or already several passes
        return state
    repeated = {}
    for name, tensor in (("weight", weight), ("bias", bias)):
        repeated[f"guidance.head.1.{name}"] = torch.cat([tensor[:gates]] * iterations + [tensor[gates:]])
    return {**state, **repeated}


def widened(initial: dict, own: dict) -> dict:
    """The tensors of ``initial`` that fit ``own``: equal shapes as they are; a tensor that grew (a
    convolution with more inputs or outputs) gets the old values in its leading slice and zeros elsewhere, so
    new inputs are ignored at the start. Others are left out (they keep their init)."""
    fitting = {}
    for name, tensor in initial.items():
        target = own.get(name)
        if target is None or target.dim() != tensor.dim():
            continue
        if target.shape == tensor.shape:
            fitting[name] = tensor
        elif all(new >= old for new, old in zip(target.shape, tensor.shape)):
            grown = torch.zeros_like(target)
            grown[tuple(slice(0, size) for size in tensor.shape)] = tensor
            fitting[name] = grown
    return fitting


def train(
    samples: list[Sample],
    out_dir: Path,
    config: TrainConfig = TrainConfig(),
    val_samples: list[Sample] | None = None,
    progress: bool = True,
    stop_after: int | None = None,
) -> Path | None:
    """Train (or resume from ``out_dir/last.pt``); returns the final model checkpoint's path, or None
    when ``stop_after`` steps of this call ended it early (last.pt saved: call again to resume)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    model = SpnRefiner(RefinerConfig(width=config.width, classes=config.classes, pixel_blend=config.pixel_blend,
                                     iterations=config.iterations, class_head=config.class_head,
                                     class_guidance=config.class_guidance, sharpen=config.sharpen,
                                     promote_second=config.promote_second, neighbour_pick=config.neighbour_pick,
                                     log_class_guidance=config.log_class_guidance))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, config.steps) / config.steps))
    )
    start = 0
    last = out_dir / "last.pt"
    if config.init and not last.is_file():
        initial = repeat_gate_outputs(load_weights(config.init)["state_dict"], config.iterations)
        model.load_state_dict(widened(initial, model.state_dict()), strict=False)
    if last.is_file():
        state = load_weights(last)
        saved = {**asdict(TrainConfig()), **state["train_config"]}  # fields added since: their defaults
        if saved != asdict(config):
            raise SpnrefineError(f"{last} was made with another training configuration; to resume, repeat its "
                                 "options exactly, or use a new --out folder")
        model.load_state_dict(state["state_dict"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        start = state["step"]
    log = out_dir / "log.jsonl"
    if log.is_file():  # drop records of steps after the checkpoint: they are about to be redone
        kept = [line for line in log.read_text().splitlines() if json.loads(line)["step"] <= start]
        log.write_text("".join(line + "\n" for line in kept))
    cache = SampleCache(min_side=config.crop)
    image_degradation = same_size(config.image_degradation) if config.image_degradation else None
    by_source: dict[int, list[Sample]] = {}
    for sample in samples:
        by_source.setdefault(sample.source, []).append(sample)
    end = config.steps if stop_after is None else min(config.steps, start + stop_after)
    model.train()
    with tqdm(total=config.steps, initial=start, unit="step", disable=not progress, dynamic_ncols=True) as bar:
        for step in range(start, end):
            rng = np.random.default_rng([config.seed, step])  # the same batches whether resumed or not
            batch = draw_batch(samples, by_source, config.batch_size, rng)
            images, coarse, masks = random_crops(cache, batch, config.crop, rng, config.hard_fraction,
                                                  config.temper_network, config.zoom, image_degradation)
            began = time.perf_counter()
            log_probs = model(images, coarse)
            by_coarse = config.balance_coarse and (config.balance_synthesized or batch[0].coarse is not None)
            loss = balanced_nll(log_probs, masks, config.class_balance, coarse.argmax(1) if by_coarse else None,
                                config.false_blob_margin)
            if config.lovasz:
                loss = loss + config.lovasz * lovasz_softmax(log_probs.exp(), masks)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            record = {"step": step + 1, "loss": round(loss.item(), 5), "lr": schedule.get_last_lr()[0],
                      "seconds": round(time.perf_counter() - began, 3)}
            done = step + 1
            if done % config.eval_every == 0 and done < config.steps:
                if val_samples:
                    record["val_coarse_miou"], record["val_miou"] = evaluate(model, cache, val_samples)
                save_weights(last, {**checkpoint_payload(model), "train_config": asdict(config), "step": done,
                             "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict()})
            with open(log, "a") as handle:
                handle.write(json.dumps(record) + "\n")
            bar.set_postfix(loss=record["loss"], **({"val": record["val_miou"]} if "val_miou" in record else {}))
            bar.update(1)
    if end < config.steps:
        save_weights(last, {**checkpoint_payload(model), "train_config": asdict(config), "step": end,
                     "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict()})
        return None
    if val_samples:
        coarse_miou, refined_miou = evaluate(model, cache, val_samples)
        with open(log, "a") as handle:
            handle.write(json.dumps({"step": config.steps, "val_coarse_miou": coarse_miou, "val_miou": refined_miou}) + "\n")
    save_weights(last, {**checkpoint_payload(model), "train_config": asdict(config), "step": config.steps,
                 "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict()})
    final = out_dir / "refiner.pt"
    labels = {"name": config.head_labels, "channels": config.classes} if config.classes else None
    save_weights(final, checkpoint_payload(model, labels, train_config=asdict(config)))
    return final
