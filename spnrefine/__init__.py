"""spnrefine: refine semantic-segmentation masks with learned spatial propagation (SPN)."""

__version__ = "0.1.0"
