"""Gate normalization keeps every pixel inside the stability bound."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from spnrefine.propagation import gates_from_guidance, normalize_gates, propagate

finite = st.floats(allow_nan=False, allow_infinity=False, width=32)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=3, max_size=3), st.sampled_from(["signed", "convex"]))
def test_bound_holds_for_any_raw_values(values, mode):
    gates = normalize_gates(torch.tensor(values, dtype=torch.float32).reshape(3, 1), mode=mode, dim=0)
    assert torch.isfinite(gates).all()
    assert gates.abs().sum() <= 1 + 1e-6
    if mode == "convex":
        assert (gates >= 0).all()


def test_signed_keeps_stable_gates_unchanged():
    raw = torch.tensor([[0.2], [-0.3], [0.1]])
    torch.testing.assert_close(normalize_gates(raw, dim=0), raw)


def test_convex_outputs_stay_in_the_input_range():
    generator = torch.Generator().manual_seed(1)
    x = torch.rand((2, 3, 9, 8), generator=generator) * 4 - 1
    raw = 50 * torch.randn((2, 4 * 3 * 3, 9, 8), generator=generator)
    out = propagate(x, gates_from_guidance(raw, channels=3, mode="convex"))
    assert out.min() >= x.min() - 1e-6 and out.max() <= x.max() + 1e-6


def test_guidance_channel_count_is_checked():
    with pytest.raises(ValueError, match="expected directions\\*3\\*channels"):
        gates_from_guidance(torch.zeros(1, 10, 4, 4), channels=3)
    with pytest.raises(ValueError, match="mode must be one of"):
        normalize_gates(torch.zeros(3, 2), mode="tanh", dim=0)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**31 - 1),
    st.sampled_from([1e-6, 1.0, 1e3, 1e30]),
)
def test_convex_propagation_stays_in_range_for_any_guidance(channels, height, width, seed, magnitude):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn((1, channels, height, width), generator=generator)
    raw = magnitude * torch.randn((1, 12 * channels, height, width), generator=generator)
    gates = gates_from_guidance(raw, channels=channels, mode="convex")
    assert torch.isfinite(gates).all() and (gates.abs().sum(2) <= 1 + 1e-6).all()
    out = propagate(x, gates)
    assert torch.isfinite(out).all()
    # convex combinations of inputs and the zeros that stand for neighbours outside the image
    assert out.min() >= min(x.min(), 0) - 1e-5 and out.max() <= max(x.max(), 0) + 1e-5
