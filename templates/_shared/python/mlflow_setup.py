"""Where MLflow is, how to log in to it, and how long one call to it may take.

One precedence rule, for the tracking URI and for each credential separately:

1. an explicit environment variable wins: MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD;
2. else a servicebinding.io binding of type `mlflow` under $SERVICE_BINDING_ROOT (what TAP mounts for the workload's
   service claim): its `uri`, or `host` with optional `port` and `scheme` (default http), and `username`/`password`;
3. else the caller's default.

No SERVICE_BINDING_ROOT, or a folder that cannot be listed, means no binding. A binding of type `mlflow` that
cannot be read, that has neither `uri` nor `host`, or a second one, is an `MlflowSetupError` with a one-line message
naming the binding folder. Secrets are never logged, and never part of a message.

MLflow retries a failed HTTP call 7 times with a growing back-off and waits up to 120 s for each answer: about four
minutes before an unreachable server is reported. `apply_http_limits(seconds)` sets MLflow's timeout, retry count and
back-off (MLFLOW_HTTP_REQUEST_*, read by MLflow at every call) so that a call to a server that does not answer gives up
within `seconds`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

BINDING_TYPE = "mlflow"
BINDING_ROOT_VARIABLE = "SERVICE_BINDING_ROOT"
URI_VARIABLE = "MLFLOW_TRACKING_URI"
USERNAME_VARIABLE = "MLFLOW_TRACKING_USERNAME"
PASSWORD_VARIABLE = "MLFLOW_TRACKING_PASSWORD"
DEFAULT_SCHEME = "http"

# What MLflow allows and does by default (mlflow/environment_variables.py, urllib3's Retry).
MLFLOW_LONGEST_TIMEOUT_SECONDS = 120
MLFLOW_DEFAULT_RETRIES = 7
URLLIB3_LONGEST_BACKOFF_SECONDS = 120


class MlflowSetupError(ValueError):
    """A bound MLflow service that cannot be used; the message is one line naming the binding folder."""


@dataclass(frozen=True)
class Binding:
    """One servicebinding.io binding: its folder and its entries (file name -> stripped content)."""

    folder: Path
    entries: Mapping[str, str] = field(repr=False)  # holds the password

    def get(self, key: str) -> str | None:
        return self.entries.get(key) or None

    @property
    def uri(self) -> str:
        """`uri`, else `scheme://host:port` from its parts."""
        uri = self.get("uri")
        if uri:
            return uri
        host = self.get("host")
        if not host:
            raise MlflowSetupError(f"service binding {self.folder} (type {BINDING_TYPE}) has neither 'uri' nor 'host'")
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 address
        port = self.get("port")
        if port is None:
            return f"{self.get('scheme') or DEFAULT_SCHEME}://{host}"
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise MlflowSetupError(f"service binding {self.folder}: 'port' must be a number from 1 to 65535")
        return f"{self.get('scheme') or DEFAULT_SCHEME}://{host}:{int(port)}"


@dataclass(frozen=True, repr=False)
class Tracking:
    """The resolved MLflow set-up. `uri` None means MLflow's own default; `origin` says where the URI came from."""

    uri: str | None
    origin: str
    username: str | None = None
    password: str | None = None

    def describe(self) -> str:
        """For logs: the URI without any user or password in it, and its origin."""
        return f"{redact(self.uri) if self.uri else 'the MLflow default'} ({self.origin})"

    def __repr__(self) -> str:
        return f"Tracking({self.describe()}, username={self.username!r})"


def find_binding(environ: Mapping[str, str] | None = None) -> Binding | None:
    """The binding of type `mlflow` under $SERVICE_BINDING_ROOT, or None when there is none."""
    env = os.environ if environ is None else environ
    root = env.get(BINDING_ROOT_VARIABLE, "").strip()
    if not root:
        return None
    try:
        folders = sorted(path for path in Path(root).iterdir() if path.is_dir() and not path.name.startswith("."))
    except OSError:
        return None  # the root does not exist (yet): no binding
    found = [folder for folder in folders if _read(folder, "type", missing_ok=True) == BINDING_TYPE]
    if len(found) > 1:
        names = ", ".join(str(folder) for folder in found)
        raise MlflowSetupError(f"several service bindings of type {BINDING_TYPE} ({names}); bind one")
    return Binding(found[0], _entries(found[0])) if found else None


