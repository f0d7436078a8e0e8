"""A registered model's card: what it was trained on, how it scored on held-out images, what it is for and its limits.

`render` gives Markdown, logged as the run's `MODEL_CARD.md` and set as the registered version's description.
MLflow stores a version description of at most 5,000 characters; `render(card, max_chars=...)` leaves the
per-class tables out (pointing to the artifact) and then shortens the text when the card would be longer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

ARTIFACT_PATH = "MODEL_CARD.md"
_ELLIPSIS = "\n\n(shortened; the full card is the run's MODEL_CARD.md artifact)\n"


@dataclass(frozen=True)
class ModelCard:
    """The facts of one training run and its registered version.

    `confusion[i][j]` counts held-out images of class i predicted as class j. `parts` counts the images per part
    (training, validation, held out); `metrics` are held-out scores; `parameters` are the training settings;
    `forms` says, one sentence each, in which forms the version is stored (the Keras model, its ONNX form or why
    there is none).
    """

    model_name: str
    version: str
    run_id: str
    summary: str
    data_source: str
    parts: Mapping[str, int]
    held_out_rule: str
    class_names: Sequence[str]
    confusion: Sequence[Sequence[int]]
    metrics: Mapping[str, float]
    promotion: str
    inputs: str
    outputs: str
    intended_use: str
    limitations: Sequence[str]
    parameters: Mapping[str, object] = field(default_factory=dict)
    forms: Sequence[str] = ()


def render(card: ModelCard, *, max_chars: int | None = None) -> str:
    """The card as Markdown, at most `max_chars` characters long when given."""
    text = _render(card, per_class=True)
    if max_chars is None or len(text) <= max_chars:
        return text
    text = _render(card, per_class=False)
    if len(text) <= max_chars:
        return text
    return text[: max(0, max_chars - len(_ELLIPSIS))].rstrip() + _ELLIPSIS


def per_class_scores(confusion: Sequence[Sequence[int]]) -> list[tuple[int, float | None, float | None]]:
    """(held-out images, recall, precision) per class; None where there is nothing to divide by."""
    size = len(confusion)
    predicted = [sum(confusion[row][column] for row in range(size)) for column in range(size)]
    scores = []
    for index, row in enumerate(confusion):
        support, hits = sum(row), row[index]
        scores.append(
            (support, hits / support if support else None, hits / predicted[index] if predicted[index] else None)
        )
    return scores


def _render(card: ModelCard, *, per_class: bool) -> str:
    lines = [
        f"# Model card: {card.model_name} version {card.version}",
        "",
        card.summary,
        "",
        f"MLflow run `{card.run_id}`.",
        "",
        "## Promotion",
        "",
        card.promotion,
        "",
        "## Data",
        "",
        f"Source: {card.data_source}.",
        "",
        _table(("part", "images"), [(name, str(count)) for name, count in card.parts.items()]),
        "",
        f"Held-out split: {card.held_out_rule}. An image's part depends on its content alone, so adding images "
        "never moves one between training and held out.",
        "",
        "## Held-out metrics",
        "",
        _table(("metric", "value"), [(name, f"{value:.4f}") for name, value in card.metrics.items()]),
        "",
    ]
    if per_class:
        lines += [
            "## Confusion matrix",
            "",
            "Rows: true class; columns: predicted class; held-out images.",
            "",
            _confusion_table(card.class_names, card.confusion),
            "",
            "## Per class",
            "",
            _per_class_table(card.class_names, card.confusion),
            "",
        ]
    else:
        lines += [
            f"The confusion matrix and per-class scores of the {len(card.class_names)} classes are in the "
            f"run's {ARTIFACT_PATH} artifact.",
            "",
        ]
    lines += ["## Inputs and outputs", "", f"- Input: {card.inputs}", f"- Output: {card.outputs}"]
    lines += [*(f"- {form}" for form in card.forms), ""]
    if card.parameters:
        lines += [
            "## Training",
            "",
            _table(("parameter", "value"), [(name, str(value)) for name, value in card.parameters.items()]),
            "",
        ]
    lines += [
        "## Intended use",
        "",
        card.intended_use,
        "",
        "## Limits",
        "",
        *(f"- {limit}" for limit in card.limitations),
        "",
    ]
    return "\n".join(lines)


def _confusion_table(class_names: Sequence[str], confusion: Sequence[Sequence[int]]) -> str:
    header = ("true / predicted", *class_names)
    rows = [(name, *(str(count) for count in row)) for name, row in zip(class_names, confusion, strict=True)]
    return _table(header, rows)


def _per_class_table(class_names: Sequence[str], confusion: Sequence[Sequence[int]]) -> str:
    rows = [
        (name, str(support), _ratio(recall), _ratio(precision))
        for name, (support, recall, precision) in zip(class_names, per_class_scores(confusion), strict=True)
    ]
    return _table(("class", "held-out images", "recall", "precision"), rows)


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = [_row(header), _row(["---"] * len(header))]
    lines += [_row(row) for row in rows]
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _cell(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
