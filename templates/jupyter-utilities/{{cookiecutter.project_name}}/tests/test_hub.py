"""The JupyterHub values and single-user image, checked without a cluster: what must hold before `helm install`.

Schema validation against the chart itself happens where the chart's schema is vendored (tapml's own tests); here
the safety rules: a real authenticator with an allow rule, no secret in the file, network policies, the metadata
endpoint blocked, limits, culling, the bindings mounted where the helpers look, and the Hub's Secret fitting in.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from conftest import PACKAGE, PROJECT

HUB = PROJECT / "config" / "jupyterhub"
AUTHENTICATORS = {
    "github": ("GitHubOAuthenticator", "allowed_organizations"),
    "gitlab": ("GitLabOAuthenticator", "allowed_gitlab_groups"),
    "azuread": ("AzureAdOAuthenticator", "allowed_groups"),
    "generic-oauth": ("GenericOAuthenticator", "allowed_groups"),
}
SECRET_WORDS = re.compile(r"secret$|password|token$|api_?key|client_id$|cookie", re.IGNORECASE)


def values() -> dict[str, Any]:
    return yaml.safe_load((HUB / "values.yaml").read_text(encoding="utf-8"))


def merge(base: Any, override: Any) -> Any:
    """Helm's merge: mappings key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{key: merge(base.get(key), value) for key, value in override.items()}}
    return override


