"""glibc keeps large freed buffers for reuse (spnrefine.allocation)."""

import platform

import pytest

from spnrefine.allocation import reuse_large_allocations


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="only glibc has these thresholds")
def test_glibc_takes_the_thresholds():
    assert reuse_large_allocations() is True
