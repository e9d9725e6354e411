"""CUDA sources of spnrefine's kernels, shipped as package data (`spnrefine.kernels`)."""
