"""Registering a trained model: the champion scored again, the promotion decision, the model card, the alias.

The decision is `promotion.decide` and the card's text `model_card.render`; this module gathers their facts and
writes the outcome to MLflow: the version's tags (the promotion, and the ONNX form's figures or why there is none)
and description, the run's tags and MODEL_CARD.md, and last the champion alias, so that a version is complete before
serving can pick it up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import mlflow
from mlflow import MlflowClient

from . import model_card, tracking
from .data import LabelledImages, Splits
from .holdout import HoldoutRule
from .promotion import Contender, Decision, decide, differences
from .scoring import Evaluation, evaluate

DESCRIPTION = "{{ cookiecutter.description }}"
PROMOTE_ANYWAY = "--promote-anyway / PROMOTE_ANYWAY=true"  # how the promotion messages name the override
METRIC = "held-out accuracy"
FEW_HELD_OUT_IMAGES = 10  # per class: fewer make that class's scores a rough guide only
{%- if cookiecutter.data_source == 'digits' %}
INTENDED_USE = (
    "Recognising single handwritten digits (0 to 9), centred and light on a dark background like "
    "scikit-learn's digits. A demonstration and a starting point: train it on your own images before "
    "relying on it."
)
DATA_LIMITS = (
    "Trained on scikit-learn's 1,797 8x8 digits by 43 writers, upscaled: other handwriting, pens, "
    "contrast or framing are outside what it has seen.",
)
{%- else %}
INTENDED_USE = (
    "Sorting images of the same kind as its training images (subject, framing, camera or scanner) into "
    "the classes they were labelled with."
)
DATA_LIMITS = (
    "Labels are taken as given: mislabelled training images teach mistakes, and mislabelled held-out "
    "images distort the scores below.",
    "Scored on held-out images from the same source; images from elsewhere may score lower.",
)
{%- endif %}


@dataclass(frozen=True)
class Candidate:
    """A trained model about to be registered: its registered name and what the comparison with the champion needs."""

    name: str
    input_shape: tuple[int, int, int]
    holdout: HoldoutRule
    data_source: str  # where its images came from, for the model card
    promote_anyway: bool = False
    override_name: str = PROMOTE_ANYWAY  # how messages name what sets `promote_anyway`


@dataclass(frozen=True)
class Registration:
    """The registered version, the decision about the alias and the card written for it."""

    version: str
    decision: Decision
    champion_accuracy: float | None
    card: str


def register_and_promote(
    client: MlflowClient,
    new: Candidate,
    run_id: str,
    logged: tracking.Logged,
    splits: Splits,
    result: Evaluation,
    parameters: Mapping[str, object],
) -> Registration:
    """Register the candidate in the active run; give it the champion alias only as `promotion.decide` says."""
    name = new.name
    version = tracking.register(logged.uri, name, result.accuracy)
    candidate = Contender(version, new.input_shape, splits.class_names, new.holdout.held_out_key())
    champion, champion_accuracy = score_champion(client, name, candidate, splits.test)
    decision = decide(
        candidate,
        result.accuracy,
        champion,
        champion_accuracy,
        override=new.promote_anyway,
        override_name=new.override_name,
        metric=METRIC,
    )

    metrics = {METRIC: result.accuracy}
    if champion is not None and champion_accuracy is not None:
        metrics[f"{METRIC} of champion version {champion.version}"] = champion_accuracy
    forms = ("Keras model `data/model.keras`, for TensorFlow", logged.onnx.describe("held-out images"))
    card = card_for(new, version, run_id, splits, result, metrics, decision, parameters, forms)
    text = model_card.render(card)
    mlflow.log_text(text, model_card.ARTIFACT_PATH)
    outcome = {"promoted": str(decision.promote).lower(), "promotion": decision.reason}
    mlflow.set_tags(outcome)
    tracking.tag_version(client, name, version, {**outcome, **logged.onnx.tags()})
    description = model_card.render(card, max_chars=tracking.MAX_DESCRIPTION_CHARS)
    tracking.describe_version(client, name, version, description)
    if decision.promote:
        tracking.promote(client, name, version)
    return Registration(version, decision, champion_accuracy, text)


def score_champion(
    client: MlflowClient, name: str, candidate: Contender, test: LabelledImages
) -> tuple[Contender | None, float | None]:
    """The champion as a contender, and its accuracy on `test` when it is comparable with `candidate`."""
    version = tracking.champion_version(client, name)
    if version is None:
        return None, None
    uri = f"models:/{name}/{version}"
    facts = tracking.model_facts(uri)
    champion = Contender(
        version, facts.input_shape, facts.class_names, facts.holdout.held_out_key() if facts.holdout else ""
    )
    if differences(candidate, champion):
        return champion, None
    accuracy = evaluate(tracking.load(uri).model, test).accuracy
    mlflow.log_metric("champion_test_accuracy", accuracy)
    return champion, accuracy


def card_for(
    new: Candidate,
    version: str,
    run_id: str,
    splits: Splits,
    result: Evaluation,
    metrics: Mapping[str, float],
    decision: Decision,
    parameters: Mapping[str, object],
    forms: Sequence[str],
) -> model_card.ModelCard:
    classes = splits.class_names
    height, width, channels = new.input_shape
    size = f"{height}x{width}"
    colour = "greyscale" if channels == 1 else "RGB"
    support = result.confusion.sum(axis=1)
    few = [class_name for class_name, count in zip(classes, support, strict=True) if count < FEW_HELD_OUT_IMAGES]
    stored = splits.test.describe_sizes()
    limitations = [
        f"It only knows its {len(classes)} classes: every image gets one of them, even an image of none; use the "
        "probabilities to refuse uncertain answers where that matters.",
        f"Images are resized to {size} pixels (the held-out images are stored at {stored}); details finer than that "
        "are lost.",
        *DATA_LIMITS,
    ]
    if few:
        limitations.append(
            f"Fewer than {FEW_HELD_OUT_IMAGES} held-out images for {len(few)} class(es) "
            f"({', '.join(few[:10])}{', ...' if len(few) > 10 else ''}): their scores are rough."
        )
    return model_card.ModelCard(
        model_name=new.name,
        version=version,
        run_id=run_id,
        summary=f"{DESCRIPTION}\n\nA convolutional network that sorts {size} {colour} images into {len(classes)} "
        f"classes: {', '.join(classes[:20])}{', ...' if len(classes) > 20 else ''}.",
        data_source=new.data_source,
        parts={"training": len(splits.train), "validation": len(splits.validation), "held out": len(splits.test)},
        held_out_rule=new.holdout.describe(),
        class_names=classes,
        confusion=result.confusion.tolist(),
        metrics=metrics,
        promotion=decision.reason,
        inputs=f"float32 (N, {height}, {width}, {channels}) raw {colour} pixel values 0..255; the model rescales them",
        outputs=f"float32 softmax probabilities (N, {len(classes)}), in the order of the metadata `class_names`",
        intended_use=INTENDED_USE,
        limitations=limitations,
        parameters=parameters,
        forms=forms,
    )
