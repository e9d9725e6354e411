"""The SPN refinement network: a guidance CNN predicts propagation gates; the coarse
probabilities are propagated along them.

Class-agnostic by design: the guidance sees the image and label-free summaries of the
coarse mask (top-1 and top-2 probability, normalized entropy, label edges), and one set
of gates is shared by every class channel. So one checkpoint refines any label set.
A refiner made for one label set (``classes``) may also let the guidance see the class probabilities
(``class_guidance``: which class is where, e.g. that poles are thin and upright) and/or correct them with a
class head (``class_head``). Optionally the guidance also predicts a per-pixel power that sharpens the coarse
input before propagation (``sharpen``: helps masks that are merely low-resolution; models/README.md), and/or a
per-pixel boost of the coarse map's runner-up class after propagation (``promote_second``: propagation moves a
class but cannot create one; a thin object a network ranked second can win where the image shows it), and/or a
per-pixel mix of the refined map over a small window (``neighbour_pick``: which side of a boundary a pixel belongs
to, learned for the loss).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..propagation import DIRECTIONS, normalize_gates, propagate

IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)
MASK_FEATURES = 4
EPS = 1e-6
PROMOTE_OFFSET = -4.0
"""The log-boost of ``promote_second`` is softplus(raw + this): ~0.02 where the raw output is 0 (a new output
channel starts at zero weights), i.e. the model without it."""
PICK_SELF_OFFSET = 4.0
"""Added to the pixel's own logit of ``neighbour_pick``: new output channels at zero weights leave e^4 / (e^4 + 8)
≈ 0.87 on the pixel itself (reach 1; reach 2: ≈ 0.69)."""


@dataclass(frozen=True)
class RefinerConfig:
    width: int = 24  # channels of the guidance CNN's first stage
    gate_mode: str = "convex"  # see spnrefine.propagation.normalize_gates
    iterations: int = 1  # propagation passes (each with its own gates)
    classes: int | None = None  # None: class-agnostic; K: tied to a K-class label set (see the two below)
    pixel_blend: bool = False  # True: the weight kept on the coarse input is predicted per pixel
    class_head: bool = True  # with classes: a K-class correction head on the refined log-probabilities
    class_guidance: bool = False  # with classes: the guidance also sees the K coarse probabilities
    sharpen: bool = False  # True: the coarse input is sharpened per pixel (a predicted power) before propagation
    promote_second: bool = False  # True: per pixel, the coarse map's second most likely class is raised (a predicted
    # log-boost) after propagation: a thin object a network ranked second can win where the image shows it
    log_class_guidance: bool = False  # with class_guidance: the guidance sees the class probabilities log-scaled
    # (``log_scaled``), so it tells a class a network gave 0.04 from one it gave 0.0001
    neighbour_pick: int = 0  # r > 0: after propagation each pixel takes a learned convex mix of the refined
    # probabilities in its (2r + 1)² window (which side of a boundary it belongs to, learned for the loss)


def neighbour_offsets(reach: int) -> list[tuple[int, int]]:
    """The (dy, dx) offsets of the (2·reach + 1)² window ``neighbour_pick`` mixes, row-major (the middle: (0, 0))."""
    return [(dy, dx) for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1)]


def mask_features(probs: torch.Tensor, counts: torch.Tensor | None = None) -> torch.Tensor:
    """(N, K, H, W) probabilities → (N, 4, H, W) class-agnostic summaries in [0, 1].

    counts: (K,) how many classes each channel stands for (see ``refiner.channels``; None: one each), so a
    compact map gives the features of its full label space."""
    first, labels = probs.max(1, keepdim=True)
    if probs.shape[1] > 1:
        second = probs.scatter(1, labels, -1.0).amax(1, keepdim=True)
    else:
        second = torch.zeros_like(first)
    terms = probs * torch.log(probs.clamp(min=torch.finfo(probs.dtype).tiny))  # p·log p (0 at p = 0), negated below
    if counts is None:
        entropy = terms.sum(1, keepdim=True) / -math.log(max(probs.shape[1], 2))
    else:
        shared = counts[labels] > 1  # the best channel stands for several classes: the second best ties it
        second = torch.where(shared, first, second)
        weights = counts.to(probs.dtype).view(1, -1, 1, 1)
        entropy = (terms * weights).sum(1, keepdim=True) / -math.log(max(int(counts.sum()), 2))
    edges = torch.zeros_like(first)
    edges[:, :, 1:] += labels[:, :, 1:] != labels[:, :, :-1]
    edges[:, :, :, 1:] += labels[:, :, :, 1:] != labels[:, :, :, :-1]
    return torch.cat([first, second, entropy, edges.clamp(max=1)], dim=1)


LOG_FLOOR = 1e-4
"""``log_scaled`` maps probabilities from this floor up to 1 onto [0, 1]."""


def log_scaled(probs: torch.Tensor) -> torch.Tensor:
    """(N, K, H, W) probabilities → 1 + log(max(p, LOG_FLOOR)) / log(1 / LOG_FLOOR), in [0, 1]: 1 at p = 1, 0 at
    p ≤ 1e-4, 0.64 at p = 0.037 (where a plain probability input is near 0)."""
    return 1 + torch.log(probs.clamp(min=LOG_FLOOR)) / -math.log(LOG_FLOOR)


def sharpened(probs: torch.Tensor, log_power: torch.Tensor, counts: torch.Tensor | None = None) -> torch.Tensor:
    """(N, K, H, W) probabilities raised to the per-pixel power exp(log_power) (N, 1, H, W) and renormalized
    (power 1: unchanged; > 1: sharper, e.g. a bilinear ramp of an upsampled mask becomes a step). counts: (K,)
    as in ``mask_features``: a channel standing for n classes holds n classes of p / n each."""
    power = log_power.exp()
    logits = power * torch.log(probs + EPS)
    if counts is not None:
        logits = logits + (1 - power) * torch.log(counts.to(probs.dtype)).view(1, -1, 1, 1)
    return torch.softmax(logits, 1)


def _conv(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


@torch.no_grad()
def fold_batchnorm(module: nn.Module) -> nn.Module:
    """For inference: merge each conv → BatchNorm pair of ``_conv`` into the conv (in place)."""
    for block in module.modules():
        if isinstance(block, nn.Sequential) and len(block) == 3 and isinstance(block[1], nn.BatchNorm2d):
            conv, bn = block[0], block[1]
            scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            conv.weight.mul_(scale.view(-1, 1, 1, 1))
            bias = bn.bias - bn.running_mean * scale
            conv.bias = nn.Parameter(bias if conv.bias is None else conv.bias * scale + bias)
            block[1] = nn.Identity()
    return module


class Guidance(nn.Module):
    """Small U-shaped CNN: (N, 3 + 4, H, W) → (N, outputs, H, W) raw gate values."""

    STRIDE = 8  # of its coarsest level: windows of an image aligned to it see the same sampling grid

    def __init__(self, width: int, outputs: int, class_inputs: int = 0):
        super().__init__()
        c_in = 3 + MASK_FEATURES + class_inputs
        self.full = _conv(c_in, width // 2)
        self.down1 = nn.Sequential(_conv(c_in, width, stride=2), _conv(width, width))
        self.down2 = nn.Sequential(_conv(width, 2 * width, stride=2), _conv(2 * width, 2 * width))
        self.down3 = nn.Sequential(_conv(2 * width, 2 * width, stride=2), _conv(2 * width, 2 * width, dilation=2))
        self.up2 = _conv(4 * width, 2 * width)
        self.up1 = _conv(3 * width, width)
        self.head = nn.Sequential(_conv(width + width // 2, width), nn.Conv2d(width, outputs, 3, padding=1))

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """features: (N, 3 + 4 + class_inputs, H, W) → (raw gate values, the full-resolution decoder features)."""
        context = F.interpolate(self.context(features), size=features.shape[2:], mode="bilinear", align_corners=False)
        return self.detail(features, context)

    def context(self, features: torch.Tensor) -> torch.Tensor:
        """The levels below full resolution (most of the reach, about half the work): (N, C_in, H, W) features
        → (N, width, ⌈H/2⌉, ⌈W/2⌉) decoder output at half resolution."""
        d1 = self.down1(features)
        d2 = self.down2(d1)
        d3 = self.down3(d2)
        u2 = self.up2(torch.cat([d2, F.interpolate(d3, size=d2.shape[2:], mode="bilinear", align_corners=False)], 1))
        return self.up1(torch.cat([d1, F.interpolate(u2, size=d1.shape[2:], mode="bilinear", align_corners=False)], 1))

    def detail(self, features: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The full-resolution layers (each output pixel reads 3 px around it): (N, C_in, H, W) features and their
        (N, width, H, W) upsampled ``context`` → (raw gate values, the full-resolution decoder features)."""
        decoded = torch.cat([self.full(features), context], 1)
        return self.head(decoded), decoded

    def piece(self, features: torch.Tensor, context: torch.Tensor, rows: slice, cols: slice
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """``forward`` on ``rows`` × ``cols`` of a window (starts even) from the window's (N, C_in, H, W) features
        and their ``context``: (N, S, h, w) raw gate values and (N, C, h, w) decoder features, as the whole window
        gives them but within 3 px of the piece's inner sides (and where H or W is odd: there the context is
        upsampled ×2 exactly, not to the window's size)."""
        half = [slice(max(0, part.start // 2 - 1), min(length, -(-part.stop // 2) + 1))
                for part, length in zip((rows, cols), context.shape[2:])]
        upsampled = F.interpolate(context[:, :, half[0], half[1]], scale_factor=2, mode="bilinear",
                                  align_corners=False)
        upsampled = upsampled[:, :, rows.start - 2 * half[0].start:rows.stop - 2 * half[0].start,
                              cols.start - 2 * half[1].start:cols.stop - 2 * half[1].start]
        return self.detail(features[:, :, rows, cols], upsampled)


class SpnRefiner(nn.Module):
    """Refine (N, K, H, W) coarse probabilities given (N, 3, H, W) images in [0, 1]."""

    def __init__(self, config: RefinerConfig = RefinerConfig()):
        super().__init__()
        self.config = config
        if config.class_guidance and not config.classes:
            raise ValueError("class_guidance needs classes (the label set the guidance sees)")
        self.guidance = Guidance(config.width, self.steering_channels, config.classes if config.class_guidance else 0)
        if config.sharpen:  # the log-power channel (last) starts at 0: the input as it is
            nn.init.zeros_(self.guidance.head[1].weight[-1])
            nn.init.zeros_(self.guidance.head[1].bias[-1])
        self.guidance.to(memory_format=torch.channels_last)
        self.keep_coarse = nn.Parameter(torch.tensor(-2.0))  # logit of the weight left on the coarse input
        if self.needs_features:
            self.correction = nn.Sequential(_conv(self.feature_channels + config.classes, config.width),
                                            nn.Conv2d(config.width, config.classes, 1))
            nn.init.zeros_(self.correction[1].weight)
            nn.init.zeros_(self.correction[1].bias)

    def config_dict(self) -> dict:
        return asdict(self.config)

    def forward(self, image: torch.Tensor, coarse: torch.Tensor, counts: torch.Tensor | None = None,
                log: bool = True) -> torch.Tensor:
        """image: (N, 3, H, W) RGB in [0, 1]; coarse: (N, K, H, W) probabilities; counts: (K,) how many
        classes each channel stands for (a compact map, ``refiner.channels``; None: one each).
        Returns (N, K, H, W) log-probabilities (for the loss), or probabilities if not ``log`` (inference:
        two passes over K×H×W fewer)."""
        steering, decoded = self.steering(image, coarse, counts)
        return self.finished(coarse, steering, decoded, counts, log)

    @property
    def gate_channels(self) -> int:
        """Gate channels of the steering: (pass, direction, neighbour), iterations·12."""
        return self.config.iterations * len(DIRECTIONS) * 3

    @property
    def steering_channels(self) -> int:
        """S of ``steering``: the gates, then the blend logit (``pixel_blend``), the raw boost of the second class
        (``promote_second``), the (2r + 1)² logits of ``neighbour_pick``, then the log-power (``sharpen``)."""
        config = self.config
        return (self.gate_channels + int(config.pixel_blend) + int(config.promote_second)
                + self.pick_channels + int(config.sharpen))

    @property
    def pick_channels(self) -> int:
        """Steering channels of ``neighbour_pick``: one logit per offset of its window (0 without it)."""
        reach = int(self.config.neighbour_pick)
        return len(neighbour_offsets(reach)) if reach else 0

    @property
    def feature_channels(self) -> int:
        """C of the decoder features ``steering`` returns."""
        return self.config.width + self.config.width // 2

    @property
    def needs_features(self) -> bool:
        """Whether ``finished`` reads the decoder features (the class head does)."""
        return bool(self.config.classes and self.config.class_head)

    def start_scans_inside(self, steering: torch.Tensor, directions: list[str]) -> None:
        """Make each scan of ``directions`` start at the window's first line from the input there (its gates 0),
        as if the lines before it carried the same values, instead of from the zeros outside: those drain the
        edge of a window cut from inside an image where gates carry far (the guidance keeps its gates small at
        the image's own edges only). steering: (N, S, h, w) of that window, changed in place."""
        first = {"lr": (slice(None), 0), "rl": (slice(None), -1), "tb": (0, slice(None)), "bt": (-1, slice(None))}
        for i in range(self.config.iterations):
            for direction in directions:
                channel = 3 * (i * len(DIRECTIONS) + DIRECTIONS.index(direction))
                steering[(slice(None), slice(channel, channel + 3), *first[direction])] = 0

    def finished(self, coarse: torch.Tensor, steering: torch.Tensor, decoded: torch.Tensor | None,
                 counts: torch.Tensor | None = None, log: bool = True) -> torch.Tensor:
        """The second half of ``forward``: (N, K, H, W) coarse probabilities, their (N, S, H, W) ``steering``
        and (N, C, H, W) decoder features (read only if ``needs_features``) → (N, K, H, W) log-probabilities,
        or probabilities if not ``log``."""
        probs = self.propagated(coarse, steering, counts)
        if self.config.promote_second:
            probs = self.promoted(probs, coarse, steering)
        if self.config.neighbour_pick:
            probs = self.picked(probs, steering)
        if not self.needs_features:
            return torch.log(probs + EPS) if log else probs
        self._check_label_set(coarse.shape[1], counts)
        log_probs = torch.log(probs + EPS)
        head_input = torch.cat([decoded, log_probs.contiguous(memory_format=torch.channels_last)], 1)
        log_probs = torch.log_softmax(log_probs + self.correction(head_input), 1)
        return log_probs if log else log_probs.exp()

    def steering(self, image: torch.Tensor, coarse: torch.Tensor, counts: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """What the guidance decides per pixel, ready for ``propagated``: (N, S, H, W) with S = iterations·12
        normalized gates (pass, direction, neighbour), then the per-pixel blend logit (``pixel_blend``), the raw
        channels of ``promote_second`` and ``neighbour_pick``, and the clamped log-power (``sharpen``); plus the
        (N, C, H, W) full-resolution decoder features.
        Each pixel's steering depends on its neighbourhood only, so a large image can be steered window by
        window and propagated in other windows (``Refiner.refine_channels``)."""
        raw, decoded = self.guidance(self.guidance_input(image, coarse, counts))
        return self.steering_from(raw), decoded.float()

    def guidance_input(self, image: torch.Tensor, coarse: torch.Tensor, counts: torch.Tensor | None = None
                       ) -> torch.Tensor:
        """What the guidance CNN sees: (N, 3, H, W) image in [0, 1] and (N, K, H, W) coarse probabilities →
        (N, 3 + 4 [+ K], H, W) normalized image, mask features (and the class probabilities, ``class_guidance``),
        channels-last (oneDNN's convolutions run ~30% faster on CPU in this layout), in the guidance's number
        format (float32, or bfloat16 at inference: ``refiner.precision``)."""
        mean = image.new_tensor(IMAGE_MEAN).view(1, 3, 1, 1)
        std = image.new_tensor(IMAGE_STD).view(1, 3, 1, 1)
        inputs = [(image - mean) / std, mask_features(coarse, counts)]
        if self.config.class_guidance:
            self._check_label_set(coarse.shape[1], counts)
            inputs.append(log_scaled(coarse) if self.config.log_class_guidance else coarse)
        return torch.cat(inputs, 1).to(self.guidance.head[1].weight.dtype, memory_format=torch.channels_last)

    def steering_from(self, raw: torch.Tensor) -> torch.Tensor:
        """(N, S, H, W) raw outputs of the guidance (its dtype and layout) → the steering (float32; gates normalized,
        log-power clamped)."""
        raw = raw.to(torch.float32, memory_format=torch.contiguous_format)  # one copy: the gates' softmax is faster
        n, _, height, width = raw.shape
        gate_count = self.gate_channels
        gates = normalize_gates(raw[:, :gate_count].reshape(n, -1, 3, height, width), mode=self.config.gate_mode,
                                dim=2).reshape(n, gate_count, height, width)
        rest = raw[:, gate_count:]
        if self.config.sharpen:
            rest = torch.cat([rest[:, :-1], rest[:, -1:].clamp(-3.0, 3.0)], 1)
        return torch.cat([gates, rest], 1).contiguous()

    def propagated(self, coarse: torch.Tensor, steering: torch.Tensor, counts: torch.Tensor | None = None
                   ) -> torch.Tensor:
        """(N, K, H, W) coarse probabilities propagated as (N, S, H, W) ``steering`` says → (N, K, H, W)
        probabilities (before any class head)."""
        n, _, height, width = steering.shape
        k = coarse.shape[1]
        gate_count = self.gate_channels
        source = coarse
        if self.config.sharpen:  # the last channel: per-pixel log-power of the coarse input
            source = sharpened(coarse, steering[:, -1:], counts)
        keep_logit = self.keep_coarse
        if self.config.pixel_blend:  # the channel after the gates: per-pixel logit of the coarse weight
            keep_logit = keep_logit + steering[:, gate_count:gate_count + 1]
        gates = steering[:, :gate_count].unflatten(1, (self.config.iterations, len(DIRECTIONS), 3, 1))
        refined = source
        for i in range(self.config.iterations):
            refined = propagate(refined, gates[:, i].expand(-1, -1, -1, k, -1, -1))
        if counts is None:
            total = refined.sum(1, keepdim=True)
        else:
            total = (refined * counts.to(refined.dtype).view(1, -1, 1, 1)).sum(1, keepdim=True)
        refined = refined / total.clamp(min=EPS)
        return torch.lerp(refined, source, torch.sigmoid(keep_logit))  # keep·source + (1 − keep)·refined

    def promoted(self, probs: torch.Tensor, coarse: torch.Tensor, steering: torch.Tensor) -> torch.Tensor:
        """(N, K, H, W) refined probabilities with, per pixel, the (N, K, H, W) coarse map's second most likely
        class raised by the log-boost of the (N, S, H, W) ``steering`` (``promote_second``), renormalized."""
        raw = steering[:, self.gate_channels + int(self.config.pixel_blend)][:, None]
        boost = F.softplus(raw + PROMOTE_OFFSET)
        second = coarse.scatter(1, coarse.argmax(1, keepdim=True), -1.0).argmax(1, keepdim=True)
        logits = torch.log(probs + EPS).scatter_add(1, second, boost)
        return torch.softmax(logits, 1)

    def picked(self, probs: torch.Tensor, steering: torch.Tensor) -> torch.Tensor:
        """(N, K, H, W) refined probabilities, each pixel replaced by a convex mix of them in its window
        (``neighbour_offsets``; outside the image: the nearest pixel's), with the weights a softmax of as many channels
        of the (N, S, H, W) ``steering`` (``neighbour_pick``)."""
        reach = int(self.config.neighbour_pick)
        offsets = neighbour_offsets(reach)
        start = self.gate_channels + int(self.config.pixel_blend) + int(self.config.promote_second)
        logits = steering[:, start:start + self.pick_channels].clone()
        logits[:, offsets.index((0, 0))] += PICK_SELF_OFFSET
        weights = torch.softmax(logits, 1)
        height, width = probs.shape[2:]
        padded = F.pad(probs, (reach,) * 4, mode="replicate")
        mixed = torch.zeros_like(probs)
        for i, (dy, dx) in enumerate(offsets):
            mixed += weights[:, i:i + 1] * padded[:, :, reach + dy:reach + dy + height, reach + dx:reach + dx + width]
        return mixed

    def _check_label_set(self, channels: int, counts: torch.Tensor | None) -> None:
        """A refiner tied to a label set takes exactly its K channels, none of them shared."""
        if counts is not None and bool((counts > 1).any()):
            raise ValueError("a refiner tied to a label set needs every channel of it")
        if channels != self.config.classes:
            raise ValueError(f"this refiner is made for {self.config.classes} classes; got {channels} channels")
