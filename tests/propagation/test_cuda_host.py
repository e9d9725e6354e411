"""The CUDA kernels, run on the CPU through the host build, against the reference.

The launch plans (grid, block, arguments) are the ones CuPy uses on a GPU; only
the final call differs (tests/cuda_host).
"""

import pytest
import torch
from helpers import assert_matches_reference, random_inputs

from spnrefine.propagation import DIRECTIONS
from spnrefine.propagation.api import run_backend
from spnrefine.propagation.cuda import MAX_THREADS

# Odd sizes, H = 1, W = 1, batch > 1, several channel counts, and more lines than
# threads in a block (300 > MAX_THREADS) so threads loop over lines.
SHAPES = [(1, 1, 1, 1), (2, 1, 1, 7), (1, 3, 5, 1), (3, 2, 7, 9), (2, 4, 33, 17), (1, 2, 300, 3)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_host_build_matches_reference(host_backend, shape, dtype):
    assert MAX_THREADS < 300
    x, gates = random_inputs(shape, dtype=dtype)
    assert_matches_reference(
        lambda a, g: run_backend(a, g, DIRECTIONS, "max", host_backend), x, gates, DIRECTIONS
    )


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_host_build_single_direction(host_backend, direction):
    x, gates = random_inputs((2, 3, 6, 5), directions=1, dtype=torch.float32)
    assert_matches_reference(
        lambda a, g: run_backend(a, g, (direction,), "none", host_backend), x, gates, (direction,), merge="none"
    )


def test_one_launch_per_direction(host_backend):
    launcher = host_backend.launcher
    launcher.launches.clear()
    x, gates = random_inputs((2, 3, 8, 40), dtype=torch.float32)
    x.requires_grad_()
    run_backend(x, gates, DIRECTIONS, "max", host_backend).sum().backward()
    kernels = [launch.kernel for launch in launcher.launches]
    assert kernels == ["spn_scan_forward<float>"] * 4 + ["spn_scan_backward<float>"] * 4
    assert all(launch.grid == (2 * 3, 1, 1) for launch in launcher.launches)
    blocks = [launch.block[0] for launch in launcher.launches[:4]]
    assert blocks == [32, 32, 64, 64]  # lines: H=8 for lr/rl, W=40 for tb/bt


def test_host_build_reads_shared_gates_in_place(host_backend):
    x, gates = random_inputs((2, 4, 6, 9), dtype=torch.float64)
    shared = gates[:, :, :, :1].expand(-1, -1, -1, 4, -1, -1)
    with torch.no_grad():
        got = run_backend(x, shared, DIRECTIONS, "max", host_backend)
    expected = run_backend(x, shared.contiguous(), DIRECTIONS, "max", host_backend)
    torch.testing.assert_close(got, expected, atol=0, rtol=0)
