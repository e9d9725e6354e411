"""``Refiner``: load a refinement checkpoint and refine probabilities (the API behind the CLI)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from ..allocation import reuse_large_allocations
from ..denormals import zero_subnormal_weights
from ..determinism import pin_pointwise_convolutions
from ..errors import SpnrefineError
from ..io.checkpoints import load_weights
from ..io.coarse import resize_maps
from ..labels import class_labels
from .channels import ACTIVE_THRESHOLD, LabelChannels, ProbabilityChannels
from .network import Guidance, SpnRefiner, fold_batchnorm
from .precision import guidance_dtype
from .softness import is_certain, lowres_power, unblocked
from .thin_guard import guard
from .tiles import (
    DETAIL_MARGIN,
    DETAIL_SPAN,
    MARGIN,
    STEERING_MARGIN,
    STEERING_SPAN,
    TILE,
    detail_pieces,
    spans_with_context,
    steering_windows,
)
from .weights import DEFAULT, SHIPPED, certain_model_from_payload, model_from_payload, shipped_checkpoint

MAX_UPSCALE = 4.0
"""The largest ``Refiner.upscale`` (the refiner's time grows with its square)."""
HALF_RESOLUTION_BLOCK = 16
"""A blocky label mask with blocks of at least this many pixels (their blur capped at ``io.coarse.MAX_BLOCK_BLUR``)
is refined at half resolution first: the refiner reaches ~8 px (model card)."""


class Refiner:
    """``Refiner.load(path).refine(image, probs)``: refined (K, H, W) probabilities.

    ``model`` refines uncertain probability maps (a network's soft output); ``certain_model`` (same network, other
    weights; default ``model``) label masks and probability maps certain at many pixels
    (``refiner.softness.is_certain``: upsampled hard masks, confident segmenters). ``precision``: the guidance
    CNN's number format (``refiner.precision``; ``auto``: bfloat16 on a CPU that has it natively). ``mirror``: the
    mirror image is refined too and the two refined maps averaged (twice the time); ``upscale``: the image and its
    coarse map are refined at this many times their size and the result resized back (upscale² the time;
    ``refine_channels``). ``thin_guard``: where a probability map draws a thin region surely, its class is kept
    (``refiner.thin_guard``)."""

    def __init__(self, model: SpnRefiner, device: torch.device | str = "cpu", sharpen_lowres: bool = True,
                 certain_model: SpnRefiner | None = None, precision: str = "auto", mirror: bool = False,
                 upscale: float = 1.0, thin_guard: bool = True):
        if not 1 <= upscale <= MAX_UPSCALE:
            raise SpnrefineError(f"upscale {upscale:g}: must lie between 1 and {MAX_UPSCALE:g}")
        self.device = torch.device(device)
        self.mirror = mirror
        self.upscale = upscale
        self.thin_guard = thin_guard
        self.sharpen_lowres = sharpen_lowres  # probability maps that are upsampled hard masks: sharpened first
        self.guidance_dtype = guidance_dtype(precision, self.device)
        self.model = self._prepared(model)
        self.certain_model = self.model if certain_model is None else self._prepared(certain_model)
        reuse_large_allocations()  # tiles of large images: buffers reused, not paged in afresh (~10% faster)

    def _prepared(self, model: SpnRefiner) -> SpnRefiner:
        """``model`` for inference on this device: BatchNorm folded, the guidance in ``guidance_dtype``; on CPU the
        same bits on any number of threads."""
        model = fold_batchnorm(model.eval()).to(self.device)
        model.guidance.to(self.guidance_dtype)
        zero_subnormal_weights(model)  # none in the shipped refiners; a user's may have some (spnrefine.denormals)
        if self.device.type == "cpu":
            pin_pointwise_convolutions(model)
        return model

    @classmethod
    def load(cls, checkpoint: str | Path | None = None, device: torch.device | str = "cpu",
             sharpen_lowres: bool = True, precision: str = "auto", mirror: bool = False,
             upscale: float = 1.0, thin_guard: bool = True) -> Refiner:
        """A shipped checkpoint by name (``SHIPPED``; sha256-verified) or a checkpoint file. ``sharpen_lowres``:
        probability maps that are upsampled hard masks are sharpened before refinement (``refiner.softness``);
        ``precision``: the guidance's number format (``refiner.precision``); ``mirror``, ``upscale``, ``thin_guard``:
        see the class."""
        name = str(checkpoint) if checkpoint is not None else DEFAULT
        if name in SHIPPED:
            path, expected = shipped_checkpoint(name)
            if not path.is_file():
                raise SpnrefineError(f"the shipped checkpoint {path} is missing; reinstall spnrefine")
        else:
            path, expected = Path(checkpoint), None
            if not path.suffix and not path.exists():
                raise SpnrefineError(f"{name}: neither a shipped refiner ({', '.join(SHIPPED)}) nor a checkpoint file")
        payload = load_weights(path, expected)
        return cls(model_from_payload(payload, path), device, sharpen_lowres, certain_model_from_payload(payload, path),
                   precision, mirror, upscale, thin_guard)

    def check_classes(self, num_classes: int, source: str) -> None:
        """A checkpoint tied to a label set refines exactly its K; say so before any work starts."""
        made_for = self.model.config.classes
        if made_for is not None and made_for != num_classes:
            raise SpnrefineError(f"{source} is made for {made_for} classes, but the masks have {num_classes}; "
                                 "use --checkpoint agnostic (any number of classes)")

    @torch.inference_mode()
    def refine_batch(self, images: list[np.ndarray], probabilities: torch.Tensor) -> torch.Tensor:
        """Same-size (H, W, 3) uint8 RGB images and (N, K, H, W) probabilities → refined (N, K, H, W), every
        channel computed (no compaction).

        On CPU one image at a time, in bands when large (``refine``): at 480×360 that is 1.7× faster per image
        than a batch of 4, whose full-resolution buffers no longer fit in cache (same math; on CamVid even
        the same bits), and the result of an image no longer depends on which images share its batch.
        On a GPU, images that fit one tile go as one batch (the thin guard then runs per image on the CPU); larger
        ones (and ``mirror``, ``upscale``) one at a time, in bands.
        """
        one_at_a_time = self.device.type == "cpu" or self.mirror or self.upscale != 1
        if one_at_a_time or max(images[0].shape[:2]) > TILE or self._special(probabilities):
            return torch.stack([torch.from_numpy(self.refine(image, probabilities[i].cpu().numpy(), threshold=0))
                                for i, image in enumerate(images)])
        refined = self._forward(np.stack(images), probabilities, None)
        return self._kept_thin(probabilities, refined) if self.thin_guard else refined

    def _kept_thin(self, probabilities: torch.Tensor, refined: torch.Tensor) -> torch.Tensor:
        """The thin guard on a batch: (N, K, H, W) coarse probabilities and their refinement (every channel) → the
        refinement with each image's sure thin coarse regions kept, on the refinement's device."""
        kept = refined.cpu().numpy().copy()
        for probs, maps in zip(probabilities.cpu().numpy(), kept):
            guard(ProbabilityChannels(np.asarray(probs, np.float32), threshold=0), maps, None)
        return torch.from_numpy(kept).to(refined.device)

    def _special(self, probabilities: torch.Tensor) -> bool:
        """Whether any of (N, K, H, W) probabilities is certain (``certain_model``'s) or to be resampled or sharpened
        (``refiner.softness``)."""
        maps = [p.cpu().numpy() for p in probabilities]
        if self.certain_model is not self.model and any(is_certain(p) for p in maps):
            return True
        return self.sharpen_lowres and any(unblocked(p) is not None or lowres_power(p) != 1 for p in maps)

    def _forward(self, images: np.ndarray, probabilities, counts: torch.Tensor | None) -> torch.Tensor:
        """(N, H, W, 3) uint8 and (N, k, H, W) probabilities → refined (N, k, H, W) on this device."""
        return self.model(self._image(images), self._coarse(probabilities), self._counts(counts), log=False)

    def _image(self, images: np.ndarray) -> torch.Tensor:
        """(N, H, W, 3) uint8 → (N, 3, H, W) float in [0, 1] on this device."""
        return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(255).to(self.device)

    def _coarse(self, probabilities) -> torch.Tensor:
        return torch.as_tensor(probabilities).to(self.device).float()

    def _counts(self, counts: torch.Tensor | None) -> torch.Tensor | None:
        return None if counts is None else counts.to(self.device)

    def refine(self, image: np.ndarray, probabilities: np.ndarray | torch.Tensor,
               threshold: float = ACTIVE_THRESHOLD) -> np.ndarray:
        """One (H, W, 3) uint8 RGB image and (K, H, W) probabilities → refined (K, H, W) float32.

        Channels below ``threshold`` at every pixel share one channel (``refiner.channels``; 0: compute every
        channel); large images go in bands (``refiner.tiles``); a map that is an upsampled hard mask is sharpened
        first unless ``sharpen_lowres`` is off (``refiner.softness``).
        """
        coarse = self.fitting(ProbabilityChannels(np.asarray(probabilities, dtype=np.float32), threshold))
        refined, _ = self.refine_channels(image, coarse, keep_labels=False)
        return coarse.channels.expand(refined)

    def refine_labels(self, image: np.ndarray, labels: np.ndarray, num_classes: int,
                      ignore_index: int | None = None) -> np.ndarray:
        """One (H, W, 3) uint8 RGB image and its (H, W) mask of class ids → refined (K, H, W) float32, as
        ``spnrefine refine`` reads label PNGs (``refiner.channels.LabelChannels``: hard labels blurred; a blocky
        mask by half a block, and refined at half resolution first when its blocks are large)."""
        coarse = self.fitting(LabelChannels(np.asarray(labels, np.int64), num_classes, ignore_index))
        refined, _ = self.refine_channels(image, coarse, keep_labels=False)
        return coarse.channels.expand(refined)

    def fitting(self, coarse: ProbabilityChannels | LabelChannels) -> ProbabilityChannels | LabelChannels:
        """The coarse map as this checkpoint takes it: one tied to a label set needs every channel of it."""
        if not (self.model.config.classes and coarse.channels.compact):
            return coarse
        height, width = coarse.shape
        return ProbabilityChannels(coarse.channels.expand(coarse.window(slice(0, height), slice(0, width))), 0,
                                   hard=coarse.hard)

    @torch.inference_mode()
    def refine_channels(self, image: np.ndarray, coarse: ProbabilityChannels | LabelChannels, tile: int = TILE,
                        margin: int = MARGIN, keep_probabilities: bool = True, keep_labels: bool = True,
                        steering_span: int = STEERING_SPAN) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(H, W, 3) uint8 image and its compact coarse map (``fitting`` this checkpoint) → refined (k, H, W)
        float32 compact probabilities (``coarse.channels`` says which class ids; None unless
        ``keep_probabilities``) and (H, W) class ids of the refined mask (None unless ``keep_labels``).

        A large image is refined in bands of at most ``tile`` rows: steered in windows ``steering_span`` wide,
        then propagated in windows of at most ``tile`` × ``tile`` with ``margin`` pixels of context
        (``refiner.tiles``), so memory stays bounded whatever the image size (it grows with the width only).
        Probability maps that are upsampled hard masks are sharpened first (``sharpen_lowres``, ``refiner.softness``)
        unless ``coarse.power`` is set already; a blocky label mask with blocks of ``HALF_RESOLUTION_BLOCK`` px or
        more is refined at half resolution first. Label masks and certain maps are refined by ``certain_model``.
        With ``upscale`` the image (bilinear) and the prepared coarse map (bilinear) are refined at that many times
        their size, the refined map area-resized back; with ``mirror`` the mirror image is refined too and the two
        maps averaged (labels from the result). Either holds the refined map whole whatever ``keep_probabilities``
        says. With ``thin_guard`` a probability map as given decides which pixels keep their coarse class
        (``refiner.thin_guard``; label masks are not guarded)."""
        height, width = image.shape[:2]
        if coarse.shape != (height, width):
            raise SpnrefineError(f"coarse map of size {coarse.shape[1]}x{coarse.shape[0]} for an image of "
                                 f"{width}x{height}")
        given = coarse
        certain = coarse.hard or (self.certain_model is not self.model and is_certain(coarse.probs))
        if isinstance(coarse, LabelChannels) and coarse.block >= HALF_RESOLUTION_BLOCK:
            coarse = self._refined_at_half_resolution(image, coarse)
        if self.sharpen_lowres and isinstance(coarse, ProbabilityChannels) and coarse.power == 1:
            smooth = unblocked(coarse.probs)
            coarse = coarse if smooth is None else coarse.resampled(smooth)
            coarse = coarse.raised(lowres_power(coarse.probs))
        model = self.certain_model if certain else self.model
        guarded = self.thin_guard and not given.hard  # a label mask carries no certainty to judge by
        keep_winners = keep_labels or (guarded and not keep_probabilities)  # the guard reads either
        if not self.mirror and self.upscale == 1:
            refined, winners = self._refined(model, image, coarse, tile, margin, keep_probabilities, keep_winners,
                                             steering_span)
        else:
            refined, winners = self._refined_resampled(model, image, coarse, tile, margin, keep_winners, steering_span)
        if guarded:
            guard(given, refined, winners)
        labels = coarse.channels.labels(winners) if keep_labels else None
        return refined if keep_probabilities else None, labels

    def _refined_resampled(self, model: SpnRefiner, image: np.ndarray, coarse: ProbabilityChannels | LabelChannels,
                           tile: int, margin: int, keep_winners: bool, steering_span: int
                           ) -> tuple[np.ndarray, np.ndarray | None]:
        """``refine_channels`` with ``upscale`` and/or ``mirror``: the whole (k, H, W) refined map and its (H, W)
        winning channels (None unless ``keep_winners``)."""
        height, width = image.shape[:2]
        if self.upscale != 1:
            image, coarse = upscaled(image, coarse, self.upscale)
        refined, _ = self._refined(model, image, coarse, tile, margin, True, False, steering_span)
        if self.mirror:
            mirrored, _ = self._refined(model, np.ascontiguousarray(image[:, ::-1]), MirroredCoarse(coarse), tile,
                                        margin, True, False, steering_span)
            refined += mirrored[:, :, ::-1]
            refined *= 0.5
        if self.upscale != 1:
            refined = resize_maps(refined, (width, height), cv2.INTER_AREA)
        winners = class_labels(torch.from_numpy(refined)[None])[0].numpy() if keep_winners else None
        return refined, winners

    def _refined(self, model: SpnRefiner, image: np.ndarray, coarse: ProbabilityChannels | LabelChannels | MirroredCoarse,
                 tile: int, margin: int, keep_probabilities: bool, keep_winners: bool, steering_span: int
                 ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``refine_channels`` by ``model`` of a coarse map ready for it (resampled, sharpened), band by band: the
        (k, H, W) refined map (None unless ``keep_probabilities``) and its (H, W) winning channels (None unless
        ``keep_winners``)."""
        height, width = image.shape[:2]
        channels = coarse.channels
        counts = torch.from_numpy(channels.counts) if channels.compact else None
        refined = np.empty((len(channels.ids), height, width), np.float32) if keep_probabilities else None
        winners = None
        if keep_winners:
            winners = np.empty((height, width), np.uint8 if len(channels.ids) <= 256 else np.int32)
        bands = list(spans_with_context(height, tile, margin))
        steering_channels = model.steering_channels
        steered = torch.empty((1, steering_channels + (model.feature_channels if model.needs_features else 0),
                               max(p.stop - p.start for _, p in bands), width), device=self.device)
        steered_rows = slice(0, 0)  # the rows whose steering (and decoder features) ``steered`` holds, at its top
        for rows, padded_rows in bands:
            fresh = slice(steered_rows.stop, padded_rows.stop)  # rows to steer: the band's, not steered yet
            windows = list(steering_windows(height, width, fresh, steering_span, STEERING_MARGIN, Guidance.STRIDE))
            steered_span = windows[0][1][0] if windows else padded_rows  # the rows the steering windows read
            band_rows = slice(min(padded_rows.start, steered_span.start), max(padded_rows.stop, steered_span.stop))
            band = CoarseBand(coarse.band(band_rows), band_rows.start)  # made once per band
            kept = steered_rows.stop - padded_rows.start  # rows this band shares with the one before
            first = padded_rows.start - steered_rows.start
            steered[:, :, :kept] = steered[:, :, first:first + kept].clone()
            self._steer(model, image, band, counts, windows,
                        out=steered[:, :, kept:padded_rows.stop - padded_rows.start])
            steered_rows = padded_rows
            for cols, padded_cols in spans_with_context(width, tile, margin):
                steering = steered[:, :, :padded_rows.stop - padded_rows.start, padded_cols].contiguous()
                inside = {"tb": padded_rows.start > 0, "bt": padded_rows.stop < height,
                          "lr": padded_cols.start > 0, "rl": padded_cols.stop < width}
                model.start_scans_inside(steering, [d for d, i in inside.items() if i])
                window = model.finished(self._coarse(band.window(padded_rows, padded_cols)[None]),
                                        steering[:, :steering_channels], steering[:, steering_channels:],
                                        self._counts(counts), log=False)
                window = window[:, :, rows.start - padded_rows.start:rows.stop - padded_rows.start,
                                cols.start - padded_cols.start:cols.stop - padded_cols.start]
                if winners is not None:
                    winners[rows, cols] = class_labels(window)[0].cpu().numpy()
                if refined is not None:
                    refined[:, rows, cols] = window[0].cpu().numpy()
        return refined, winners

    def _refined_at_half_resolution(self, image: np.ndarray, coarse: LabelChannels
                                    ) -> ProbabilityChannels | LabelChannels:
        """A blocky mask whose blocks are larger than the refiner reaches, refined at half resolution first (its
        blocks half as large; recursively), upsampled bilinearly: the coarse map of the full-resolution pass.
        Unchanged if a class would not survive halving."""
        height, width = coarse.shape
        size = (width // 2, height // 2)
        labels = cv2.resize(coarse.labels.astype(np.int32), size, interpolation=cv2.INTER_NEAREST)
        half = LabelChannels(labels.astype(np.int64), coarse.num_classes, coarse.ignore_index)
        if not (np.array_equal(half.channels.ids, coarse.channels.ids)
                and np.array_equal(half.channels.counts, coarse.channels.counts)):
            return coarse
        refined, _ = self.refine_channels(cv2.resize(image, size, interpolation=cv2.INTER_AREA), half,
                                          keep_labels=False)
        upsampled = resize_maps(refined, (width, height))
        return ProbabilityChannels.of_compact(upsampled, coarse.channels, hard=True)

    def _steer(self, model: SpnRefiner, image: np.ndarray, coarse: CoarseBand, counts: torch.Tensor | None,
               windows: list[tuple[tuple[slice, slice], tuple[slice, slice]]], out: torch.Tensor) -> None:
        """Write ``model``'s steering of the (core, padded) ``windows`` (``refiner.tiles.steering_windows`` of some
        rows) into ``out`` (1, S [+ C], h, W), the rows of their cores (and the decoder features if the model needs
        them). A window's half-resolution levels run once, its full-resolution layers in pieces
        (``refiner.tiles.detail_pieces``)."""
        guidance = model.guidance
        for core, padded in windows:
            features = model.guidance_input(self._image(image[padded][None]),
                                            self._coarse(coarse.window(*padded)[None]), self._counts(counts))
            if core == padded:  # the window is the whole image: the network's own forward
                whole = tuple(slice(0, c.stop - c.start) for c in core)
                pieces = [(whole, whole, guidance(features))]
            else:  # the reach once per window, the full-resolution layers piece by piece
                context = guidance.context(features)
                pieces = ((piece_core, piece, guidance.piece(features, context, *piece))
                          for piece_core, piece in detail_pieces(core, padded, DETAIL_SPAN, DETAIL_MARGIN))
            for piece_core, piece, (raw, decoded) in pieces:  # piece_core and piece in the window's coordinates
                steering = model.steering_from(raw)
                if model.needs_features:
                    steering = torch.cat([steering, decoded.float()], 1)
                inner = tuple(slice(c.start - p.start, c.stop - p.start) for c, p in zip(piece_core, piece))
                rows, cols = (slice(w.start + c.start, w.start + c.stop) for w, c in zip(padded, piece_core))
                out[:, :, rows.start - core[0].start:rows.stop - core[0].start, cols] = steering[(..., *inner)]


def upscaled(image: np.ndarray, coarse: ProbabilityChannels | LabelChannels, factor: float
             ) -> tuple[np.ndarray, ProbabilityChannels]:
    """(H, W, 3) uint8 image and its prepared coarse map → both ``factor`` times as large (bilinear; the map's
    compact (k, H, W) probabilities made whole first, so a label mask's blur and a sharpening power are kept)."""
    height, width = image.shape[:2]
    size = (round(width * factor), round(height * factor))
    larger = resize_maps(np.asarray(coarse.band(slice(0, height)), np.float32), size)
    return (cv2.resize(image, size, interpolation=cv2.INTER_LINEAR),
            ProbabilityChannels.of_compact(larger, coarse.channels, hard=coarse.hard))


class MirroredCoarse:
    """A coarse map's mirror image (columns reversed), handing out bands as the map does."""

    def __init__(self, coarse: ProbabilityChannels | LabelChannels):
        self.coarse, self.channels = coarse, coarse.channels

    def band(self, rows: slice) -> np.ndarray:
        """(k, h, W) compact probabilities of whole rows, mirrored (a view: ``CoarseBand.window`` copies)."""
        return self.coarse.band(rows)[:, :, ::-1]


class CoarseBand:
    """(k, h, W) coarse probabilities of image rows ``top`` … ``top + h`` (a band), made once and cut into
    windows (a label mask's are blurred: making them per window cost 2–3× the work at 3840×2160)."""

    def __init__(self, probs: np.ndarray, top: int):
        self.probs, self.top = probs, top

    def window(self, rows: slice, cols: slice) -> np.ndarray:
        """(k, h, w) float32 of image ``rows`` × ``cols`` (inside the band)."""
        return np.ascontiguousarray(self.probs[:, rows.start - self.top:rows.stop - self.top, cols], np.float32)
