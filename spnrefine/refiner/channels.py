"""The channels refinement works on: the classes in the image, not the whole label space.

A 150-class label mask of a street scene holds a dozen classes; a probability map of 150 channels carries
mass in a dozen. The others are *inactive*: they become one shared channel that stands for each of them
(``counts`` says for how many), so the cost follows the image, and the refined result is mapped back to
the original ids.

* Label masks (:class:`LabelChannels`): every absent class has the same coarse probability at every pixel,
  so sharing one channel is exact — the refined probabilities equal the full computation's up to float
  rounding (the refiner treats every channel alike and weighs the shared one by ``counts``).
* Probability maps (:class:`ProbabilityChannels`): a channel is inactive when its probability stays below
  ``ACTIVE_THRESHOLD`` at every pixel; the inactive channels are replaced by their mean. Refined
  probabilities then differ from the full computation by less than the threshold (tests/refiner/test_channels.py
  measures it on real probabilities).

Both hand out windows (tiles) on demand, so a large image never needs its (K, H, W) array in memory
at once (label masks) or a second copy of it (probability maps).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import cv2
import numpy as np

from ..io.coarse import HARD_LABEL_CONFIDENCE, block_size, hard_label_sigma
from .softness import sharpened

ACTIVE_THRESHOLD = 0.01
"""A probability-map channel below this probability at every pixel shares the inactive channel."""

Window = tuple[slice, slice]


@dataclass(frozen=True)
class Channels:
    """Which class ids the compact channels stand for.

    ids: (k,) the class id of each channel, ascending; a shared channel carries the smallest inactive id.
    counts: (k,) how many classes each channel stands for (1, or the number of inactive classes).
    num_classes: K of the full label space.
    """

    ids: np.ndarray
    counts: np.ndarray
    num_classes: int

    @classmethod
    def of(cls, active: np.ndarray, num_classes: int) -> Channels:
        """``active`` (sorted, unique ids in [0, K)) plus, if any class is left, one shared channel."""
        active = np.asarray(active, dtype=np.int64)
        rest = num_classes - len(active)
        if rest == 0:
            return cls(active, np.ones(len(active), np.int64), num_classes)
        inactive = np.ones(num_classes, bool)
        inactive[active] = False
        shared = int(np.argmax(inactive))  # the smallest inactive id: argmax ties stay as in the full map
        ids = np.append(active, shared)
        order = np.argsort(ids, kind="stable")
        counts = np.append(np.ones(len(active), np.int64), rest)
        return cls(ids[order], counts[order], num_classes)

    @property
    def compact(self) -> bool:
        return len(self.ids) < self.num_classes

    def labels(self, channel_index: np.ndarray) -> np.ndarray:
        """(H, W) index of the winning compact channel → (H, W) class ids."""
        dtype = np.uint8 if self.num_classes <= 256 else np.int32
        return self.ids.astype(dtype)[channel_index]

    def expand(self, probs: np.ndarray) -> np.ndarray:
        """(k, H, W) compact probabilities → (K, H, W): each inactive class gets the shared channel."""
        if not self.compact:
            return probs
        source = np.empty(self.num_classes, np.int64)
        source[:] = np.flatnonzero(self.counts > 1)[0]
        source[self.ids[self.counts == 1]] = np.flatnonzero(self.counts == 1)
        return probs[source]


class ProbabilityChannels:
    """(K, H, W) probabilities; channels below ``threshold`` everywhere share one (their mean); windows raised
    to ``power`` (``refiner.softness``: an upsampled hard mask's ramps made steps; 1: as they are). ``hard``: made
    from a label mask (``LabelChannels``), not a network's probabilities."""

    def __init__(self, probs: np.ndarray, threshold: float = ACTIVE_THRESHOLD, power: float = 1.0, hard: bool = False):
        self.probs, self.power, self.given_compact, self.hard = probs, power, False, hard
        peaks = probs.reshape(probs.shape[0], -1).max(1)
        active = np.flatnonzero(peaks >= threshold) if threshold > 0 else np.arange(probs.shape[0])
        if len(active) == 0:
            active = np.array([int(peaks.argmax())])
        self.channels = Channels.of(active, probs.shape[0])
        self.shape = probs.shape[1:]

    @classmethod
    def of_compact(cls, probs: np.ndarray, channels: Channels, hard: bool = False) -> ProbabilityChannels:
        """(k, H, W) probabilities already on ``channels`` (a shared channel holding each of its classes' value,
        as ``Refiner.refine_channels`` returns them)."""
        made = cls.__new__(cls)
        made.probs, made.power, made.given_compact, made.hard = probs, 1.0, True, hard
        made.channels, made.shape = channels, probs.shape[1:]
        return made

    def resampled(self, probs: np.ndarray) -> ProbabilityChannels:
        """The same channels over other (K, H, W) probabilities of no larger peaks (``refiner.softness.unblocked``)."""
        resampled = copy.copy(self)
        resampled.probs = probs
        return resampled

    def raised(self, power: float) -> ProbabilityChannels:
        """The same map, its windows raised to ``power`` (``refiner.softness.sharpened``)."""
        raised = copy.copy(self)
        raised.power = power
        return raised

    def band(self, rows: slice) -> np.ndarray:
        """(k, h, W) compact probabilities of whole rows: a view of the input where nothing is to compute."""
        if self.channels.compact or self.power != 1:
            return self.window(rows, slice(0, self.shape[1]))
        return self.probs[:, rows]

    def window(self, rows: slice, cols: slice) -> np.ndarray:
        """(k, h, w) float32 compact probabilities of one window."""
        compact = self._compact(rows, cols)
        return compact if self.power == 1 else sharpened(compact, self.power, self.channels.counts)

    def _compact(self, rows: slice, cols: slice) -> np.ndarray:
        ids, counts = self.channels.ids, self.channels.counts
        if self.given_compact or not self.channels.compact:
            return np.ascontiguousarray(self.probs[:, rows, cols], dtype=np.float32)
        active = self.probs[ids[counts == 1], rows, cols].astype(np.float32)
        out = np.empty((len(ids), *active.shape[1:]), np.float32)
        out[counts == 1] = active
        # the inactive mass, spread evenly (probabilities sum to 1 at every pixel)
        out[counts > 1] = np.maximum(1 - active.sum(0), 0) / counts[counts > 1][0]
        return out


class LabelChannels:
    """(H, W) class ids as ``refine`` reads label masks: 0.9 on the label and 0.1 spread over all K classes
    (ignored pixels uniform), blurred by ``io.coarse.hard_label_sigma`` (0.25% of the image diagonal; half a
    block for a nearest-neighbour upsampled mask). Exact for absent classes."""

    hard = True  # a label mask (``ProbabilityChannels.hard``)

    def __init__(self, labels: np.ndarray, num_classes: int, ignore_index: int | None = None):
        self.labels = labels
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        valid = (labels >= 0) & (labels < num_classes)
        if ignore_index is not None:
            valid &= labels != ignore_index
        self.channels = Channels.of(np.unique(labels[valid]), num_classes)
        self.shape = labels.shape
        self.block = block_size(labels)  # > 1: upsampled by nearest neighbour from a lower resolution
        self.sigma = hard_label_sigma(labels, self.block)

    @property
    def margin(self) -> int:
        """Pixels around a window that its blur reads."""
        return int(np.ceil(4 * self.sigma))

    def band(self, rows: slice) -> np.ndarray:
        """(k, h, W) float32 compact probabilities of whole rows."""
        return self.window(rows, slice(0, self.shape[1]))

    def window(self, rows: slice, cols: slice) -> np.ndarray:
        """(k, h, w) float32 compact probabilities of one window (blurred with the pixels around it)."""
        height, width = self.shape
        m = self.margin
        top, bottom = max(0, rows.start - m), min(height, rows.stop + m)
        left, right = max(0, cols.start - m), min(width, cols.stop + m)
        labels = self.labels[top:bottom, left:right]
        k = self.num_classes
        spread = np.float32((1 - HARD_LABEL_CONFIDENCE) / k)  # as io.coarse.labels_to_probabilities
        label = spread + np.float32(HARD_LABEL_CONFIDENCE)
        ignored = labels == self.ignore_index if self.ignore_index is not None else None
        probs = np.empty((len(self.channels.ids), *labels.shape), np.float32)
        for channel, class_id, count in zip(probs, self.channels.ids, self.channels.counts):
            channel[:] = spread if count > 1 else np.where(labels == class_id, label, spread)
            if ignored is not None:
                channel[ignored] = 1.0 / k
            cv2.GaussianBlur(channel, (0, 0), self.sigma, dst=channel)
        total = np.zeros(labels.shape, np.float32)  # not np.tensordot: BLAS threads left spinning slow torch down
        for channel, count in zip(probs, self.channels.counts):
            total += channel if count == 1 else np.float32(count) * channel
        probs /= total
        inner = (slice(rows.start - top, rows.stop - top), slice(cols.start - left, cols.stop - left))
        return np.ascontiguousarray(probs[(slice(None), *inner)])
