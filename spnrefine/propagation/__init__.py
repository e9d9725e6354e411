"""Spatial propagation (SPN three-way connection): reference, Numba CPU and CUDA backends.

>>> from spnrefine.propagation import propagate, gates_from_guidance
>>> gates = gates_from_guidance(guidance, channels=x.shape[1])   # (N, 4, 3, C, H, W)
>>> refined = propagate(x, gates)                                 # (N, C, H, W)
"""

from .api import propagate, propagate_direction
from .backends import backend_statuses, nvrtc_status
from .gates import gates_from_guidance, normalize_gates
from .geometry import DIRECTIONS
from .reference import propagate_direction_reference

__all__ = [
    "DIRECTIONS",
    "backend_statuses",
    "gates_from_guidance",
    "normalize_gates",
    "nvrtc_status",
    "propagate",
    "propagate_direction",
    "propagate_direction_reference",
]
