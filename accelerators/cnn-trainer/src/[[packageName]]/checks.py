"""Fast checks run before TensorFlow is imported, so that bad input is reported in a second, in one line."""

from __future__ import annotations

import urllib.error
import urllib.request
[[if #dataSource == 'folder']]from pathlib import Path
[[end #dataSource == 'folder']]
from .config import Settings
from .errors import UserError
[[if #dataSource == 'postgres']]from .postgres_source import check_table
[[end #dataSource == 'postgres']]
REACHABILITY_TIMEOUT_SECONDS = 5.0
[[if #dataSource == 'folder']]IMAGE_SUFFIXES = {".bmp", ".gif", ".jpeg", ".jpg", ".png"}  # what keras.utils.image_dataset_from_directory reads
[[end #dataSource == 'folder']]

def preflight(settings: Settings) -> None:
    """Raise UserError when the data or the tracking server cannot be used."""[[if #dataSource == 'folder']]
    check_folder(settings.data_dir)[[end #dataSource == 'folder']]
[[if #dataSource == 'postgres']]    check_table(settings.db_table)
[[end #dataSource == 'postgres']]    check_tracking_server(settings.tracking_uri)
[[if #dataSource == 'folder']]

def check_folder(data_dir: Path) -> None:
    """The image folder exists and has class sub-folders."""
    if not data_dir.is_dir():
        raise UserError(
            f"data folder {data_dir} does not exist; create it with one sub-folder of images per class "
            "or point DATA_DIR / --data-dir at it"
        )
    classes = [child for child in data_dir.iterdir() if child.is_dir()]
    if not classes:
        raise UserError(f"data folder {data_dir} has no sub-folders; it needs one sub-folder of images per class")
    if not any(path.suffix.lower() in IMAGE_SUFFIXES for folder in classes for path in folder.iterdir()):
        raise UserError(
            f"data folder {data_dir} has no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in its sub-folders"
        )
[[end #dataSource == 'folder']]

def check_tracking_server(uri: str, timeout: float = REACHABILITY_TIMEOUT_SECONDS) -> None:
    """An http(s) tracking URI must answer /health; local stores (sqlite, file) need no check."""
    if not uri.startswith(("http://", "https://")):
        return
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            response.read(64)
    except urllib.error.HTTPError as exc:
        raise UserError(
            f"MLflow tracking server {uri} answered {exc.code} on /health; check MLFLOW_TRACKING_URI"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(f"MLflow tracking server {uri} is unreachable ({reason}); check MLFLOW_TRACKING_URI") from None
