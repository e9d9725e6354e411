"""Helpers shared by the tests: random propagation inputs, the reference check, the real data in ../shared."""

from pathlib import Path

import pytest
import torch

from spnrefine.propagation import normalize_gates

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def random_inputs(shape, directions=4, dtype=torch.float64, seed=0, mode="signed"):
    """x: (N, C, H, W) in [0, 1); gates: (N, D, 3, C, H, W), inside the stability bound."""
    generator = torch.Generator().manual_seed(seed)
    n, c, h, w = shape
    x = torch.rand(shape, generator=generator, dtype=torch.float64)
    raw = 2 * torch.randn((n, directions, 3, c, h, w), generator=generator, dtype=torch.float64)
    # A random scale per pixel and direction: with |g1|+|g2|+|g3| = 1 exactly and gates
    # of one sign, border pixels tie across directions and rounding alone would pick the
    # max-merge winner (whose gradient then differs from the reference's even split).
    scale = 0.5 + 0.45 * torch.rand((n, directions, 1, c, h, w), generator=generator, dtype=torch.float64)
    return x.to(dtype), (scale * normalize_gates(raw, mode=mode, dim=2)).to(dtype)


TOLERANCES = {torch.float64: dict(atol=1e-10, rtol=1e-10), torch.float32: dict(atol=1e-5, rtol=1e-5)}


def assert_matches_reference(run, x, gates, directions, merge="max", seed=0):
    """``run(x, gates)`` must give the reference's output and gradients (weighted-sum loss)."""
    from spnrefine.propagation.api import _run

    def output_and_grads(fn):
        xi, gi = x.clone().requires_grad_(), gates.clone().requires_grad_()
        out = fn(xi, gi)
        weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
        (out * weights).sum().backward()
        return out.detach(), xi.grad, gi.grad

    expected = output_and_grads(lambda a, g: _run(a, g, directions, merge, "torch"))
    actual = output_and_grads(run)
    for name, got, want in zip(("output", "grad x", "grad gates"), actual, expected):
        torch.testing.assert_close(got, want, **TOLERANCES[x.dtype], msg=lambda m, name=name: f"{name}: {m}")


ESPNET_WEIGHTS = SHARED / "weights" / "espnet_camvid.pth"
CAMVID = SHARED / "data" / "camvid"
needs_shared = pytest.mark.skipif(
    not (ESPNET_WEIGHTS.is_file() and (CAMVID / "val.txt").is_file()),
    reason=f"real data not found at {SHARED} (../shared from the project root)",
)


def camvid_names(split: str, count: int | None = None) -> list[str]:
    names = (CAMVID / f"{split}.txt").read_text().split()
    return names[:count] if count else names
