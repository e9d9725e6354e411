"""The command line: version, info, and the propagation benchmark."""

import subprocess
import sys

from typer.testing import CliRunner

from spnrefine import __version__
from spnrefine.cli import app

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"spnrefine {__version__}"


def test_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "spnrefine", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and __version__ in result.stdout


def test_help_does_not_import_torch():
    code = "import sys; from spnrefine.cli import app; sys.argv=['spnrefine','--help']\n" \
           "try:\n app()\nexcept SystemExit: pass\nassert 'torch' not in sys.modules, 'torch imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_info_lists_every_backend_with_a_reason():
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0
    for name in ("torch", "numba", "cuda", "nvrtc"):
        assert f"  {name}" in result.output
    assert "numba  yes" in result.output
    assert "ray    yes  ray " in result.output  # the dev extra installs it
    from spnrefine.refiner.precision import native_bfloat16

    expected = "bfloat16  this CPU computes" if native_bfloat16() else "float32   no native bfloat16"
    assert f"refiner guidance on CPU (--precision auto): {expected}" in result.output


def test_benchmark_prints_ratios():
    result = runner.invoke(app, ["benchmark", "propagation", "--quick", "--repeats", "1"])
    assert result.exit_code == 0, result.output
    assert "(1, 32, 96, 128)" in result.output and "x the bandwidth pass" in result.output


def test_benchmark_segment_reports_images_per_second(tmp_path):
    import json

    import numpy as np
    import torch
    from PIL import Image

    class Tiny(torch.nn.Module):
        def forward(self, x):
            return torch.cat([x[:, :1], -x[:, :1]], dim=1)

    torch.jit.script(Tiny()).save(str(tmp_path / "m.pt"))
    (tmp_path / "m.json").write_text(json.dumps({"class_names": ["a", "b"]}))
    (tmp_path / "images").mkdir()
    Image.fromarray(np.zeros((32, 48, 3), np.uint8)).save(tmp_path / "images" / "x.png")
    result = runner.invoke(app, ["benchmark", "segment", str(tmp_path / "images"), "--backbone", "user",
                                 "--backbone-weights", str(tmp_path / "m.pt"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "backbone + SPN refiner" in result.output and "images/s" in result.output


def test_benchmark_refinement_compares_methods_on_the_same_images(tmp_path):
    import json

    import numpy as np
    from PIL import Image

    from spnrefine.io.writers import write_label_png

    for folder in ("images", "masks", "coarse"):
        (tmp_path / folder).mkdir()
    labels = np.zeros((30, 40), np.int64)
    labels[5:25, 10:30] = 1
    Image.fromarray((labels[:, :, None] * 200 + 20).astype(np.uint8).repeat(3, 2)).save(tmp_path / "images" / "a.png")
    write_label_png(tmp_path / "masks" / "a.png", labels, None)
    np.save(tmp_path / "coarse" / "a.npy", np.stack([1 - labels, labels]).astype(np.float32) * 0.6 + 0.2)
    result = runner.invoke(app, ["benchmark", "refinement", "--images", str(tmp_path / "images"), "--masks",
                                 str(tmp_path / "masks"), "--coarse", str(tmp_path / "coarse"), "--num-classes", "2",
                                 "--ignore-index", "255", "--checkpoint", "agnostic",
                                 "--no-crf", "--json", str(tmp_path / "rows.json")])
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    assert [r["method"] for r in rows] == ["coarse", "guided filter", "SPN agnostic"]
    assert rows[0]["miou"] == 100.0 and all(r["seconds_per_image"] >= 0 for r in rows)
    result = runner.invoke(app, ["benchmark", "refinement", "--images", str(tmp_path / "images"), "--masks",
                                 str(tmp_path / "masks"), "--coarse", str(tmp_path / "coarse"), "--num-classes", "2",
                                 "--ignore-index", "255", "--precision", "float32", "--precision", "bfloat16",
                                 "--no-crf", "--json", str(tmp_path / "rows.json")])
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    assert [r["method"] for r in rows][2:] == ["SPN agnostic (float32)", "SPN agnostic (bfloat16)"]
    result = runner.invoke(app, ["benchmark", "refinement", "--images", str(tmp_path / "images"), "--masks",
                                 str(tmp_path / "masks"), "--coarse", str(tmp_path / "coarse"), "--num-classes", "2",
                                 "--ignore-index", "255", "--mirror", "--upscale", "1.25", "--no-crf", "--json",
                                 str(tmp_path / "rows.json")])
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "rows.json").read_text())["rows"]
    assert [r["method"] for r in rows][2:] == ["SPN agnostic", "SPN agnostic mirror", "SPN agnostic upscale 1.25",
                                               "SPN agnostic upscale 1.25 mirror"]


def test_every_option_has_help_text():
    import click
    from typer.main import get_command

    missing = []

    def walk(command, path):
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")
        else:
            missing.extend(f"{path} {p.name}" for p in command.params if not getattr(p, "help", None))

    walk(get_command(app), "spnrefine")
    assert not missing, missing
