"""Every kernel compiles with NVRTC (needs CuPy's NVRTC binding, not a GPU)."""

import pytest

nvrtc = pytest.importorskip("cupy_backends.cuda.libs.nvrtc", reason="CuPy is not installed (pip install -e '.[dev]')")

from spnrefine.propagation.cuda import kernel_source, name_expressions  # noqa: E402

ARCHES = (70, 80, 90)


def compile_ptx(source, arch):
    program = nvrtc.createProgram(source, "spn_scan.cu", (), ())
    try:
        for name in name_expressions():
            nvrtc.addNameExpression(program, name)
        nvrtc.compileProgram(program, ("--std=c++14", f"--gpu-architecture=compute_{arch}"))
        lowered = {name: nvrtc.getLoweredName(program, name) for name in name_expressions()}
        return nvrtc.getPTX(program), lowered
    finally:
        nvrtc.destroyProgram(program)


def supported(arch):
    return arch in nvrtc.getSupportedArchs()


@pytest.mark.parametrize("arch", ARCHES)
def test_kernels_compile(arch):
    if not supported(arch):
        major, minor = nvrtc.getVersion()
        pytest.skip(f"NVRTC {major}.{minor} has dropped sm_{arch}; the cuda12 extra (NVRTC 12) covers it")
    ptx, lowered = compile_ptx(kernel_source(), arch)
    text = ptx.decode() if isinstance(ptx, bytes) else ptx
    assert f".target sm_{arch}" in text
    for name in name_expressions():
        assert lowered[name] in text, f"{name} missing from the PTX"


def test_at_least_two_architectures_are_checked():
    assert sum(supported(arch) for arch in ARCHES) >= 2


def test_a_broken_kernel_is_reported():
    with pytest.raises(nvrtc.NVRTCError, match="COMPILATION"):
        compile_ptx(kernel_source().replace("__syncthreads();", "__syncthreads()", 1), 80)
