"""Evaluate: score the new model on the held-out images, log the score to its MLflow run, write the evaluation.

    python -m {{ cookiecutter.__package_name }}.steps.evaluate --dataset dataset.npz --model model/ \
        --evaluation evaluation.json

The held-out images are those the model's own held-out rule (model/model.json) picks from the dataset.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..artifacts import Dataset, ModelInfo, read_dataset, read_model_info, write_json
from ..checks import check_tracking_server
from ..errors import UserError
from . import add_artifact, add_tracking, run_step, say, step_parser


def check_fit(dataset: Dataset, info: ModelInfo, model: str) -> None:
    """The dataset is the one the model was trained on, as far as shape and classes tell."""
    if dataset.class_names != info.class_names:
        raise UserError(
            f"model {model} was trained on classes {list(info.class_names)}; the dataset has "
            f"{list(dataset.class_names)}"
        )
    if tuple(dataset.images.shape[1:]) != info.input_shape:
        raise UserError(
            f"model {model} takes {info.input_shape} images; the dataset holds {tuple(dataset.images.shape[1:])}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    return run_step(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = step_parser("evaluate", "Score the new model on the held-out images and log the score.")
    artifacts = parser.add_argument_group("artifacts")
    add_artifact(artifacts, "dataset", "the dataset (from the ingest step)")
    add_artifact(artifacts, "model", "the model folder (from the train step)")
    add_artifact(artifacts, "evaluation", "the evaluation to write (.json)")
    add_tracking(parser, parser.add_argument_group("MLflow"))
    args = parser.parse(argv)
    check_tracking_server(args.tracking_uri)
    info = read_model_info(args.model)
    dataset = read_dataset(args.dataset)
    check_fit(dataset, info, str(args.model))

    import mlflow  # TensorFlow and MLflow: imported after the fast checks

    from .. import data, plots, tracking
    from ..artifacts import load_network
    from ..scoring import evaluate

    held_out = data.split(dataset.labelled(), info.holdout).test
    result = evaluate(load_network(args.model), held_out)
    say(result.report(info.class_names))
    client = tracking.connect(args.tracking_uri)
    if not tracking.run_exists(client, info.run_id):
        raise UserError(
            f"MLflow run {info.run_id} of model {args.model} is not in the tracking store {args.tracking_uri}"
        )
    with mlflow.start_run(run_id=info.run_id):
        mlflow.log_metric("test_accuracy", result.accuracy)
        mlflow.log_figure(plots.confusion_matrix(result.confusion, info.class_names), "plots/confusion_matrix.png")
    write_json(
        args.evaluation,
        {
            "accuracy": result.accuracy,
            "held_out_images": len(held_out),
            "held_out_rule": info.holdout.describe(),
            "class_names": list(info.class_names),
            "confusion": result.confusion.tolist(),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
