"""Charts of an evaluation, drawn with matplotlib (headless): per-class change and the confusion matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def per_class_chart(path: Path, names: list[str], values: dict[str, list[float | None]], title: str,
                    xlabel: str) -> None:
    """Horizontal bars, one group per class; ``values``: series label → one value per class (None: absent)."""
    plt = _pyplot()
    rows = [i for i, name in enumerate(names) if any(series[i] is not None for series in values.values())]
    height = max(2.5, 0.22 * len(rows) * max(1, len(values) * 0.6) + 1.2)
    figure, axes = plt.subplots(figsize=(7.5, height))
    band = 0.8 / len(values)
    positions = np.arange(len(rows))
    for index, (label, series) in enumerate(values.items()):
        data = [series[i] if series[i] is not None else 0.0 for i in rows]
        colours = [("#2a9d4b" if v >= 0 else "#d1493f") if len(values) == 1 else None for v in data]
        axes.barh(positions + index * band, data, height=band, label=label,
                  color=colours if len(values) == 1 else f"C{index}")
    axes.set_yticks(positions + band * (len(values) - 1) / 2, [names[i] for i in rows],
                    fontsize=8 if len(rows) <= 40 else 6)
    axes.invert_yaxis()
    axes.axvline(0, color="0.3", linewidth=0.8)
    axes.set(xlabel=xlabel, title=title)
    axes.grid(axis="x", alpha=0.3)
    if len(values) > 1:
        axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def confusion_chart(path: Path, confusion: np.ndarray, names: list[str]) -> None:
    """Heat map of the (K, K+1) confusion counts, each ground-truth row normalized to 100%."""
    plt = _pyplot()
    counts = np.asarray(confusion, float)
    rows = counts / np.maximum(counts.sum(1, keepdims=True), 1) * 100
    k = len(names)
    size = min(16.0, max(5.0, 0.32 * k + 2))
    figure, axes = plt.subplots(figsize=(size + 1, size))
    image = axes.imshow(rows, cmap="viridis", vmin=0, vmax=100, aspect="auto", interpolation="nearest")
    labels = [*names, "outside [0, K)"]
    if k <= 60:
        axes.set_xticks(range(k + 1), labels, rotation=90, fontsize=7 if k > 20 else 8)
        axes.set_yticks(range(k), names, fontsize=7 if k > 20 else 8)
    if k <= 20:
        for (r, c), value in np.ndenumerate(rows):
            if value >= 0.5:
                axes.text(c, r, f"{value:.0f}", ha="center", va="center", fontsize=6,
                          color="black" if value > 60 else "white")
    axes.set(xlabel="predicted", ylabel="ground truth", title="confusion (% of each ground-truth class)")
    figure.colorbar(image, ax=axes, fraction=0.04)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
