"""Accuracy and confusion matrix on the held-out images: the one evaluation every model is ranked by."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import keras

    from .data import LabelledImages

EVALUATION_BATCH_SIZE = 256


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    confusion: np.ndarray  # rows: true class, columns: predicted class

    def report(self, class_names: Sequence[str]) -> str:
        width = max(5, *(len(name) for name in class_names))
        lines = [
            f"accuracy {self.accuracy:.4f} on {int(self.confusion.sum())} held-out images",
            "confusion matrix (rows: true, columns: predicted):",
            " " * width + "".join(f"{name:>{width + 1}}" for name in class_names),
        ]
        for name, row in zip(class_names, self.confusion, strict=True):
            lines.append(f"{name:>{width}}" + "".join(f"{count:>{width + 1}}" for count in row))
        return "\n".join(lines)


def evaluate(model: keras.Model, test: LabelledImages) -> Evaluation:
    """Score `model` on `test`: the same function ranks every candidate against the champion."""
    from sklearn.metrics import confusion_matrix

    from .data import to_dataset

    probabilities = model.predict(to_dataset(test, EVALUATION_BATCH_SIZE), verbose=0)
    predicted = np.argmax(probabilities, axis=1)
    accuracy = float(np.mean(predicted == test.labels))
    matrix = confusion_matrix(test.labels, predicted, labels=np.arange(len(test.class_names)))
    return Evaluation(accuracy, matrix)
