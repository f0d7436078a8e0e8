"""Register: log the new model to MLflow, register it, and move the champion alias only if it wins like for like.

    python -m [[packageName]].steps.register --dataset dataset.npz --model model/ \
        --evaluation evaluation.json --registration registration.json

The champion is scored again on the same held-out images when it has the same input shape, classes and held-out
rule; the new version takes the alias only with a higher held-out accuracy (see promotion.py). Every version gets
its model card, and its tags `promoted` and `promotion` say what was decided and why.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

from .. import config
from ..artifacts import read_dataset, read_json, read_model_info, write_json
from ..checks import check_tracking_server
from ..errors import UserError
from ..flags import switch
from . import add_artifact, add_tracking, run_step, say, step_parser
from .evaluate import check_fit

OVERRIDE = "the parameter promote-anyway=true"  # how the promotion messages name the override


def main(argv: Sequence[str] | None = None) -> int:
    return run_step(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = step_parser("register", "Register the new model and promote it only if it beats the champion.")
    artifacts = parser.add_argument_group("artifacts")
    add_artifact(artifacts, "dataset", "the dataset (from the ingest step)")
    add_artifact(artifacts, "model", "the model folder (from the train step)")
    add_artifact(artifacts, "evaluation", "the evaluation (from the evaluate step)")
    add_artifact(artifacts, "registration", "the registration to write (.json)")
    tracking_group = parser.add_argument_group("MLflow")
    add_tracking(parser, tracking_group)
    parser.add_env_option(tracking_group, "--registered-model-name", "REGISTERED_MODEL_NAME", str, config.PROJECT_NAME)
    parser.add_env_option(
        tracking_group,
        "--promote-anyway",
        "PROMOTE_ANYWAY",
        switch,
        False,
        "true: move the champion alias even without a like-for-like comparison that the new version wins",
    )
    args = parser.parse(argv)
    check_tracking_server(args.tracking_uri)
    info = read_model_info(args.model)
    dataset = read_dataset(args.dataset)
    check_fit(dataset, info, str(args.model))
    evaluation = read_json(args.evaluation, "evaluation", producer="evaluate")
    try:
        accuracy, confusion = float(evaluation["accuracy"]), np.array(evaluation["confusion"], dtype=np.int64)
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"evaluation {args.evaluation} is incomplete ({exc}); run the evaluate step again") from None

    import mlflow  # TensorFlow and MLflow: imported after the fast checks

    from .. import data, registry, tracking
    from ..artifacts import load_network
    from ..scoring import Evaluation

    splits = data.split(dataset.labelled(), info.holdout)
    network = load_network(args.model)
    client = tracking.connect(args.tracking_uri)
    if not tracking.run_exists(client, info.run_id):
        raise UserError(
            f"MLflow run {info.run_id} of model {args.model} is not in the tracking store {args.tracking_uri}"
        )
    candidate = registry.Candidate(
        args.registered_model_name,
        info.input_shape,
        info.holdout,
        dataset.source,
        args.promote_anyway,
        override_name=OVERRIDE,
    )
    with mlflow.start_run(run_id=info.run_id):
        example = splits.test.images[:4].astype("float32")
        logged = tracking.log_model(network, info.class_names, example, info.holdout, splits.test.images)
        say(tracking.record_onnx_outcome(logged))
        registration = registry.register_and_promote(
            client, candidate, info.run_id, logged, splits, Evaluation(accuracy, confusion), info.parameters
        )
    decision = registration.decision
    write_json(
        args.registration,
        {
            "registered_model": args.registered_model_name,
            "version": registration.version,
            "promoted": decision.promote,
            "compared": decision.compared,
            "reason": decision.reason,
            "accuracy": accuracy,
            "champion_accuracy": registration.champion_accuracy,
        },
    )
    alias = "as the champion" if decision.promote else "without the champion alias"
    say(f"registered {args.registered_model_name} version {registration.version} {alias}: {decision.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
