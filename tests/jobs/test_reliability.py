"""A batch killed mid-way leaves no partial file and resumes; outputs are byte-identical across runs;
huge images stay within memory."""

import subprocess
import sys
import time

import numpy as np
from PIL import Image

from spnrefine.io.writers import write_label_png


def _dataset(folder, count, size=(120, 160)):
    (folder / "images").mkdir(parents=True), (folder / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        labels = np.zeros(size, np.int64)
        labels[20:90, 30 + i % 50:120] = 1
        image = (labels[:, :, None] * 120 + rng.integers(0, 60, (*size, 3))).astype(np.uint8)
        Image.fromarray(image).save(folder / "images" / f"img{i:03d}.png")
        write_label_png(folder / "masks" / f"img{i:03d}.png", labels, None)
    return folder / "images", folder / "masks"


def _command(images, masks, out):
    return [sys.executable, "-m", "spnrefine", "refine", "--images", str(images), "--masks", str(masks),
            "--out", str(out), "--save-probs", "--num-classes", "2", "-q"]


def test_killed_batch_leaves_no_partial_file_and_a_rerun_resumes(tmp_path):
    images, masks = _dataset(tmp_path, 40)
    out = tmp_path / "out"
    process = subprocess.Popen(_command(images, masks, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("*.npy"))) < 3:
        time.sleep(0.02)
    process.kill()
    process.wait()
    finished = sorted(p.stem for p in out.glob("*.png"))
    assert 0 < len(finished) < 40, "the kill came too late to test anything"
    for png in out.glob("*.png"):
        Image.open(png).load()  # every visible PNG is complete
    for npy in out.glob("*.npy"):
        assert np.load(npy).shape == (2, 120, 160)
    complete = len([s for s in finished if (out / f"{s}.npy").exists()])  # counted before the rerun writes more
    rerun = subprocess.run(_command(images, masks, out), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"done {40 - complete}, skipped {complete}" in rerun.stdout
    assert not list(out.rglob("*.part")), "stale temporaries were not cleaned up"
    assert len(list(out.glob("*.png"))) == 40


def test_outputs_are_byte_identical_across_runs(tmp_path):
    images, masks = _dataset(tmp_path, 2)
    for name in ("a", "b"):
        result = subprocess.run(_command(images, masks, tmp_path / name), capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name
