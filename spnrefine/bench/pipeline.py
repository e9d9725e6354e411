"""End-to-end speed: images per second of a backbone alone and with the SPN refiner (no file I/O)."""

from __future__ import annotations

import numpy as np

from .propagation import best_time


def time_pipeline(backbone, refiner, images: list[np.ndarray], repeats: int = 1) -> list[tuple[str, float]]:
    """Images per second of the backbone alone and of backbone + refiner (decoded images, no file I/O)."""
    from ..backbones import predict_probabilities

    def backbone_only():
        return [predict_probabilities(backbone, [image]) for image in images]

    def with_refiner():
        return [refiner.refine_batch([image], probs) for image, probs in zip(images, backbone_only())]

    backbone_only()  # warm-up
    rows = [("backbone", len(images) / best_time(backbone_only, repeats))]
    if refiner is not None:
        with_refiner()
        rows.append(("backbone + SPN refiner", len(images) / best_time(with_refiner, repeats)))
    return rows
