"""Start the single-user JupyterLab: what the workload runs (Procfile `web`), for teams without a Hub, and locally.

    JUPYTER_TOKEN=$(python -c 'import secrets; print(secrets.token_urlsafe(32))') python -m [[packageName]].lab

Token authentication is always on: without JUPYTER_TOKEN (the workload sets it from a Secret), or with one shorter
than MIN_TOKEN_LENGTH characters, the server does not start (one line, exit 2). Jupyter reads the token from the
environment itself, so it never appears on a command line; the login page cannot trade it for a password.

Environment: PORT (8080, what Knative sets), HOST (0.0.0.0), NOTEBOOK_DIR (notebooks, relative to where it starts).
The IPython start-up file (ipython_startup.py: the helpers, imported in every kernel) is installed first.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from .workspace import install_startup

MIN_TOKEN_LENGTH = 16
DEFAULT_PORT = "8080"
DEFAULT_HOST = "0.0.0.0"
DEFAULT_NOTEBOOK_DIR = "notebooks"


class LaunchError(ValueError):
    """A setting the server cannot start with; the message is one line."""


def server_arguments(environ: Mapping[str, str]) -> list[str]:
    """The `jupyter lab` arguments for this environment; raises LaunchError for a missing token or a bad setting."""
    token = environ.get("JUPYTER_TOKEN", "")
    if not token.strip():
        raise LaunchError(
            "JUPYTER_TOKEN is empty: the server never runs without a token (the workload reads it from a Secret)"
        )
    if len(token.strip()) < MIN_TOKEN_LENGTH:
        raise LaunchError(f"JUPYTER_TOKEN must be at least {MIN_TOKEN_LENGTH} characters")
    port = environ.get("PORT", DEFAULT_PORT).strip()
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise LaunchError(f"PORT must be a number from 1 to 65535, not {port!r}")
    host = environ.get("HOST", DEFAULT_HOST).strip()
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        raise LaunchError(f"HOST must be an IP address, not {host!r}") from None
    notebooks = Path(environ.get("NOTEBOOK_DIR", DEFAULT_NOTEBOOK_DIR))
    if not notebooks.is_dir():
        raise LaunchError(f"NOTEBOOK_DIR {notebooks} is not a folder")
    return [
        f"--ServerApp.ip={host}",
        f"--ServerApp.port={int(port)}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={notebooks.resolve()}",
        "--ServerApp.open_browser=False",
        f"--ServerApp.allow_remote_access={not loopback}",
        "--PasswordIdentityProvider.allow_password_change=False",
    ]


def main() -> int:
    try:
        arguments = server_arguments(os.environ)
    except LaunchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        install_startup()
    except OSError as exc:
        print(f"warning: IPython start-up file not installed ({exc.strerror or exc})", file=sys.stderr)
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "jupyterlab", *arguments])
    return 0  # not reached: exec replaces this process, so the server gets the signals directly


if __name__ == "__main__":
    sys.exit(main())
