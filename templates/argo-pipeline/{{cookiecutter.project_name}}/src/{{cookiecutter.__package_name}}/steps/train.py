"""Train: fit the CNN on the dataset's training images, log the run to MLflow, write the model artifact.

    python -m {{ cookiecutter.__package_name }}.steps.train --dataset dataset.npz --model model/

The held-out images (a fixed share, chosen by a hash of each image's content and --holdout-salt, see holdout.py)
are never trained on: the evaluate and register steps score the new model, and the champion, on them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .. import config
from ..artifacts import ModelInfo, read_dataset, write_model
from ..checks import check_tracking_server
from ..flags import fraction, positive_float, positive_int, switch
from ..holdout import HoldoutRule
from . import add_artifact, add_tracking, run_step, say, step_parser

TRACKED_METRICS = ("loss", "val_loss", "accuracy", "val_accuracy")


def main(argv: Sequence[str] | None = None) -> int:
    return run_step(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = step_parser("train", "Train the CNN on the dataset's training images and write the model.")
    artifacts = parser.add_argument_group("artifacts")
    add_artifact(artifacts, "dataset", "the dataset (from the ingest step)")
    add_artifact(artifacts, "model", "the model folder to write")
    parameters = parser.add_argument_group("parameters")
    option = parser.add_env_option
    option(parameters, "--epochs", "EPOCHS", positive_int, config.EPOCHS)
    option(parameters, "--batch-size", "BATCH_SIZE", positive_int, config.BATCH_SIZE)
    option(parameters, "--learning-rate", "LEARNING_RATE", positive_float, config.LEARNING_RATE)
    option(parameters, "--conv-blocks", "CONV_BLOCKS", positive_int, config.CONV_BLOCKS)
    option(
        parameters,
        "--filters",
        "FILTERS",
        positive_int,
        config.FILTERS,
        "filters in the first block, doubled per block",
    )
    option(parameters, "--dropout", "DROPOUT", fraction, config.DROPOUT)
    option(
        parameters, "--patience", "PATIENCE", positive_int, config.PATIENCE, "epochs without a better validation loss"
    )
    option(parameters, "--seed", "SEED", int, config.SEED, "fixes shuffling and initial weights")
    option(parameters, "--augmentation", "AUGMENTATION", switch, config.AUGMENTATION, "random flips, rotations, zoom")
    option(
        parameters,
        "--holdout-salt",
        "HOLDOUT_SALT",
        str,
        config.PROJECT_NAME,
        "images are held out by a hash of their content and this salt; another salt draws another held-out set, "
        "on which the champion cannot be compared",
    )
    add_tracking(parser, parser.add_argument_group("MLflow"), experiment=True)
    args = parser.parse(argv)
    check_tracking_server(args.tracking_uri)
    dataset = read_dataset(args.dataset)

    # TensorFlow and MLflow: imported after the fast checks.
    import keras
    import mlflow

    from .. import callbacks, data, plots, tracking
    from .. import model as cnn

    mixed_precision = cnn.use_mixed_precision_on_gpu()
    strategy = cnn.choose_strategy()
    keras.utils.set_random_seed(args.seed)
    rule = HoldoutRule(args.holdout_salt)
    splits = data.split(dataset.labelled(), rule)
    classes = splits.class_names
    height, width, channels = dataset.images.shape[1:]
    say(
        f"{len(splits.train)} training, {len(splits.validation)} validation and {len(splits.test)} held-out images "
        f"of {len(classes)} classes, {height}x{width}x{channels}; held out: {rule.describe()}"
    )
    batch_size = args.batch_size * strategy.num_replicas_in_sync
    with strategy.scope():
        network = cnn.build_model(
            (height, width, channels),
            len(classes),
            conv_blocks=args.conv_blocks,
            filters=args.filters,
            dropout=args.dropout,
            seed=args.seed,
            augment=args.augmentation,
        )
        cnn.compile_model(network, args.learning_rate)

    client = tracking.configure(args.tracking_uri, args.experiment)
    parameters = {
        "image_size": height,
        "channels": channels,
        "classes": len(classes),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "conv_blocks": args.conv_blocks,
        "filters": args.filters,
        "dropout": args.dropout,
        "patience": args.patience,
        "seed": args.seed,
        "augmentation": args.augmentation,
        "holdout_salt": args.holdout_salt,
        "held_out_fraction": rule.held_out_fraction,
        "train_images": len(splits.train),
        "validation_images": len(splits.validation),
        "test_images": len(splits.test),
        "strategy": type(strategy).__name__,
        "replicas": strategy.num_replicas_in_sync,
        "mixed_precision": mixed_precision,
    }
    with mlflow.start_run() as run:
        mlflow.set_tags({"data_source": dataset.source, "pipeline_step": "train"})
        mlflow.log_params(parameters)
        say(f"MLflow run {run.info.run_id} in experiment {args.experiment!r} at {args.tracking_uri}")
        history = network.fit(
            data.to_dataset(splits.train, batch_size, shuffle_seed=args.seed),
            validation_data=data.to_dataset(splits.validation, batch_size),
            epochs=args.epochs,
            callbacks=[
                callbacks.MlflowEpochMetrics(),
                keras.callbacks.EarlyStopping(monitor="val_loss", patience=args.patience, restore_best_weights=True),
            ],
            shuffle=False,  # the input pipeline shuffles
            verbose=2,
        )
        curves = tracking.metric_curves(client, run.info.run_id, TRACKED_METRICS)
        mlflow.log_figure(plots.learning_curves(curves), "plots/learning_curves.png")
    info = ModelInfo(run.info.run_id, classes, (height, width, channels), rule, parameters)
    write_model(args.model, network, info)
    say(f"trained {len(history.history.get('loss', []))} epochs; model written to {args.model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
