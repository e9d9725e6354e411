"""The scaling benchmark's inputs and one measured case (fresh process)."""

import numpy as np

from spnrefine.bench.scaling import Case, class_cases, coarse_input, measure


def test_sparse_inputs_hold_exactly_the_present_classes():
    labels = coarse_input(Case(36, 48, 150, 12, "labels"))
    assert len(np.unique(labels)) == 12 and labels.max() == 149
    probs = coarse_input(Case(36, 48, 150, 12))
    assert probs.shape == (150, 36, 48)
    np.testing.assert_allclose(probs.sum(0), 1, atol=1e-5)
    assert (probs.reshape(150, -1).max(1) >= 0.01).sum() == 12


def test_class_cases_compare_the_compact_and_the_full_computation():
    cases = class_cases("labels", [2])
    assert [c.classes for c in cases] == [2, 150, 150] and cases[-1].every_channel


def test_one_case_is_measured_in_a_fresh_process():
    seconds, peak_gb = measure(Case(48, 64, 3, 3))
    assert 0 < seconds < 60 and 0.1 < peak_gb < 8
