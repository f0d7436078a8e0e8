"""Fast checks run before TensorFlow is imported, so that bad input is reported in a second, in one line."""

from __future__ import annotations

import urllib.error
import urllib.request
{%- if cookiecutter.data_source == 'folder' %}
from pathlib import Path
{%- endif %}

from .errors import ServiceUnavailable, UserError

REACHABILITY_TIMEOUT_SECONDS = 5.0
IMAGE_SUFFIXES = {".bmp", ".gif", ".jpeg", ".jpg", ".png"}  # what keras.utils.image_dataset_from_directory reads
{%- if cookiecutter.data_source == 'folder' %}


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
{%- endif %}


def check_tracking_server(uri: str, timeout: float = REACHABILITY_TIMEOUT_SECONDS) -> None:
    """An http(s) tracking URI must answer /health; local stores (sqlite, file) need no check."""
    if not uri.startswith(("http://", "https://")):
        return
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            response.read(64)
    except urllib.error.HTTPError as exc:
        problem = ServiceUnavailable if exc.code >= 500 else UserError
        raise problem(
            f"MLflow tracking server {uri} answered {exc.code} on /health; check MLFLOW_TRACKING_URI"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServiceUnavailable(
            f"MLflow tracking server {uri} is unreachable ({reason}); check MLFLOW_TRACKING_URI"
        ) from None
