"""Settings of a training run: the template's answers, overridden by environment variables, overridden by flags."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

[[if #dataSource == 'folder']]from .checks import check_folder, check_tracking_server
[[end #dataSource == 'folder']][[if #dataSource != 'folder']]from .checks import check_tracking_server
[[end #dataSource != 'folder']]from .flags import Parser, fraction, positive_float, positive_int
from .holdout import HoldoutRule
[[if #dataSource == 'postgres']]from .postgres_source import check_table
[[end #dataSource == 'postgres']]
PROJECT_NAME = "[[projectName]]"[[if #dataSource == 'digits']]
CHANNELS = 1  # scikit-learn's digits are greyscale[[end #dataSource == 'digits']]
[[if #dataSource != 'digits']]CHANNELS = 3  # images are converted to RGB
[[end #dataSource != 'digits']]AUGMENTATION = [[if #augmentation]]True[[end #augmentation]][[if !#augmentation]]False[[end !#augmentation]]  # random flips, rotations and zoom while training
DEFAULT_BACKUP_DIR = "training-backup"
HELD_OUT_FRACTION = 0.2  # held out from training; the champion and each candidate are compared on them
VALIDATION_FRACTION = 0.1  # of the other images, for early stopping


@dataclass(frozen=True)
class Settings:
    """Everything a training run needs to know."""

[[if #dataSource == 'folder']]    data_dir: Path
[[end #dataSource == 'folder']][[if #dataSource == 'postgres']]    db_table: str
[[end #dataSource == 'postgres']]    image_size: int
    epochs: int
    batch_size: int
    learning_rate: float
    conv_blocks: int
    filters: int
    dropout: float
    patience: int
    seed: int
    holdout_salt: str
    backup_dir: Path
    tracking_uri: str
    experiment: str
    registered_model_name: str
    promote_anyway: bool = False

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.image_size, self.image_size, CHANNELS)

    @property
    def holdout(self) -> HoldoutRule:
        return HoldoutRule(self.holdout_salt, HELD_OUT_FRACTION, VALIDATION_FRACTION)


def build_parser(description: str, environ: Mapping[str, str] | None = None, *, promotion: bool = True) -> Parser:
    """The training flags; each defaults to its environment variable, then to the template's answer.

    `promotion` adds the flag that overrides the champion rule (commands that register models need it).
    """
    parser = Parser(description=description, environ=environ)
    option = parser.add_env_option

    data = parser.add_argument_group("data")[[if #dataSource == 'folder']]
    option(
        data,
        "--data-dir",
        "DATA_DIR",
        Path,
        "[[dataDir]]",  # converted with Path, like a value from the environment
        "folder with one sub-folder of images per class",
    )[[end #dataSource == 'folder']]
[[if #dataSource == 'postgres']]    option(
        data,
        "--db-table",
        "DB_TABLE",
        str,
        "[[dbTable]]",
        "table with columns image (bytea) and label (text)",
    )
[[end #dataSource == 'postgres']]    option(data, "--image-size", "IMAGE_SIZE", positive_int, [[imageSize]], "images are resized to this many pixels square")
    option(
        data,
        "--holdout-salt",
        "HOLDOUT_SALT",
        str,
        PROJECT_NAME,
        "images are held out by a hash of their content and this salt; another salt draws another held-out set, "
        "on which the champion cannot be compared",
    )
    option(data, "--seed", "SEED", int, 1234, "fixes shuffling and initial weights")

    model = parser.add_argument_group("model and training")
    option(model, "--epochs", "EPOCHS", positive_int, [[epochs]])
    option(model, "--batch-size", "BATCH_SIZE", positive_int, [[batchSize]], "per replica")
    option(model, "--learning-rate", "LEARNING_RATE", positive_float, 0.001)
    option(model, "--conv-blocks", "CONV_BLOCKS", positive_int, [[convBlocks]])
    option(model, "--filters", "FILTERS", positive_int, [[filters]], "filters in the first block, doubled per block")
    option(model, "--dropout", "DROPOUT", fraction, [[dropoutPercent]] / 100)
    option(model, "--patience", "PATIENCE", positive_int, 3, "epochs without a better validation loss before stopping")
    option(
        model,
        "--backup-dir",
        "BACKUP_DIR",
        Path,
        Path(DEFAULT_BACKUP_DIR),
        "training state kept so that an interrupted run resumes",
    )

    tracking = parser.add_argument_group("MLflow")
    parser.add_tracking_uri(tracking)
    option(tracking, "--experiment", "MLFLOW_EXPERIMENT_NAME", str, PROJECT_NAME)
    option(tracking, "--registered-model-name", "REGISTERED_MODEL_NAME", str, PROJECT_NAME)
    if promotion:
        parser.add_env_switch(
            tracking,
            "--promote-anyway",
            "PROMOTE_ANYWAY",
            "move the champion alias to the new version even without a like-for-like comparison "
            "that it wins (another image size or class list, a worse score)",
        )
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The settings among the parsed flags (commands may add flags of their own, such as --once)."""
    return Settings(**{item.name: getattr(args, item.name) for item in fields(Settings) if hasattr(args, item.name)})


def load_settings(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, description: str = "Train the CNN."
) -> Settings:
    """Settings from flags over environment variables over the template's answers."""
    return settings_from_args(build_parser(description, environ).parse(argv))


def preflight(settings: Settings) -> None:
    """Raise UserError when the data or the tracking server cannot be used (before TensorFlow is imported)."""[[if #dataSource == 'folder']]
    check_folder(settings.data_dir)[[end #dataSource == 'folder']]
[[if #dataSource == 'postgres']]    check_table(settings.db_table)
[[end #dataSource == 'postgres']]    check_tracking_server(settings.tracking_uri)
