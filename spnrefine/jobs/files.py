"""Folder in, folder out: find inputs, name their outputs, keep the listed ones, never overwrite an input."""

from __future__ import annotations

from pathlib import Path

from ..errors import SpnrefineError
from ..io.images import IMAGE_SUFFIXES


def find_files(root: Path, suffixes=IMAGE_SUFFIXES, exclude: tuple[Path, ...] = ()) -> list[Path]:
    """Files under ``root`` (recursive, sorted) with one of ``suffixes``; hidden files and
    anything inside ``exclude`` (e.g. an output folder inside the input folder) are left out."""
    root = Path(root)
    if not root.exists():
        raise SpnrefineError(f"{root}: no such folder")
    if root.is_file():
        return [root]
    excluded = [e.resolve() for e in exclude]
    found = []
    for path in sorted(root.rglob("*")):
        if path.name.startswith(".") or path.suffix.lower() not in suffixes or not path.is_file():
            continue
        resolved = path.resolve()
        if any(resolved.is_relative_to(e) for e in excluded):
            continue
        found.append(path)
    return found


def relative_stem(path: Path, root: Path) -> Path:
    """``root/a/b.png`` → ``a/b`` (the key that pairs files and names outputs)."""
    root = Path(root)
    return (path.relative_to(root) if root.is_dir() else Path(path.name)).with_suffix("")


def with_extension(stem: Path, extension: str) -> Path:
    """``a/img.0001`` + ``.png`` → ``a/img.0001.png`` (``Path.with_suffix`` would give ``a/img.png``)."""
    return stem.parent / f"{stem.name}{extension}"


def listed_stem(name: str) -> Path:
    """A --list entry → the relative stem it names: ``a/b.png`` and ``a/b`` → ``a/b``; ``f.0001`` stays."""
    path = Path(name)
    return path.with_suffix("") if path.suffix.lower() in (*IMAGE_SUFFIXES, ".npy", ".npz") else path


def keep_listed(items: list, stem_of, names: list[str]) -> tuple[list, list[str]]:
    """The items whose relative stem (or bare file stem) a --list entry names, and the entries that
    name no item."""
    wanted = {listed_stem(n): n for n in names}
    kept, found = [], set()
    for item in items:
        stem = stem_of(item)
        key = stem if stem in wanted else Path(stem.name)
        if key in wanted:
            kept.append(item)
            found.add(key)
    return kept, [name for key, name in wanted.items() if key not in found]


def check_outputs_do_not_overwrite_inputs(outputs: list[Path], inputs: list[Path]) -> None:
    inputs_resolved = {p.resolve() for p in inputs}
    clashes = [o for o in outputs if o.resolve() in inputs_resolved]
    if clashes:
        raise SpnrefineError(f"{clashes[0]}: an output would overwrite an input; choose another --out folder")
