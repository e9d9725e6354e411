"""Rules 48-49's scorer (session 37): mIoU change against coarse on the 0006R0 tuning inputs, SpnRefiner forward in
float32 with each checkpoint's main weights (no thin guard), for checkpoints with and without the extra guidance
inputs (HED's edges in runs/s37/hed*, its deep features in runs/s37/vggpca). Run from the project root with
experiment.patch applied (PYTHONPATH=. so that the patched package is imported); ONLY="own blocks" scores only those.
Usage: python score_guidance_inputs.py OUT.json NAME=CKPT [NAME=CKPT ...]"""
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

from spnrefine.evaluation.metrics import SegmentationMetrics
from spnrefine.io.checkpoints import load_weights
from spnrefine.io.images import read_image
from spnrefine.io.masks import read_label_png
from spnrefine.refiner.weights import model_from_payload

D = Path("../shared/data/camvid")
TUNE = Path("runs/camvid_tune.txt").read_text().split()
INPUTS = {  # name: (coarse dir, names, image dir, edge dir)
    "mild": ("runs/degraded_tune/v0", TUNE, D / "images", "runs/s37/hed"),
    "strong": ("runs/degraded_tune_strong/v0", TUNE, D / "images", "runs/s37/hed"),
    "own": ("runs/espnet", TUNE, D / "images", "runs/s37/hed"),
    "tta": ("runs/espnet_tta_tune", TUNE, D / "images", "runs/s37/hed"),
    "unseen": ("runs/unseen_tune", TUNE, D / "images", "runs/s37/hed"),
    "blocks": ("runs/blocks_tune", Path("runs/blocks_tune.txt").read_text().split(), D / "images", "runs/s37/hed"),
    "camera": ("runs/camera_tune/maps", TUNE, Path("runs/camera_tune/images"), "runs/s37/hed_camera"),
}
NAMES = ["sky", "building", "pole", "road", "pavement", "tree", "sign_symbol", "fence", "car", "pedestrian",
         "bicyclist"]


def main():
    torch.set_num_threads(2)
    out = Path(sys.argv[1])
    models = {}
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        models[name] = model_from_payload(load_weights(path), Path(path)).eval()
    only = set(filter(None, os.environ.get("ONLY", "").split()))
    results = {}
    for input_name, (coarse_dir, names, image_dir, edge_dir) in INPUTS.items():
        if only and input_name not in only:
            continue
        metrics = {m: SegmentationMetrics(11, 11, boundary=False) for m in ["coarse", *models]}
        for name in names:
            stem = Path(name).stem
            image = read_image(image_dir / f"{stem}.png")
            truth = read_label_png(D / "masks" / f"{stem}.png")
            coarse = np.load(Path(coarse_dir) / f"{stem}.npy").astype(np.float32)
            metrics["coarse"].update(coarse.argmax(0), truth)
            rgb = torch.from_numpy(image.transpose(2, 0, 1).copy()).float().div(255)[None]
            edge = cv2.imread(f"{edge_dir}/{stem}.png", cv2.IMREAD_GRAYSCALE)
            rgbe = torch.cat([rgb, torch.from_numpy(edge).float().div(255)[None, None]], 1)
            extra_dir = Path("runs/s37/vggpca") / ("camera" if input_name == "camera" else "plain")
            if (extra_dir / f"{stem}.npy").is_file():
                extra = torch.from_numpy(np.load(extra_dir / f"{stem}.npy").transpose(2, 0, 1).copy())
                rgbe = torch.cat([rgbe, extra.float().div(255)[None]], 1)
            coarse_t = torch.from_numpy(coarse)[None]
            for m, model in models.items():
                with torch.no_grad():
                    refined = model(rgbe[:, :3 + int(model.config.edge_guidance) + model.config.extra_guidance],
                                    coarse_t, log=False)[0]
                metrics[m].update(refined.argmax(0).numpy(), truth)
        summary = {m: metrics[m].summary(NAMES) for m in metrics}
        results[input_name] = {m: {"miou": s["miou"], "per_class": s.get("per_class_iou", s.get("iou"))}
                               for m, s in summary.items()}
        base = summary["coarse"]["miou"]
        print(input_name, f"coarse {base:.2f}", "  ".join(f"{m} {summary[m]['miou'] - base:+.2f}" for m in models),
              flush=True)
    out.write_text(json.dumps(results, indent=1, default=float))


main()
