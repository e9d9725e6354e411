"""The README's first command, exactly as written there, on ``examples/`` (in the repository, nothing downloaded)."""

import shlex
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from spnrefine.cli import app
from spnrefine.io.coarse import block_size
from spnrefine.io.masks import read_label_png

REPO = Path(__file__).resolve().parents[2]


def readme_command() -> list[str]:
    """The arguments of the README's `spnrefine refine … examples/…` line (its comment cut off)."""
    line = next(line for line in (REPO / "README.md").read_text().splitlines()
                if line.startswith("spnrefine refine --images examples/"))
    return shlex.split(line.split("#")[0])[1:]


def test_readme_example_runs_and_smooths_the_blocky_mask(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    arguments = readme_command()
    out = tmp_path / "refined"
    arguments[arguments.index("--out") + 1] = str(out)  # as written, but not into the checkout
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "done 1, skipped 0, failed 0" in result.output
    coarse = read_label_png(REPO / "examples/masks/astronaut.png")
    refined = read_label_png(out / "astronaut.png")
    assert set(np.unique(refined)) == {0, 255}  # written back in the input's own values
    assert block_size(coarse) == 8 and block_size(refined) == 1  # the 8-px staircases are gone
    assert 0.002 < np.mean(refined != coarse) < 0.05  # boundaries moved, the person kept
    assert (out / "compare" / "astronaut.jpg").is_file()
