"""The torch reference against a per-pixel transcription of the formula, and gradcheck."""

import pytest
import torch
from helpers import random_inputs

from spnrefine.propagation import DIRECTIONS, propagate, propagate_direction_reference

# For each direction: the previous-step position of neighbour k (0, 1, 2) of pixel (r, c).
PREVIOUS = {
    "lr": lambda r, c, k: (r + k - 1, c - 1),
    "rl": lambda r, c, k: (r + k - 1, c + 1),
    "tb": lambda r, c, k: (r - 1, c + k - 1),
    "bt": lambda r, c, k: (r + 1, c + k - 1),
}
ORDER = {
    "lr": lambda h, w: [(r, c) for c in range(w) for r in range(h)],
    "rl": lambda h, w: [(r, c) for c in reversed(range(w)) for r in range(h)],
    "tb": lambda h, w: [(r, c) for r in range(h) for c in range(w)],
    "bt": lambda h, w: [(r, c) for r in reversed(range(h)) for c in range(w)],
}


def per_pixel(x, gates, direction):
    """h[r,c] = (1 - g0 - g1 - g2) x[r,c] + sum_k g_k h[previous_k], zero outside the image."""
    n, ch, height, width = x.shape
    h = torch.zeros_like(x)
    for b in range(n):
        for c_ in range(ch):
            for r, c in ORDER[direction](height, width):
                g = gates[b, :, c_, r, c]
                value = (1 - g.sum()) * x[b, c_, r, c]
                for k in range(3):
                    pr, pc = PREVIOUS[direction](r, c, k)
                    if 0 <= pr < height and 0 <= pc < width:
                        value = value + g[k] * h[b, c_, pr, pc]
                h[b, c_, r, c] = value
    return h


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_reference_matches_the_formula(direction):
    x, gates = random_inputs((2, 2, 4, 5), directions=1)
    expected = per_pixel(x, gates[:, 0], direction)
    torch.testing.assert_close(propagate_direction_reference(x, gates[:, 0], direction), expected)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_gradcheck_float64(direction):
    x, gates = random_inputs((1, 2, 4, 3), directions=1)
    x.requires_grad_()
    gates = gates[:, 0].clone().requires_grad_()
    assert torch.autograd.gradcheck(lambda a, g: propagate_direction_reference(a, g, direction), (x, gates))


def test_max_merge_is_the_elementwise_max_of_directions():
    x, gates = random_inputs((1, 3, 5, 6))
    per_direction = propagate(x, gates, merge="none", backend="torch")
    assert per_direction.shape == (1, 4, 3, 5, 6)
    torch.testing.assert_close(propagate(x, gates, backend="torch"), per_direction.amax(dim=1))
    for i, d in enumerate(DIRECTIONS):
        torch.testing.assert_close(per_direction[:, i], propagate_direction_reference(x, gates[:, i], d))


def test_zero_gates_give_back_x():
    x, gates = random_inputs((2, 3, 4, 5))
    torch.testing.assert_close(propagate(x, torch.zeros_like(gates), backend="torch"), x)
