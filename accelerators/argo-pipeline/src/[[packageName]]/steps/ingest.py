"""Ingest: read the labelled images of the data source, resize them, and write them as the dataset artifact.

    python -m [[packageName]].steps.ingest --dataset dataset.npz [--image-size 32]

The dataset keeps each image's content hash and stored size, for data validation and the held-out split.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
[[if #dataSource == 'folder']]from pathlib import Path
[[end #dataSource == 'folder']]
from .. import config
from ..artifacts import write_dataset
[[if #dataSource == 'folder']]from ..checks import check_folder
[[end #dataSource == 'folder']]from ..flags import positive_int
[[if #dataSource == 'postgres']]from ..postgres_source import check_table
[[end #dataSource == 'postgres']]from . import add_artifact, run_step, say, step_parser


@dataclass(frozen=True)
class Source:
    """Where the images are and the size they get (what `data.load` reads)."""

[[if #dataSource == 'folder']]    data_dir: Path
[[end #dataSource == 'folder']][[if #dataSource == 'postgres']]    db_table: str
[[end #dataSource == 'postgres']]    image_size: int


def main(argv: Sequence[str] | None = None) -> int:
    return run_step(_main, argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = step_parser("ingest", "Read the labelled images of the data source and write them as one dataset.")
    add_artifact(parser.add_argument_group("artifacts"), "dataset", "the dataset to write (.npz)")
    parameters = parser.add_argument_group("parameters")[[if #dataSource == 'folder']]
    parser.add_env_option(
        parameters, "--data-dir", "DATA_DIR", Path, config.DATA_DIR, "folder with one sub-folder of images per class"
    )[[end #dataSource == 'folder']]
[[if #dataSource == 'postgres']]    parser.add_env_option(
        parameters, "--db-table", "DB_TABLE", str, config.DB_TABLE, "table with columns image (bytea) and label (text)"
    )
[[end #dataSource == 'postgres']]    parser.add_env_option(
        parameters,
        "--image-size",
        "IMAGE_SIZE",
        positive_int,
        config.IMAGE_SIZE,
        "images are resized to this many pixels square",
    )
    args = parser.parse(argv)[[if #dataSource == 'folder']]
    source = Source(args.data_dir, args.image_size)
    check_folder(source.data_dir)[[end #dataSource == 'folder']][[if #dataSource == 'postgres']]
    source = Source(args.db_table, args.image_size)
    check_table(source.db_table)[[end #dataSource == 'postgres']]
[[if #dataSource == 'digits']]    source = Source(args.image_size)
[[end #dataSource == 'digits']]
    from .. import data  # TensorFlow: imported after the fast checks

    described = data.describe(source)
    say(f"reading {described}")
    images = data.load(source)
    write_dataset(args.dataset, images, described)
    size = source.image_size
    say(
        f"wrote {len(images)} images of {len(images.class_names)} classes to {args.dataset} "
        f"(stored at {images.describe_sizes()}, resized to {size}x{size})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
