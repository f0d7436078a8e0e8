"""Print the Kubernetes Secrets the services and servers need, filled from environment variables, for kubectl.

    MLFLOW_TRACKING_URI=http://mlflow.mlflow.svc:5000 python src/[[packageName]]/cluster_secrets.py mlflow \\
        | kubectl apply --namespace service-instances -f -

Nothing is written to disk, and no credential lives in any file of this repository. Each run prints one Secret as
JSON (which kubectl reads as YAML). Standard library only, so it runs anywhere Python does.

- `mlflow`: a servicebinding.io Secret of type mlflow (`uri`, optional `username`, `password`) from
  MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD: what mlflow_setup.py reads.
- `database`: a servicebinding.io Secret of type postgresql (`host`, `port`, `database`, and as the URL has them
  `username`, `password`, `sslmode`) from DATABASE_URL: what database.py's connect() and the cnn-trainer template read.
- `hub`: the Hub's own Secret (hub.existingSecret): the OAuth client from OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET[[if #hubAuthenticator == 'azuread']]
  and the tenant from AZURE_TENANT_ID[[end #hubAuthenticator == 'azuread']][[if #hubAuthenticator == 'generic']]
  and the provider's endpoints from OIDC_AUTHORIZE_URL, OIDC_TOKEN_URL and OIDC_USERDATA_URL[[end #hubAuthenticator == 'generic']], as the chart merges it.
- `token`: the single-user JupyterLab workload's token, newly drawn.

The binding Secrets carry the class label of config/services/classes.yaml, so they join the class's pool; `--hub`
leaves the label out and names them as config/jupyterhub/values.yaml mounts them, for the Hub's namespace.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from collections.abc import Mapping
from urllib.parse import parse_qs, unquote, urlsplit

CLASS_LABEL = "services.apps.tanzu.vmware.com/class"
HUB_SECRET = "[[projectName]]-hub"
TOKEN_SECRET = "[[projectName]]-jupyter"
# Default names of the binding Secrets; config/jupyterhub/values.yaml mounts these under SERVICE_BINDING_ROOT.
BINDING_SECRETS = {"mlflow": "mlflow-binding", "database": "database-binding"}[[if #hubAuthenticator == 'github']]
AUTHENTICATOR = "GitHubOAuthenticator"[[end #hubAuthenticator == 'github']][[if #hubAuthenticator == 'gitlab']]
AUTHENTICATOR = "GitLabOAuthenticator"[[end #hubAuthenticator == 'gitlab']][[if #hubAuthenticator == 'azuread']]
AUTHENTICATOR = "AzureAdOAuthenticator"[[end #hubAuthenticator == 'azuread']]
[[if #hubAuthenticator == 'generic']]AUTHENTICATOR = "GenericOAuthenticator"
[[end #hubAuthenticator == 'generic']]TOKEN_BYTES = 32


class MissingSetting(ValueError):
    """An environment variable the Secret needs is unset, or holds something unusable."""


def require(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise MissingSetting(f"{name} is not set")
    return value


def secret(name: str, data: dict[str, str], kind: str = "Opaque", labels: dict[str, str] | None = None) -> dict:
    metadata: dict[str, object] = {"name": name}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": kind, "stringData": data}


def binding_secret(binding_type: str, name: str, entries: dict[str, str], hub: bool) -> dict:
    """A servicebinding.io Secret: its type says the binding type, and so does its `type` entry."""
    labels = None if hub else {CLASS_LABEL: binding_type}
    return secret(name, {"type": binding_type, **entries}, f"servicebinding.io/{binding_type}", labels)


def mlflow_entries(environ: Mapping[str, str]) -> dict[str, str]:
    uri = require(environ, "MLFLOW_TRACKING_URI")
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise MissingSetting("MLFLOW_TRACKING_URI must be an http(s) URL of the tracking server")
    if parts.username or parts.password:
        raise MissingSetting(
            "MLFLOW_TRACKING_URI holds credentials: set MLFLOW_TRACKING_USERNAME and _PASSWORD instead"
        )
    entries = {"uri": uri}
    for key, variable in (("username", "MLFLOW_TRACKING_USERNAME"), ("password", "MLFLOW_TRACKING_PASSWORD")):
        if environ.get(variable, "").strip():
            entries[key] = environ[variable].strip()
    return entries


def database_entries(environ: Mapping[str, str]) -> dict[str, str]:
    """DATABASE_URL (postgresql://user:password@host:port/dbname?sslmode=...) split into the binding's entries."""
    url = require(environ, "DATABASE_URL")
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise MissingSetting("DATABASE_URL must look like postgresql://user:password@host:5432/dbname")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    try:
        port = parts.port
    except ValueError:
        raise MissingSetting("DATABASE_URL has a port that is not a number") from None
    entries = {
        "host": unquote(parts.hostname or "") or query.get("host", ""),
        "port": str(port or query.get("port") or 5432),
        "database": unquote(parts.path.lstrip("/")) or query.get("dbname", ""),
        "username": unquote(parts.username or "") or query.get("user", ""),
        "password": unquote(parts.password or "") or query.get("password", ""),
        "sslmode": query.get("sslmode", ""),
    }
    missing = [key for key in ("host", "database") if not entries[key]]
    if missing:
        raise MissingSetting(f"DATABASE_URL has no {', '.join(missing)}")
    return {key: value for key, value in entries.items() if value}


def hub_values(environ: Mapping[str, str]) -> dict:
    """What the chart merges over config/jupyterhub/values.yaml: the OAuth client (and provider) settings."""
    settings = {
        "client_id": require(environ, "OAUTH_CLIENT_ID"),
        "client_secret": require(environ, "OAUTH_CLIENT_SECRET"),[[if #hubAuthenticator == 'azuread']]
        "tenant_id": require(environ, "AZURE_TENANT_ID"),[[end #hubAuthenticator == 'azuread']]
[[if #hubAuthenticator == 'generic']]        "authorize_url": require(environ, "OIDC_AUTHORIZE_URL"),
        "token_url": require(environ, "OIDC_TOKEN_URL"),
        "userdata_url": require(environ, "OIDC_USERDATA_URL"),
[[end #hubAuthenticator == 'generic']]    }
    return {"hub": {"config": {AUTHENTICATOR: settings}}}


def build(kind: str, environ: Mapping[str, str], name: str | None = None, hub: bool = False) -> dict:
    """The Secret of `kind` (mlflow, database, hub, token), from `environ`."""
    if kind == "mlflow":
        return binding_secret("mlflow", name or BINDING_SECRETS[kind], mlflow_entries(environ), hub)
    if kind == "database":
        return binding_secret("postgresql", name or BINDING_SECRETS[kind], database_entries(environ), hub)
    if kind == "hub":
        return secret(name or HUB_SECRET, {"values.yaml": json.dumps(hub_values(environ), indent=2) + "\n"})
    if kind == "token":
        return secret(name or TOKEN_SECRET, {"token": secrets.token_urlsafe(TOKEN_BYTES)})
    raise MissingSetting(f"unknown kind {kind!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["mlflow", "database", "hub", "token"])
    parser.add_argument("--name", help="the Secret's name (default: what this project's manifests expect)")
    parser.add_argument("--hub", action="store_true", help="a binding Secret for the Hub's namespace (no class label)")
    arguments = parser.parse_args(argv)
    try:
        document = build(arguments.kind, os.environ, arguments.name, arguments.hub)
    except MissingSetting as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
