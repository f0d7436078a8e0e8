"""[[projectName]]: the helpers the notebooks in notebooks/ use, imported in every kernel as `helpers`.

- data: `load_digits_images()`, `load_image_folder()`, `load_image()`, `write_example_images()`[[if #database != 'none']], and
  `load_table_images()` for images stored in a table[[end #database != 'none']];
[[if #database != 'none']]- the database: `connect()` (a SQLAlchemy engine, from a bound service or DATABASE_URL), `read_sql()`, `read_table()`,
  `list_tables()`[[if #database == 'greenplum']], `gp_dataframe()` (GreenplumPython)[[end #database == 'greenplum']];
[[end #database != 'none']]- MLflow: `setup_mlflow()` (the tracking server from the environment or a bound service, never from code);
- models: `load_classifier()` and `classify()`, each model loaded once per kernel;
- plots: `show_images()`, `show_predictions()`.
"""

from .classify import Classifier, Prediction, classify, load_classifier
from .data import ImageSet, load_digits_images, load_image, load_image_folder, write_example_images
[[if #database != 'none']]from .database import (
    connect,
    database_configured,
[[if #database == 'greenplum']]    gp_dataframe,
[[end #database == 'greenplum']]    list_tables,
    load_table_images,
    read_sql,
    read_table,
)
[[end #database != 'none']]from .errors import BindingError, DatabaseError, HelperError, ImageError, ModelError
from .plots import show_images, show_predictions
from .tracking import setup_mlflow

__version__ = "0.1.0"
__all__ = [
    "BindingError",
    "Classifier",
    "DatabaseError",
    "HelperError",
    "ImageError",
    "ImageSet",
    "ModelError",
    "Prediction",
    "classify",[[if #database != 'none']]
    "connect",
    "database_configured",[[end #database != 'none']]
[[if #database == 'greenplum']]    "gp_dataframe",
[[end #database == 'greenplum']][[if #database != 'none']]    "list_tables",
[[end #database != 'none']]    "load_classifier",
    "load_digits_images",
    "load_image",
    "load_image_folder",
[[if #database != 'none']]    "load_table_images",
    "read_sql",
    "read_table",
[[end #database != 'none']]    "setup_mlflow",
    "show_images",
    "show_predictions",
    "write_example_images",
]
