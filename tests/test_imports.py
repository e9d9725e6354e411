"""Every module of the package imports (a broken import must not ship)."""

import importlib
import pkgutil

import spnrefine


def test_every_module_imports():
    names = [m.name for m in pkgutil.walk_packages(spnrefine.__path__, "spnrefine.")]
    assert {"spnrefine.propagation.cuda", "spnrefine.cli.app"} <= set(names), names
    for name in [*names, "spnrefine.kernels"]:  # kernels/ is mapped into the package
        if name != "spnrefine.__main__":
            importlib.import_module(name)


def test_kernel_source_ships_inside_the_package():
    from spnrefine.propagation.cuda import kernel_source

    source = kernel_source()
    assert "spn_scan_forward" in source and "spn_scan_backward" in source


def test_refiner_is_exported_lazily():
    import subprocess
    import sys

    code = "import sys, spnrefine; assert 'torch' not in sys.modules; spnrefine.Refiner; assert 'torch' in sys.modules"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
