"""spnrefine: refine semantic-segmentation masks with learned spatial propagation (SPN).

>>> from spnrefine import Refiner
>>> refined = Refiner.load("agnostic").refine(image, coarse_probs)   # (H, W, 3) uint8, (K, H, W) → (K, H, W)
"""

__version__ = "0.1.0"
__all__ = ["Refiner", "__version__"]


def __getattr__(name: str):
    # Lazy, so `import spnrefine` (and `spnrefine --help`) does not import torch.
    if name == "Refiner":
        from .refiner import Refiner

        return Refiner
    raise AttributeError(f"module 'spnrefine' has no attribute {name!r}")
