"""Checkpoints: safe loading (tensors only, ``weights_only=True``, clear errors, optional sha256) and saving."""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path

import torch
from torch import nn

from ..errors import SpnrefineError
from .writers import atomic_write


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_weights(path: str | Path, payload: dict) -> None:
    """Write a checkpoint atomically; serialized in memory first, so its bytes do not depend on the file's name
    (``torch.save`` to a path names the archive after it)."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write(Path(path), lambda tmp: tmp.write_bytes(buffer.getvalue()))


def load_weights(path: str | Path, expected_sha256: str | None = None) -> dict:
    """Read a checkpoint without executing anything in it.

    Refuses pickles that would run code or build arbitrary objects, and files whose
    sha256 differs from ``expected_sha256``.
    """
    path = Path(path)
    if not path.is_file():
        raise SpnrefineError(f"{path}: no such checkpoint file")
    if expected_sha256 is not None and sha256_of(path) != expected_sha256:
        raise SpnrefineError(f"{path}: sha256 does not match the recorded {expected_sha256}; the file is "
                             "corrupt or not the published checkpoint")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise SpnrefineError(
            f"{path}: refused to load: the file holds objects other than tensors and plain data, which "
            f"could run code when unpickled ({str(error).splitlines()[0][:200]})"
        ) from None
    except (RuntimeError, EOFError, OSError) as error:
        raise SpnrefineError(f"{path}: not a readable PyTorch checkpoint ({str(error).splitlines()[0][:200]})") from None


def load_state_dict_strict(model: nn.Module, state: dict, path: str | Path, what: str) -> None:
    """``model.load_state_dict(state, strict=True)`` with an error that says what does not fit."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise SpnrefineError(f"{path}: expected a state dict of tensors for {what}")
    own = model.state_dict()
    # BatchNorm's num_batches_tracked is absent from pre-1.0 checkpoints; torch fills it in.
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in own]
    mismatched = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
                  for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or mismatched:
        parts = []
        for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", mismatched)):
            if items:
                parts.append(f"{len(items)} {label} (e.g. {', '.join(items[:3])})")
        raise SpnrefineError(f"{path}: these weights are not for {what}: {'; '.join(parts)}")
    model.load_state_dict(state, strict=True)