def resolve(default: str | None = None, environ: Mapping[str, str] | None = None) -> Tracking:
    """Apply the precedence rule: environment, else the binding, else `default` (None: MLflow's own default)."""
    env = os.environ if environ is None else environ
    binding = find_binding(env)
    bound_uri = binding.uri if binding else None  # raises for an incomplete binding even when the env URI wins

    def pick(variable: str, key: str) -> str | None:
        return env.get(variable, "").strip() or (binding.get(key) if binding else None)

    explicit = env.get(URI_VARIABLE, "").strip()
    if explicit:
        uri, origin = explicit, URI_VARIABLE
    elif binding:
        uri, origin = bound_uri, f"service binding {binding.folder}"
    else:
        uri, origin = default, "default"
    return Tracking(uri, origin, pick(USERNAME_VARIABLE, "username"), pick(PASSWORD_VARIABLE, "password"))


def configure(default: str | None = None, environ: MutableMapping[str, str] | None = None) -> Tracking:
    """Resolve, then set MLFLOW_TRACKING_URI and the credentials in the environment, where MLflow reads them."""
    env = os.environ if environ is None else environ
    tracking = resolve(default, env)
    if tracking.uri:
        env[URI_VARIABLE] = tracking.uri
    _export_credentials(tracking, env)
    log.info("MLflow tracking: %s", tracking.describe())
    return tracking


def apply_credentials(environ: MutableMapping[str, str] | None = None) -> Tracking:
    """Set only the credentials, for a caller that hands MLflow the tracking URI itself (say from a flag)."""
    env = os.environ if environ is None else environ
    tracking = resolve(None, env)
    _export_credentials(tracking, env)
    return tracking


def redact(uri: str) -> str:
    """`uri` without the user and password an http(s) URI may carry."""
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class HttpLimits:
    """MLflow's per-call HTTP settings: timeout per connect and per read, retries, and urllib3's back-off."""

    timeout_seconds: int
    max_retries: int
    backoff_factor: int = 1
    backoff_jitter: float = 0.0

    def longest_call_seconds(self) -> float:
        """The worst case for one call: every attempt waits out a connect and a read timeout, plus the back-offs.

        urllib3 sleeps 0 before the first retry and factor * 2 ** (n - 1) (+ jitter) before retry n >= 2.
        """
        attempts = (self.max_retries + 1) * 2 * self.timeout_seconds
        backoffs = sum(
            min(URLLIB3_LONGEST_BACKOFF_SECONDS, self.backoff_factor * 2 ** (n - 1) + self.backoff_jitter)
            for n in range(2, self.max_retries + 1)
        )
        return attempts + backoffs

    def as_environ(self) -> dict[str, str]:
        return {
            "MLFLOW_HTTP_REQUEST_TIMEOUT": str(self.timeout_seconds),
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(self.max_retries),
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": str(self.backoff_factor),
            "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": str(self.backoff_jitter),
        }


def http_limits(seconds: float) -> HttpLimits:
    """The most patient limits under which one MLflow call to a silent server gives up within `seconds`.

    A timeout of an eighth of the time, then as many retries as still fit. MLflow takes whole seconds, so below
    two seconds one call can still take two (one connect and one read of one second): a caller that needs a harder
    bound keeps its own deadline around the call as well.
    """
    timeout = max(1, min(MLFLOW_LONGEST_TIMEOUT_SECONDS, int(seconds // 8)))
    limits = HttpLimits(timeout, 0)
    for retries in range(1, MLFLOW_DEFAULT_RETRIES + 1):
        candidate = HttpLimits(timeout, retries)
        if candidate.longest_call_seconds() > seconds:
            break
        limits = candidate
    return limits


def apply_http_limits(seconds: float, environ: MutableMapping[str, str] | None = None) -> HttpLimits:
    """Set MLflow's HTTP timeout, retries and back-off so that each call from now on gives up within `seconds`."""
    env = os.environ if environ is None else environ
    limits = http_limits(seconds)
    env.update(limits.as_environ())
    return limits


def _export_credentials(tracking: Tracking, env: MutableMapping[str, str]) -> None:
    for variable, value in ((USERNAME_VARIABLE, tracking.username), (PASSWORD_VARIABLE, tracking.password)):
        if value:
            env[variable] = value


def _entries(folder: Path) -> dict[str, str]:
    try:
        names = sorted(path.name for path in folder.iterdir() if path.is_file() and not path.name.startswith("."))
    except OSError as exc:
        raise MlflowSetupError(f"service binding {folder}: cannot be read ({exc.strerror or exc})") from None
    return {name: _read(folder, name) or "" for name in names}


def _read(folder: Path, name: str, missing_ok: bool = False) -> str | None:
    path = folder / name
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if missing_ok:
            return None
        raise MlflowSetupError(f"service binding {folder}: '{name}' disappeared while it was read") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise MlflowSetupError(f"service binding {folder}: cannot read '{name}' ({reason})") from None
