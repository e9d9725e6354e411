"""On a real GPU: the CuPy backend against the reference (skipped without one)."""

import pytest
import torch
from helpers import assert_matches_reference, random_inputs

from spnrefine.propagation import DIRECTIONS, propagate

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine"),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 7, 9), (2, 4, 300, 33)])
def test_cuda_matches_reference(shape, dtype):
    x, gates = random_inputs(shape, dtype=dtype)
    x_gpu, gates_gpu = x.cuda(), gates.cuda()

    def run(a, g):
        return propagate(a.cuda(), g.cuda(), backend="cuda").cpu()

    assert_matches_reference(run, x, gates, DIRECTIONS)
    assert propagate(x_gpu, gates_gpu).device.type == "cuda"
