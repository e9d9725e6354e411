"""``--engine ray`` on a real local Ray cluster: the same files as the local engine, byte for byte."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import ray
import torch
from helpers import CAMVID, ESPNET_WEIGHTS, camvid_names, needs_shared
from typer.testing import CliRunner

from spnrefine.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def ray_cluster():
    """A 2-CPU Ray cluster owned by this test process; yields its address for other drivers."""
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 2**20, logging_level="ERROR")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_same_files(local: Path, distributed: Path) -> None:
    expected, actual = tree(local), tree(distributed)
    assert sorted(actual) == sorted(expected)
    different = [name for name in expected if expected[name] != actual[name]]
    assert not different, f"files differ between the engines: {different}"


@pytest.fixture
def camvid_folder(tmp_path):
    """5 CamVid val images (2 in a subfolder), their masks, and one corrupt 'image'."""
    images, masks = tmp_path / "images", tmp_path / "masks"
    (images / "sub").mkdir(parents=True), masks.mkdir()
    for i, name in enumerate(camvid_names("val", 5)):
        where = Path("sub") / name if i < 2 else Path(name)
        shutil.copy(CAMVID / "images" / name, images / where)
        (masks / where).parent.mkdir(exist_ok=True)
        shutil.copy(CAMVID / "masks" / name, masks / where)
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return tmp_path


@needs_shared
def test_segment_on_ray_writes_the_local_engines_files(ray_cluster, camvid_folder, monkeypatch):
    """A second driver (the real CLI, relative paths) joins the cluster by its address."""
    common = ["segment", "images", "--backbone-weights", str(ESPNET_WEIGHTS), "--save-probs", "--overlay",
              "--compare", "--batch-size", "2"]
    monkeypatch.chdir(camvid_folder)
    local = runner.invoke(app, [*common, "--out", "local"])
    assert local.exit_code == 1, local.output  # the corrupt image
    command = [sys.executable, "-m", "spnrefine", *common, "--out", "ray", "--engine", "ray",
               "--address", ray_cluster, "--num-workers", "2", "-q"]
    distributed = subprocess.run(command, cwd=camvid_folder, capture_output=True, text=True, timeout=600)
    assert distributed.returncode == 1, distributed.stderr
    assert "done 5, skipped 0, failed 1" in distributed.stderr
    assert "images/broken.png" in distributed.stderr
    assert_same_files(camvid_folder / "local", camvid_folder / "ray")
    assert len(tree(camvid_folder / "ray")) == 5 * 4  # label PNG, probabilities, overlay, comparison

    written = {p: p.stat().st_mtime_ns for p in (camvid_folder / "ray").rglob("*")}
    again = subprocess.run(command, cwd=camvid_folder, capture_output=True, text=True, timeout=600)
    assert "done 0, skipped 5" in again.stderr  # finished images are skipped, the broken one retried
    assert written == {p: p.stat().st_mtime_ns for p in (camvid_folder / "ray").rglob("*")}


@needs_shared
def test_refine_on_ray_writes_the_local_engines_files(ray_cluster, camvid_folder):
    """In-process: the CLI reuses the caller's Ray connection (and leaves it open)."""
    (camvid_folder / "images" / "broken.png").unlink()
    common = ["refine", "--images", str(camvid_folder / "images"), "--masks", str(camvid_folder / "masks"),
              "--ignore-index", "11", "--palette", "camvid", "--save-probs", "--compare",
              "--gt", str(camvid_folder / "masks"), "-q"]
    local = runner.invoke(app, [*common, "--out", str(camvid_folder / "local")])
    assert local.exit_code == 0, local.output
    distributed = runner.invoke(app, [*common, "--out", str(camvid_folder / "ray"), "--engine", "ray"])
    assert distributed.exit_code == 0, distributed.output
    assert "done 5, skipped 0" in distributed.output
    assert_same_files(camvid_folder / "local", camvid_folder / "ray")
    assert ray.is_initialized()


@needs_shared
def test_espnet_and_refiner_compute_the_same_bits_on_one_to_four_threads():
    """Why the engines agree: a Ray worker with one CPU runs torch on one thread."""
    from spnrefine.backbones import load_backbone, predict_logits
    from spnrefine.io.images import read_image
    from spnrefine.refiner import Refiner

    images = [read_image(CAMVID / "images" / name) for name in camvid_names("val", 2)]
    backbone = load_backbone("espnet-camvid", ESPNET_WEIGHTS)
    refiners = [Refiner.load("agnostic"), Refiner.load("camvid")]  # camvid: what segment uses with ESPNet
    threads = torch.get_num_threads()
    results = []
    try:
        for count in (1, 2, 3, 4):
            torch.set_num_threads(count)
            probabilities = torch.softmax(predict_logits(backbone, images), dim=1)
            results.append((probabilities, *(refiner.refine_batch(images, probabilities) for refiner in refiners)))
    finally:
        torch.set_num_threads(threads)
    for probabilities, *refined in results[1:]:
        assert torch.equal(probabilities, results[0][0])
        assert all(torch.equal(mine, first) for mine, first in zip(refined, results[0][1:]))


