[[if #dataSource == 'postgres']]"""Predict: classify every image of a table with the champion and write one CSV row per image.

    python -m [[packageName]].steps.predict --prediction-input new_images --predictions predictions.csv

The table needs the columns `id` (any type; rows are read in its order) and `image` (bytea); the credentials are
those of the training table (a service binding or DATABASE_URL).
"""[[end #dataSource == 'postgres']][[if #dataSource != 'postgres']]"""Predict: classify every image under a folder with the champion and write one CSV row per image.

    python -m [[packageName]].steps.predict --prediction-input new-images/ --predictions predictions.csv

Images are read from the folder and its sub-folders (.bmp, .gif, .jpeg, .jpg, .png), in the order of their paths,
resized as the training images were.
"""[[end #dataSource != 'postgres']]

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator, Sequence
[[if #dataSource != 'postgres']]from pathlib import Path
[[end #dataSource != 'postgres']]from typing import TYPE_CHECKING

import numpy as np

from .. import config
from ..artifacts import replacing
[[if #dataSource != 'postgres']]from ..checks import IMAGE_SUFFIXES, check_tracking_server
[[end #dataSource != 'postgres']][[if #dataSource == 'postgres']]from ..checks import check_tracking_server
[[end #dataSource == 'postgres']]from ..errors import UserError
[[if #dataSource == 'postgres']]from ..postgres_source import connect
[[end #dataSource == 'postgres']]from . import add_artifact, add_tracking, run_step, say, step_parser

if TYPE_CHECKING:
    import keras

BATCH_SIZE = 256
COLUMNS = ("input", "label", "probability")[[if #dataSource == 'postgres']]


def check_table(table: str) -> None:
    """The table exists and has the columns id and image."""
    from psycopg import errors, sql

    with connect() as connection:
        try:
            connection.execute(sql.SQL("SELECT id, image FROM {} LIMIT 0").format(sql.Identifier(table)))
        except errors.UndefinedTable:
            raise UserError(f"table {table} does not exist; create it with columns id and image (bytea)") from None
        except errors.UndefinedColumn as exc:
            raise UserError(f"table {table} needs columns id and image (bytea): {str(exc).splitlines()[0]}") from None


def batches(table: str, input_shape: tuple[int, int, int]) -> Iterator[tuple[list[str], np.ndarray]]:
    """(row ids, pixels) in batches, resized as the training images were."""
    from psycopg import sql

    from ..postgres_source import decode

    # Ordered by the id column itself: `ORDER BY id` after `id::text` would sort the text ('10' before '2').
    query = sql.SQL("SELECT id, image FROM {} ORDER BY id").format(sql.Identifier(table))
    names: list[str] = []
    pixels: list[np.ndarray] = []
    with connect() as connection, connection.cursor(name=f"{config.PROJECT_NAME}-predict") as cursor:
        cursor.itersize = BATCH_SIZE
        for row_id, image in cursor.execute(query):
            names.append(str(row_id))
            pixels.append(decode(bytes(image), input_shape[0], where=f"table {table}, id {row_id}").pixels)
            if len(names) == BATCH_SIZE:
                yield names, np.stack(pixels)
                names, pixels = [], []
    if names:
        yield names, np.stack(pixels)[[end #dataSource == 'postgres']]
[[if #dataSource != 'postgres']]

def image_files(folder: Path) -> list[Path]:
    """The images under `folder`, sorted by path; a UserError when there is none."""
    if not folder.is_dir():
        raise UserError(f"prediction input {folder} is not a folder")
    found = sorted(path for path in folder.rglob("*") if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise UserError(f"prediction input {folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return found


def batches(folder: Path, input_shape: tuple[int, int, int]) -> Iterator[tuple[list[str], np.ndarray]]:
    """(paths relative to `folder`, pixels) in batches, decoded and resized as the training images were."""
    import tensorflow as tf

    height, width, channels = input_shape
    paths = image_files(folder)
    for start in range(0, len(paths), BATCH_SIZE):
        chunk = paths[start : start + BATCH_SIZE]
        pixels = []
        for path in chunk:
            try:
                image = tf.io.decode_image(tf.io.read_file(str(path)), channels=channels, expand_animations=False)
            except tf.errors.InvalidArgumentError:
                raise UserError(f"prediction input {path} is not a readable image") from None
            resized = tf.image.resize(image, (height, width), method="bilinear")
            pixels.append(np.clip(np.round(resized.numpy()), 0, 255).astype(np.uint8))
        yield [path.relative_to(folder).as_posix() for path in chunk], np.stack(pixels)
[[end #dataSource != 'postgres']]

def predict_rows(
    network: keras.Model, class_names: Sequence[str], inputs: Iterator[tuple[list[str], np.ndarray]]
) -> Iterator[tuple[str, str, str]]:
    for names, pixels in inputs:
        probabilities = network.predict(pixels.astype(np.float32), verbose=0)
        for name, row in zip(names, probabilities, strict=True):
            best = int(np.argmax(row))
            yield name, class_names[best], f"{row[best]:.4f}"


def main(argv: Sequence[str] | None = None) -> int:
    return run_step(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = step_parser("predict", "Classify a batch of images with the champion; one CSV row per image.")
    artifacts = parser.add_argument_group("artifacts")
    add_artifact(artifacts, "predictions", "the predictions to write (.csv: input, label, probability)")
    parameters = parser.add_argument_group("parameters")[[if #dataSource == 'postgres']]
    parameters.add_argument(
        "--prediction-input", required=True, metavar="TABLE", help="table with columns id and image"
    )[[end #dataSource == 'postgres']]
[[if #dataSource != 'postgres']]    parameters.add_argument("--prediction-input", required=True, metavar="FOLDER", help="folder of images")
[[end #dataSource != 'postgres']]    tracking_group = parser.add_argument_group("MLflow")
    add_tracking(parser, tracking_group)
    parser.add_env_option(tracking_group, "--registered-model-name", "REGISTERED_MODEL_NAME", str, config.PROJECT_NAME)
    tracking_group.add_argument("--model-uri", help="default: models:/<registered model name>@champion")
    args = parser.parse(argv)
    if not args.prediction_input.strip():
        raise UserError("--prediction-input is empty: name the images to classify")[[if #dataSource == 'postgres']]
    source = args.prediction_input
    check_table(source)[[end #dataSource == 'postgres']]
[[if #dataSource != 'postgres']]    source = Path(args.prediction_input)
    image_files(source)
[[end #dataSource != 'postgres']]    check_tracking_server(args.tracking_uri)
    model_uri = args.model_uri or f"models:/{args.registered_model_name}@champion"

    from .. import tracking  # TensorFlow and MLflow: imported after the fast checks

    tracking.connect(args.tracking_uri)
    loaded = tracking.load(model_uri)
    if len(loaded.facts.input_shape) != 3 or not loaded.facts.class_names:
        raise UserError(f"{model_uri} records no input shape or class names; register it with the register step")
    height, width, channels = (int(size) for size in loaded.facts.input_shape)
    count = 0
    with replacing(args.predictions) as scratch, scratch.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for row in predict_rows(loaded.model, loaded.facts.class_names, batches(source, (height, width, channels))):
            writer.writerow(row)
            count += 1
    say(f"wrote {count} predictions of {model_uri} to {args.predictions}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
