"""Where MLflow is and how to log in: a servicebinding.io binding of type `mlflow`, else the environment.

A binding (from the workload's serviceClaims) holds `uri` (or `host` and `port`) and optionally `username`
and `password`. They become the standard MLFLOW_TRACKING_* variables of this process; nothing is logged.
"""

from __future__ import annotations

import logging
import os

from pyservicebinding import binding

log = logging.getLogger(__name__)

BINDING_TYPE = "mlflow"


def configure_mlflow() -> str | None:
    """Apply a bound MLflow service, if any; return the tracking URI in effect (None means MLflow's default)."""
    try:
        bindings = binding.ServiceBinding().bindings(BINDING_TYPE)
    except binding.ServiceBindingRootMissingError:
        bindings = []
    if bindings:
        entry = bindings[0]
        uri = entry.get("uri") or _uri_from_parts(entry)
        if uri:
            os.environ["MLFLOW_TRACKING_URI"] = uri
        for key, variable in (("username", "MLFLOW_TRACKING_USERNAME"), ("password", "MLFLOW_TRACKING_PASSWORD")):
            if entry.get(key):
                os.environ[variable] = entry[key]
        log.info("MLflow configured from the %r service binding", BINDING_TYPE)
    return os.environ.get("MLFLOW_TRACKING_URI")


def _uri_from_parts(entry: dict[str, str]) -> str | None:
    host = entry.get("host")
    if not host:
        return None
    scheme = entry.get("scheme", "http")
    port = entry.get("port")
    return f"{scheme}://{host}:{port}" if port else f"{scheme}://{host}"
