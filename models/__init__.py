"""Shipped refinement checkpoints (package data of ``spnrefine.models``)."""