def _tiny_pair(root: Path) -> list[str]:
    """A 40×30 image and a 2-class label mask; returns the refine arguments for them."""
    from PIL import Image

    (root / "in").mkdir(), (root / "masks").mkdir()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(root / "in" / "a.png")
    Image.new("L", (40, 30), 1).save(root / "masks" / "a.png")
    return ["refine", "--images", str(root / "in"), "--masks", str(root / "masks"), "--out", str(root / "out"),
            "--num-classes", "2", "-q"]


def _run_cli(arguments: list[str], before: str = "", after: str = "") -> subprocess.CompletedProcess:
    code = f"import sys\n{before}\nfrom spnrefine.cli.app import main\nsys.argv = {['spnrefine', *arguments]!r}\n" \
           f"try:\n    main()\nfinally:\n    {after or 'pass'}\n"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_the_local_engine_never_imports_ray(tmp_path):
    result = _run_cli(_tiny_pair(tmp_path), after="print('ray' in sys.modules, 'ray.data' in sys.modules)")
    assert "done 1" in result.stdout, result.stdout + result.stderr
    assert result.stdout.strip().endswith("False False"), result.stdout


def test_ray_engine_without_ray_says_how_to_install_it(tmp_path):
    result = _run_cli([*_tiny_pair(tmp_path), "--engine", "ray"], before="sys.modules['ray'] = None")
    assert result.returncode == 1
    assert "--engine ray needs Ray: pip install 'spnrefine[ray]'" in result.stderr
    assert not (tmp_path / "out" / "a.png").exists()


def test_an_unreachable_cluster_is_a_clear_error_not_a_hang(tmp_path):
    result = runner.invoke(app, [*_tiny_pair(tmp_path), "--engine", "ray", "--address", "127.0.0.1:1"])
    assert result.exit_code == 1
    assert "cannot reach a Ray cluster at 127.0.0.1:1" in result.output, result.output
    assert not (tmp_path / "out" / "a.png").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--engine", "spark"], "--engine must be local or ray"),
        (["--num-workers", "2"], "need --engine ray"),
        (["--engine", "ray", "--device", "cpu"], "--device is for --engine local"),
    ],
)
def test_engine_options_are_checked_before_any_work(tmp_path, extra, message):
    from PIL import Image

    (tmp_path / "in").mkdir()
    Image.new("RGB", (40, 30)).save(tmp_path / "in" / "a.png")
    result = runner.invoke(app, ["segment", str(tmp_path / "in"), "--out", str(tmp_path / "out"), *extra])
    assert result.exit_code == 1 and message in result.output, result.output
    assert not (tmp_path / "out").exists()


@needs_shared
def test_engine_benchmark_reports_both_engines_and_identical_files(ray_cluster, camvid_folder):
    (camvid_folder / "images" / "broken.png").unlink()
    result = runner.invoke(app, ["benchmark", "engines", str(camvid_folder / "images"), "--backbone-weights",
                                 str(ESPNET_WEIGHTS), "--limit", "3", "--batch-size", "1", "--no-refine"])
    assert result.exit_code == 0, result.output
    assert "ray      2 x 1 CPU" in result.output and "local    1 (" in result.output
    assert "outputs identical: yes (3 files)" in result.output


def test_a_killed_ray_run_leaves_no_partial_file_and_a_rerun_resumes(ray_cluster, tmp_path):
    from PIL import Image
    from test_reliability import _command, _dataset

    images, masks = _dataset(tmp_path, 40)
    out = tmp_path / "ray"
    command = [*_command(images, masks, out), "--engine", "ray", "--address", ray_cluster, "--num-workers", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and len(list(out.glob("*.npy"))) < 3:
        time.sleep(0.02)
    process.kill()
    process.wait()
    time.sleep(2)  # Ray ends the dead driver's workers
    finished = list(out.glob("*.png"))
    assert 0 < len(finished) < 40, "the kill came too late to test anything"
    for png in finished:
        Image.open(png).load()  # every visible PNG is complete
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "skipped 0" not in rerun.stdout and "failed 0" in rerun.stdout
    assert not list(out.rglob("*.part")), "stale temporaries were not cleaned up"
    local = subprocess.run(_command(images, masks, tmp_path / "local"), capture_output=True, text=True)
    assert local.returncode == 0, local.stderr
    assert_same_files(tmp_path / "local", out)
