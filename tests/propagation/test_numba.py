"""The Numba CPU backend against the torch reference: outputs and gradients."""

import pytest
import torch
from helpers import TOLERANCES, assert_matches_reference, random_inputs

from spnrefine.propagation import DIRECTIONS, propagate, propagate_direction

SHAPES = [(1, 1, 1, 1), (1, 2, 1, 9), (2, 3, 9, 1), (2, 3, 7, 11), (3, 5, 16, 13)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_four_directions_max_merge(shape, dtype):
    x, gates = random_inputs(shape, dtype=dtype)
    assert_matches_reference(lambda a, g: propagate(a, g, backend="numba"), x, gates, DIRECTIONS)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_single_direction(direction):
    x, gates = random_inputs((2, 3, 6, 8), directions=1, dtype=torch.float32)
    assert_matches_reference(
        lambda a, g: propagate_direction(a, g[:, 0], direction, backend="numba").unsqueeze(1),
        x, gates, (direction,), merge="none",
    )


def test_subset_of_directions_without_merge():
    x, gates = random_inputs((2, 2, 5, 7), directions=2)
    assert_matches_reference(
        lambda a, g: propagate(a, g, directions=("bt", "rl"), merge="none", backend="numba"),
        x, gates, ("bt", "rl"), merge="none",
    )


def test_gradient_of_x_only():
    x, gates = random_inputs((1, 2, 5, 6), dtype=torch.float32)
    x.requires_grad_()
    propagate(x, gates).sum().backward()
    expected = x.detach().clone().requires_grad_()
    propagate(expected, gates, backend="torch").sum().backward()
    torch.testing.assert_close(x.grad, expected.grad, **TOLERANCES[torch.float32])


def test_inference_path_gives_the_training_values():
    x, gates = random_inputs((2, 4, 12, 10), dtype=torch.float32)
    with torch.no_grad():
        inference = propagate(x, gates)
    training = propagate(x.clone().requires_grad_(), gates)
    torch.testing.assert_close(inference, training.detach(), atol=0, rtol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_is_computed_in_float32(dtype):
    x, gates = random_inputs((1, 2, 6, 7), dtype=torch.float32)
    out = propagate(x.to(dtype), gates.to(dtype))
    assert out.dtype == dtype
    expected = propagate(x.to(dtype).float(), gates.to(dtype).float(), backend="torch")
    torch.testing.assert_close(out, expected.to(dtype))


def test_non_contiguous_inputs():
    x, gates = random_inputs((2, 3, 8, 6))
    x_t = x.transpose(2, 3).contiguous().transpose(2, 3)
    gates_t = gates.transpose(0, 1).contiguous().transpose(0, 1)
    assert not x_t.is_contiguous() and not gates_t.is_contiguous()
    torch.testing.assert_close(propagate(x_t, gates_t), propagate(x, gates, backend="torch"))


def test_auto_picks_numba_on_cpu():
    from spnrefine.propagation.backends import resolve_backend

    assert resolve_backend("auto", "cpu") == "numba"


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda x, g: (x[0], g), ValueError, "x must be a \\(N, C, H, W\\)"),
        (lambda x, g: (x, g[:, :3]), ValueError, "gates must have shape \\(N, D, 3, C, H, W\\)"),
        (lambda x, g: (x.long(), g), TypeError, "floating-point"),
        (lambda x, g: (x, g.float()), TypeError, "gates have dtype"),
    ],
)
def test_bad_inputs_name_the_argument(make, error, message):
    x, gates = random_inputs((1, 2, 3, 4))
    with pytest.raises(error, match=message):
        propagate(*make(x, gates))


def test_bad_options_are_refused():
    x, gates = random_inputs((1, 2, 3, 4))
    with pytest.raises(ValueError, match="direction must be one of"):
        propagate(x, gates, directions=("lr", "rl", "tb", "up"))
    with pytest.raises(ValueError, match="merge must be one of"):
        propagate(x, gates, merge="mean")
    with pytest.raises(ValueError, match="backend must be 'auto' or one of"):
        propagate(x, gates, backend="triton")
    with pytest.raises(ValueError, match="needs CUDA tensors"):
        propagate(x, gates, backend="cuda")


def test_gates_shared_by_all_channels_are_read_in_place():
    x, gates = random_inputs((2, 5, 9, 7), dtype=torch.float32)
    shared = gates[:, :, :, :1].expand(-1, -1, -1, 5, -1, -1)
    assert shared.stride(3) == 0
    expected = propagate(x, shared.contiguous(), backend="torch")
    with torch.no_grad():
        torch.testing.assert_close(propagate(x, shared), expected, **TOLERANCES[torch.float32])
    assert_matches_reference(lambda a, g: propagate(a, g.expand(-1, -1, -1, 5, -1, -1)), x, gates[:, :, :, :1],
                             DIRECTIONS)
