"""The SPN refiner: the network, its shipped weights, and the ``Refiner`` API."""

from .api import Refiner
from .weights import SHIPPED, RefinerWeights, checkpoint_for_labels

__all__ = ["SHIPPED", "Refiner", "RefinerWeights", "checkpoint_for_labels"]
