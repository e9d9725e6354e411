"""The number format of the guidance CNN at inference.

The guidance's convolutions are most of a refinement's time (~60% at 480×360). On a CPU with native bfloat16
arithmetic (AVX512-BF16 or AMX) oneDNN runs them in bfloat16 about 1.8× faster; the gates they predict are
normalized, and the coarse map propagated, blended and renormalized, in float32 as before. Where the CPU
lacks it (bfloat16 would be emulated, no faster) and on GPUs the guidance stays float32.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path

import torch

from ..errors import SpnrefineError

PRECISIONS = ("auto", "float32", "bfloat16")
NATIVE_BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.cache
def native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (Linux x86: its /proc/cpuinfo flags) and oneDNN uses it; read
    once per process, not at every ``Refiner`` load."""
    cpuinfo = Path("/proc/cpuinfo")
    if platform.system() != "Linux" or not cpuinfo.is_file() or not torch.backends.mkldnn.is_available():
        return False
    flags = set()
    for line in cpuinfo.read_text(errors="replace").splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return any(flag in flags for flag in NATIVE_BFLOAT16_FLAGS) and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def cpu_precision_summary() -> str:
    """One line for ``spnrefine info``: what ``auto`` picks on this machine's CPU, and why."""
    if native_bfloat16():
        return "bfloat16  this CPU computes bfloat16 natively (--precision float32 to opt out)"
    return "float32   no native bfloat16 on this CPU (AVX512-BF16 or AMX); bfloat16 would be emulated, no faster"


def guidance_dtype(precision: str, device: torch.device) -> torch.dtype:
    """``precision`` (``PRECISIONS``) on ``device`` → the guidance's dtype: ``auto`` is bfloat16 on a CPU with
    native bfloat16, float32 elsewhere; ``bfloat16`` on a GPU is refused (not verified here)."""
    if precision not in PRECISIONS:
        raise SpnrefineError(f"precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    if precision == "bfloat16" and device.type != "cpu":
        raise SpnrefineError(f"precision bfloat16 is for CPUs; {device} runs the guidance in float32")
    if precision == "auto":
        return torch.bfloat16 if device.type == "cpu" and native_bfloat16() else torch.float32
    return getattr(torch, precision)
