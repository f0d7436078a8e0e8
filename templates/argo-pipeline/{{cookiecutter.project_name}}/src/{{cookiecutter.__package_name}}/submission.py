"""`submit`: apply the WorkflowTemplate to an Argo server and start a Workflow from it, with hera's client.

The server and its credentials come from the environment, as for the argo CLI:

- ARGO_SERVER: `https://argo.example.com:2746`, or `argo.example.com:2746` (https unless ARGO_SECURE=false);
- ARGO_TOKEN: a bearer token, such as `argo auth token` prints or a service account's token;
- ARGO_NAMESPACE: where to submit (default: the project's namespace);
- ARGO_INSECURE_SKIP_VERIFY=true: do not verify the server's TLS certificate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from hera.exceptions import HeraException
from hera.workflows import WorkflowsService

from . import pipeline
from .errors import ServiceUnavailable, UserError
from .flags import switch

REQUEST_TIMEOUT_SECONDS = 30
MISSING = (
    "submit needs ARGO_SERVER (the Argo server, e.g. https://argo.example.com:2746) and ARGO_TOKEN "
    "(a bearer token, e.g. from `argo auth token`); set {missing}"
)


class _Session(requests.Session):
    """hera's requests with a timeout: an Argo server that does not answer is an error, not a hang."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", REQUEST_TIMEOUT_SECONDS)
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True, repr=False)
class ArgoServer:
    url: str
    token: str
    namespace: str
    verify_tls: bool

    def __repr__(self) -> str:
        return f"ArgoServer({self.url}, namespace={self.namespace})"  # never the token


def server_from(environ: Mapping[str, str]) -> ArgoServer:
    """The Argo server named by the environment; one UserError naming what is missing or wrong."""
    address, token = environ.get("ARGO_SERVER", "").strip(), environ.get("ARGO_TOKEN", "").strip()
    missing = [name for name, value in (("ARGO_SERVER", address), ("ARGO_TOKEN", token)) if not value]
    if missing:
        raise UserError(MISSING.format(missing=" and ".join(missing)))
    try:
        secure = switch(environ.get("ARGO_SECURE", "true") or "true")
        verify = not switch(environ.get("ARGO_INSECURE_SKIP_VERIFY", "false") or "false")
    except ValueError as exc:
        raise UserError(f"ARGO_SECURE and ARGO_INSECURE_SKIP_VERIFY must be true or false: {exc}") from None
    url = address if "://" in address else f"{'https' if secure else 'http'}://{address}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"ARGO_SERVER={address!r} is not an http(s) address such as https://argo.example.com:2746")
    namespace = environ.get("ARGO_NAMESPACE", "").strip() or pipeline.NAMESPACE
    return ArgoServer(url.rstrip("/"), token, namespace, verify)


@dataclass(frozen=True)
class Submitted:
    name: str
    namespace: str
    link: str


def submit(arguments: Mapping[str, str], environ: Mapping[str, str]) -> Submitted:
    """Create or update the WorkflowTemplate, then create a Workflow from it with `arguments`."""
    known = {parameter.name for parameter in pipeline.PARAMETERS}
    unknown = sorted(set(arguments) - known)
    if unknown:
        raise UserError(f"unknown parameter(s) {', '.join(unknown)}; the pipeline takes {', '.join(sorted(known))}")
    server = server_from(environ)
    service = WorkflowsService(
        host=server.url,
        token=server.token,
        namespace=server.namespace,
        verify_ssl=server.verify_tls,
        session=_Session(),
    )
    template = pipeline.workflow_template()
    run = pipeline.workflow(arguments)
    for resource in (template, run):
        resource.namespace = server.namespace
        resource.workflows_service = service
    try:
        template.update()  # creates it when the server has none of that name
        created = run.create()
    except HeraException as exc:
        raise UserError(f"Argo server {server.url} refused the request: {exc}") from None
    except requests.RequestException as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ServiceUnavailable(f"Argo server {server.url} is unreachable ({reason})") from None
    name = created.metadata.name
    return Submitted(name, server.namespace, f"{server.url}/workflows/{server.namespace}/{name}")
