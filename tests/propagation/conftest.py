"""Fixtures of the propagation tests: the CUDA kernels built for the CPU."""

import pytest


@pytest.fixture(scope="session")
def host_backend(tmp_path_factory):
    """The CUDA kernels built for the CPU (g++ + shim), driven by the CuPy launch plans."""
    from cuda_host import HostLauncher, build

    from spnrefine.propagation.cuda import KernelBackend

    library = build(tmp_path_factory.mktemp("cuda_host"))
    return KernelBackend(HostLauncher(library), name="host")