def keys(document: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (dotted path, value) in `document`."""
    if isinstance(document, dict):
        return [
            item for key, value in document.items() for item in [(f"{path}{key}", value), *keys(value, f"{path}{key}.")]
        ]
    if isinstance(document, list):
        return [item for index, value in enumerate(document) for item in keys(value, f"{path.rstrip('.')}[{index}].")]
    return []


def test_a_real_authenticator_lets_in_only_whom_its_allow_rule_names() -> None:
    config = values()["hub"]["config"]
    chosen = config["JupyterHub"]["authenticator_class"]
    assert chosen in AUTHENTICATORS and chosen != "dummy"
    assert config["JupyterHub"]["admin_access"] is False
    assert config["Authenticator"]["allow_all"] is False
    section, rule = AUTHENTICATORS[chosen]
    assert config[section][rule] == [
        "{{ cookiecutter.hub_allowed_group }}",
    ]
    assert config[section]["oauth_callback_url"] == "https://{{ cookiecutter.hub_host }}/hub/oauth_callback"
    if rule == "allowed_groups":
        assert config[section]["manage_groups"] is True  # OAuthenticator ignores allowed_groups without it


def test_no_secret_is_in_the_values_they_live_in_the_existing_secret() -> None:
    document = values()
    found = [
        path
        for path, value in keys(document)
        if not isinstance(value, dict | list) and SECRET_WORDS.search(path.rsplit(".", 1)[-1])
    ]
    assert found == ["hub.existingSecret"]
    assert document["hub"]["existingSecret"] == "{{ cookiecutter.project_name }}-hub"


def test_the_hubs_secret_completes_the_authenticator() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "OAUTH_CLIENT_ID": "client-123",
        "OAUTH_CLIENT_SECRET": "shh-456",
        "AZURE_TENANT_ID": "tenant-789",
        "OIDC_AUTHORIZE_URL": "https://sso.example.com/auth",
        "OIDC_TOKEN_URL": "https://sso.example.com/token",
        "OIDC_USERDATA_URL": "https://sso.example.com/userinfo",
    }
    script = PROJECT / "src" / PACKAGE / "cluster_secrets.py"
    done = subprocess.run([sys.executable, str(script), "hub"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["metadata"]["name"] == values()["hub"]["existingSecret"]
    merged = merge(values(), yaml.safe_load(document["stringData"]["values.yaml"]))
    section, rule = AUTHENTICATORS[merged["hub"]["config"]["JupyterHub"]["authenticator_class"]]
    settings = merged["hub"]["config"][section]
    assert (settings["client_id"], settings["client_secret"]) == ("client-123", "shh-456")
    assert settings[rule] and settings["oauth_callback_url"].startswith("https://")
    if section == "AzureAdOAuthenticator":
        assert settings["tenant_id"] == "tenant-789"
    if section == "GenericOAuthenticator":
        assert settings["userdata_url"] == "https://sso.example.com/userinfo"


def test_network_policies_are_on_and_the_metadata_endpoint_is_blocked() -> None:
    document = values()
    assert document["hub"]["networkPolicy"]["enabled"] and document["proxy"]["chp"]["networkPolicy"]["enabled"]
    singleuser = document["singleuser"]
    assert singleuser["networkPolicy"]["enabled"] is True
    assert singleuser["networkPolicy"]["egressAllowRules"]["cloudMetadataServer"] is False
    assert singleuser["networkPolicy"]["egressAllowRules"]["privateIPs"] is False
    assert singleuser["cloudMetadata"]["blockWithIptables"] is True
    assert document["proxy"]["service"]["type"] == "ClusterIP"


def test_every_server_has_limits_and_idle_ones_are_culled() -> None:
    document = values()
    for resources in (document["hub"]["resources"], document["proxy"]["chp"]["resources"]):
        assert resources["limits"]["cpu"] and resources["limits"]["memory"] and resources["requests"]
    singleuser = document["singleuser"]
    assert singleuser["cpu"]["limit"] >= singleuser["cpu"]["guarantee"] > 0
    assert singleuser["memory"]["limit"] and singleuser["memory"]["guarantee"]
    assert document["cull"]["enabled"] is True and 0 < document["cull"]["timeout"] <= 24 * 3600


def test_the_bound_services_are_mounted_where_the_helpers_look() -> None:
    singleuser = values()["singleuser"]
    root = singleuser["extraEnv"]["SERVICE_BINDING_ROOT"]
    volumes = {volume["name"]: volume["secret"]["secretName"] for volume in singleuser["storage"]["extraVolumes"]}
    mounts = {mount["name"]: mount["mountPath"] for mount in singleuser["storage"]["extraVolumeMounts"]}
    assert set(volumes) == set(mounts)
    assert all(Path(path).parent == Path(root) for path in mounts.values())
    assert all(mount["readOnly"] for mount in singleuser["storage"]["extraVolumeMounts"])
    expected = {"mlflow-binding"}{% if cookiecutter.database != 'none' %} | {"database-binding"}{% endif %}
    assert set(volumes.values()) == expected  # the names cluster_secrets.py gives them


def test_the_single_user_image_is_the_project_with_its_helpers_and_runs_as_the_chart_expects() -> None:
    singleuser = values()["singleuser"]
    assert singleuser["image"]["tag"] not in ("", "latest") and singleuser["cmd"] == "jupyterhub-singleuser"
    assert singleuser["lifecycleHooks"]["postStart"]["exec"]["command"] == ["python", "-m", f"{PACKAGE}.workspace"]
    assert (PROJECT / "src" / PACKAGE / "workspace.py").is_file()
    dockerfile = (HUB / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.\d+-slim$", dockerfile, re.MULTILINE)
    assert re.search(r"pip install --requirement requirements\.txt jupyterhub==5\.\d+\.\d+$", dockerfile, re.MULTILINE)
    assert re.search(r"^USER 1000$", dockerfile, re.MULTILINE)
    source = Path(re.search(r"NOTEBOOKS_SOURCE=(\S+)", dockerfile).group(1))
    assert "COPY notebooks ./notebooks" in dockerfile  # copied into the WORKDIR that NOTEBOOKS_SOURCE names
    assert re.search(rf"^WORKDIR {re.escape(str(source.parent))}$", dockerfile, re.MULTILINE)
    assert (PROJECT / "requirements.txt").read_text(encoding="utf-8").rstrip().endswith("\n.")  # the helpers
