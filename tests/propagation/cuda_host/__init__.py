"""Host (CPU) build of the CUDA kernels for tests: g++ + shim.h, driven by the CuPy launch plans."""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import torch

from spnrefine.propagation.cuda import KERNEL_FILE, Launch, kernel_source

HERE = Path(__file__).parent


def build(directory: Path) -> Path:
    """Compile the shipped kernel source with the shim into a shared library."""
    (directory / KERNEL_FILE).write_text(kernel_source())
    for name in ("shim.h", "host_entry.cpp"):
        shutil.copy(HERE / name, directory / name)
    library = directory / "spn_host.so"
    command = [
        "g++", "-std=c++20", "-O1", "-pthread", "-shared", "-fPIC", "-Wall", "-Werror",
        "-I", str(directory), str(directory / "host_entry.cpp"), "-o", str(library),
    ]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return library


class HostLauncher:
    """Runs a :class:`Launch` plan on CPU tensors through the host build."""

    def __init__(self, library: Path):
        self.library = ctypes.CDLL(str(library))
        self.launches: list[Launch] = []

    def __call__(self, launch: Launch) -> None:
        self.launches.append(launch)
        base, dtype = re.fullmatch(r"(\w+)<(\w+)>", launch.kernel).groups()
        function = getattr(self.library, f"{base}_{dtype}")
        args = [ctypes.c_uint(v) for v in (*launch.grid, *launch.block)]
        for arg in launch.args:
            if isinstance(arg, torch.Tensor):
                assert arg.device.type == "cpu"
                args.append(ctypes.c_void_p(arg.data_ptr()))
            else:
                assert isinstance(arg, np.int64), f"launch arguments must be tensors or int64, got {type(arg)}"
                args.append(ctypes.c_longlong(int(arg)))
        function.restype = None
        function(*args)
