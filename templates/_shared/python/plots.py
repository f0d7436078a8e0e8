"""Figures logged with each run. Built on matplotlib's Figure directly: no pyplot, no display, Agg output."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

Curve = Sequence[tuple[int, float]]  # (epoch, value)


def learning_curves(curves: Mapping[str, Curve]) -> Figure:
    """Loss and accuracy per epoch, training against validation."""
    figure = Figure(figsize=(10, 4), layout="constrained")
    for axes, metric in zip(figure.subplots(1, 2), ("loss", "accuracy"), strict=True):
        for prefix, label in (("", "training"), ("val_", "validation")):
            points = curves.get(prefix + metric, ())
            if points:
                epochs, values = zip(*points, strict=True)
                axes.plot([epoch + 1 for epoch in epochs], values, marker="o", label=label)
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle("Learning curves")
    return figure


def confusion_matrix(matrix: np.ndarray, class_names: Sequence[str]) -> Figure:
    """Counts of held-out images per (true, predicted) class."""
    size = max(4.0, 0.5 * len(class_names) + 2)
    figure = Figure(figsize=(size, size), layout="constrained")
    axes = figure.subplots()
    axes.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(class_names))
    axes.set_xticks(ticks, labels=class_names, rotation=90 if len(class_names) > 10 else 0)
    axes.set_yticks(ticks, labels=class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, column), count in np.ndenumerate(matrix):
        axes.text(
            column,
            row,
            str(count),
            ha="center",
            va="center",
            color="white" if count > threshold else "black",
            fontsize=8,
        )
    axes.set_title("Confusion matrix (held-out images)")
    return figure
