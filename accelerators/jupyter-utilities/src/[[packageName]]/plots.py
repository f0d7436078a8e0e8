"""Image grids for notebooks (matplotlib): images with titles, and images with their predicted labels and scores.

Each function returns the figure; in a notebook, assign it (`figure = show_predictions(...)`) and the inline backend
shows it once at the end of the cell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .data import as_images

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .classify import Prediction

RIGHT, WRONG = "tab:green", "tab:red"


def show_images(
    images: Sequence[Image.Image | np.ndarray | str | Path],
    titles: Sequence[str] | None = None,
    *,
    columns: int = 8,
    size: float = 1.6,
) -> Figure:
    """A grid of images (PIL images, pixel arrays or file paths), each with its title."""
    captions = [(str(title), "black") for title in titles] if titles is not None else None
    return _grid(as_images(images), captions, columns, size)


def show_predictions(
    images: Sequence[Image.Image | np.ndarray | str | Path],
    predictions: Sequence[Sequence[Prediction]],
    *,
    truth: Sequence[str] | None = None,
    top: int = 3,
    columns: int = 4,
    size: float = 2.4,
) -> Figure:
    """A grid of images, each with its `top` predicted labels and scores; with `truth`, green when the first is right."""
    if len(predictions) != len(images) or (truth is not None and len(truth) != len(images)):
        raise ValueError("images, predictions and truth need one entry per image")
    captions = []
    for index, ranked in enumerate(predictions):
        colour = "black" if truth is None else (RIGHT if ranked and ranked[0].label == truth[index] else WRONG)
        captions.append(("\n".join(f"{p.label} {p.score:.2f}" for p in ranked[:top]), colour))
    return _grid(as_images(images), captions, columns, size)


def _grid(images: list[Image.Image], captions: list[tuple[str, str]] | None, columns: int, size: float) -> Figure:
    import matplotlib.pyplot as plt

    count = max(1, len(images))
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    lines = max((caption.count("\n") + 1 for caption, _ in captions), default=0) if captions else 0
    figure, axes = plt.subplots(
        rows, columns, figsize=(columns * size, rows * (size + 0.2 * lines)), squeeze=False, layout="constrained"
    )
    for index, axis in enumerate(axes.flat):
        axis.set_axis_off()
        if index >= len(images):
            continue
        image = images[index]
        axis.imshow(image, cmap="gray" if image.mode in ("L", "1", "I", "F") else None, interpolation="nearest")
        if captions:
            text, colour = captions[index]
            axis.set_title(text, color=colour, fontsize=9)
    return figure
