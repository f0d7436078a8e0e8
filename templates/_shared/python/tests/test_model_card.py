"""The model card: every fact of the run in Markdown, within MLflow's description limit when asked."""

from __future__ import annotations

import dataclasses

import pytest
from model_card import ModelCard, per_class_scores, render


@pytest.fixture
def card() -> ModelCard:
    return ModelCard(
        model_name="digits-cnn",
        version="3",
        run_id="abc123",
        summary="Recognises handwritten digits.",
        data_source="scikit-learn's handwritten digits",
        parts={"training": 1000, "validation": 100, "held out": 300},
        held_out_rule="20% held out by content hash",
        class_names=("cat", "dog|wolf"),
        confusion=((8, 2), (0, 10)),
        metrics={"held-out accuracy": 0.9, "champion held-out accuracy": 0.85},
        promotion="held-out accuracy 0.9000 vs 0.8500: version 3 wins",
        inputs="float32 (N, 16, 16, 1)",
        outputs="float32 probabilities (N, 2)",
        intended_use="Sorting photos of pets.",
        limitations=("Only cats and dogs.", "Small images."),
        parameters={"epochs": 6, "image_size": 16},
        forms=("Keras model `data/model.keras`", "ONNX form `extra_files/model.onnx`: agrees on 300 images"),
    )


def test_the_card_holds_every_fact(card):
    text = render(card)

    assert text.startswith("# Model card: digits-cnn version 3\n")
    for fact in (
        "Recognises handwritten digits.",
        "`abc123`",
        "## Promotion",
        "version 3 wins",
        "Source: scikit-learn's handwritten digits.",
        "| training | 1000 |",
        "| held out | 300 |",
        "20% held out by content hash",
        "| held-out accuracy | 0.9000 |",
        "| champion held-out accuracy | 0.8500 |",
        "- Input: float32 (N, 16, 16, 1)",
        "- Output: float32 probabilities (N, 2)\n- Keras model `data/model.keras`\n- ONNX form `extra_files/model.onnx`",
        "| epochs | 6 |",
        "## Intended use\n\nSorting photos of pets.",
        "- Only cats and dogs.\n- Small images.",
    ):
        assert fact in text, fact


def test_the_confusion_matrix_is_a_table_with_escaped_class_names(card):
    lines = render(card).splitlines()
    start = lines.index("| true / predicted | cat | dog\\|wolf |")

    assert lines[start + 1 : start + 4] == ["| --- | --- | --- |", "| cat | 8 | 2 |", "| dog\\|wolf | 0 | 10 |"]
    assert "| cat | 10 | 0.8000 | 1.0000 |" in lines
    assert "| dog\\|wolf | 10 | 1.0000 | 0.8333 |" in lines


def test_per_class_scores_leave_out_what_cannot_be_divided():
    assert per_class_scores(((3, 0), (0, 0))) == [(3, 1.0, 1.0), (0, None, None)]


def test_a_long_card_keeps_its_summary_within_the_limit(card):
    many = tuple(f"class-{number}" for number in range(60))
    big = dataclasses.replace(card, class_names=many, confusion=tuple((1,) * 60 for _ in many))
    full = render(big)
    assert len(full) > 5000

    short = render(big, max_chars=5000)

    assert len(short) <= 5000
    assert "## Confusion matrix" not in short
    assert "in the run's MODEL_CARD.md artifact" in short
    assert "## Limits" in short

    tiny = render(big, max_chars=300)
    assert len(tiny) <= 300 and tiny.endswith("(shortened; the full card is the run's MODEL_CARD.md artifact)\n")


def test_a_card_within_the_limit_is_unchanged(card):
    assert render(card, max_chars=100_000) == render(card)
