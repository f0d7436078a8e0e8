"""Accuracy and confusion matrix on the held-out images; `python -m {{ cookiecutter.__package_name }}.evaluate` scores a registered model."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import checks
from .config import build_parser, settings_from_args
from .errors import UserError, run_cli

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


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser("Evaluate a logged or registered model on the held-out images.", promotion=False)
    parser.add_argument("--model-uri", help="default: models:/<registered model name>@champion")
    args = parser.parse(argv)
    settings = settings_from_args(args)
    checks.preflight(settings)
    model_uri = args.model_uri or f"models:/{settings.registered_model_name}@champion"

    # Imported after the fast checks: TensorFlow takes seconds to import.
    from . import data, tracking

    tracking.configure(settings)
    loaded = tracking.load(model_uri)
    facts = loaded.facts
    if len(facts.input_shape) == 3:
        settings = dataclasses.replace(settings, image_size=int(facts.input_shape[0]))
    rule = facts.holdout
    if rule is None:
        rule = settings.holdout
        print(
            f"warning: {model_uri} records no held-out rule; scoring it on the images held out by the current rule "
            f"({rule.describe()}), some of which it may have trained on",
            file=sys.stderr,
        )
    splits = data.split(data.load(settings), rule)
    if facts.class_names and facts.class_names != splits.class_names:
        raise UserError(
            f"{model_uri} was trained on classes {list(facts.class_names)}; the data now has {list(splits.class_names)}"
        )
    result = evaluate(loaded.model, splits.test)
    print(f"{model_uri}: " + result.report(splits.class_names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
