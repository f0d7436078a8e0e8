"""Fast checks run before TensorFlow is imported, so that bad input is reported in a second, in one line."""

from __future__ import annotations

import urllib.error
import urllib.request

from .config import Settings
from .errors import UserError

REACHABILITY_TIMEOUT_SECONDS = 5.0


def preflight(settings: Settings) -> None:
    """Raise UserError when the data or the tracking server cannot be used."""
    check_tracking_server(settings.tracking_uri)


def check_tracking_server(uri: str, timeout: float = REACHABILITY_TIMEOUT_SECONDS) -> None:
    """An http(s) tracking URI must answer /health; local stores (sqlite, file) need no check."""
    if not uri.startswith(("http://", "https://")):
        return
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            response.read(64)
    except urllib.error.HTTPError as exc:
        raise UserError(f"MLflow tracking server {uri} answered {exc.code} on /health; check MLFLOW_TRACKING_URI") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(f"MLflow tracking server {uri} is unreachable ({reason}); check MLFLOW_TRACKING_URI") from None
