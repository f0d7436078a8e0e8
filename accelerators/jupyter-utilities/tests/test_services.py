"""The services every template binds: the binding Secrets, the classes that pool them, the policies and the claims.

The Secrets are printed by cluster_secrets.py, run as the README runs it; their entries are written out as TAP
projects them (one file per key) and read back by the project's own code: the shared mlflow_setup.py[[if #database != 'none']] and
connect()[[end #database != 'none']]. So the keys the platform engineer creates are the keys the code reads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
[[if #database != 'none']]from psycopg.conninfo import conninfo_to_dict
[[end #database != 'none']]
from [[packageName]] import mlflow_setup
[[if #database != 'none']]from [[packageName]].database import conninfo
[[end #database != 'none']]
from conftest import PACKAGE, PROJECT

SERVICES = PROJECT / "config" / "services"
SCRIPT = PROJECT / "src" / PACKAGE / "cluster_secrets.py"
CLASS_LABEL = "services.apps.tanzu.vmware.com/class"


def cluster_secret(kind: str, *flags: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python src/<package>/cluster_secrets.py KIND`, as the README runs it, with only `env` set."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), kind, *flags],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def secret(kind: str, *flags: str, **env: str) -> dict[str, Any]:
    done = cluster_secret(kind, *flags, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def project(document: dict[str, Any], root: Path, name: str) -> Path:
    """Write a Secret's entries as the binding folder TAP mounts for a claim of it: one file per key."""
    folder = root / name
    folder.mkdir(parents=True)
    for key, value in document["stringData"].items():
        (folder / key).write_text(value, encoding="utf-8")
    return folder


def manifests(name: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all((SERVICES / name).read_text(encoding="utf-8")) if doc]


def test_the_mlflow_secret_holds_what_mlflow_setup_reads(tmp_path: Path) -> None:
    document = secret(
        "mlflow",
        MLFLOW_TRACKING_URI="https://mlflow.example.com:8443",
        MLFLOW_TRACKING_USERNAME="ana",
        MLFLOW_TRACKING_PASSWORD="p@ss: word",
    )
    assert document["type"] == "servicebinding.io/mlflow" and document["metadata"]["name"] == "mlflow-binding"
    assert document["metadata"]["labels"] == {CLASS_LABEL: "mlflow"}
    project(document, tmp_path, "mlflow")
    tracking = mlflow_setup.resolve(environ={"SERVICE_BINDING_ROOT": str(tmp_path)})
    assert (tracking.uri, tracking.username, tracking.password) == (
        "https://mlflow.example.com:8443",
        "ana",
        "p@ss: word",
    )
    assert tracking.origin == f"service binding {tmp_path / 'mlflow'}"


def test_the_database_secret_holds_what_the_templates_read(tmp_path: Path) -> None:
    document = secret(
        "database", DATABASE_URL="postgresql://ml%40team:p%2Fw%3Ad@db.example.com:6543/features?sslmode=require"
    )
    assert document["type"] == "servicebinding.io/postgresql" and document["metadata"]["name"] == "database-binding"
    assert document["stringData"] == {
        "type": "postgresql",
        "host": "db.example.com",
        "port": "6543",
        "database": "features",
        "username": "ml@team",
        "password": "p/w:d",
        "sslmode": "require",
    }
[[if #database != 'none']]    project(document, tmp_path, "database")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SERVICE_BINDING_ROOT", str(tmp_path))
        found = conninfo_to_dict(conninfo())
    assert found == {
        "host": "db.example.com",
        "port": "6543",
        "dbname": "features",
        "user": "ml@team",
        "password": "p/w:d",
        "sslmode": "require",
    }
[[end #database != 'none']]

def test_secrets_for_the_hub_carry_no_class_label() -> None:
    document = secret("mlflow", "--hub", MLFLOW_TRACKING_URI="http://mlflow.mlflow.svc:5000")
    assert "labels" not in document["metadata"] and document["stringData"] == {
        "type": "mlflow",
        "uri": "http://mlflow.mlflow.svc:5000",
    }


@pytest.mark.parametrize(
    ("kind", "env", "message"),
    [
        ("mlflow", {}, "MLFLOW_TRACKING_URI is not set"),
        ("mlflow", {"MLFLOW_TRACKING_URI": "http://ana:pw@mlflow:5000"}, "MLFLOW_TRACKING_URI holds credentials"),
        ("mlflow", {"MLFLOW_TRACKING_URI": "mlflow:5000"}, "MLFLOW_TRACKING_URI must be an http(s) URL"),
        ("database", {}, "DATABASE_URL is not set"),
        ("database", {"DATABASE_URL": "mysql://u:p@db/x"}, "DATABASE_URL must look like postgresql://"),
        ("database", {"DATABASE_URL": "postgresql://db.example.com/"}, "DATABASE_URL has no database"),
        ("hub", {"OAUTH_CLIENT_ID": "id"}, "OAUTH_CLIENT_SECRET is not set"),
    ],
)
def test_a_secret_that_cannot_be_made_is_one_line_and_prints_nothing(
    kind: str, env: dict[str, str], message: str
) -> None:
    done = cluster_secret(kind, **env)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert len(lines) == 1 and lines[0].startswith(f"error: {message}") and ":pw@" not in lines[0]


def test_each_class_pools_the_secrets_of_its_binding_type() -> None:
    classes = {
        doc["metadata"]["name"]: doc for doc in manifests("classes.yaml") if doc["kind"] == "ClusterInstanceClass"
    }
    assert set(classes) == {"mlflow", "postgresql"}
    for kind, binding_type in (("mlflow", "mlflow"), ("database", "postgresql")):
        env = {"MLFLOW_TRACKING_URI": "http://mlflow:5000", "DATABASE_URL": "postgresql://u:p@db/x"}
        document = secret(kind, **env)
        pool = classes[binding_type]["spec"]["pool"]
        assert pool["kind"] == document["kind"] == "Secret"
        assert pool["labelSelector"]["matchLabels"].items() <= document["metadata"]["labels"].items()
        assert pool["fieldSelector"] == f"type={document['type']}"


def test_the_claim_policies_let_claims_take_the_pooled_secrets() -> None:
    policies = [doc for doc in manifests("claim-policies.yaml") if doc["kind"] == "ResourceClaimPolicy"]
    selected = {policy["spec"]["subject"]["selector"]["matchLabels"][CLASS_LABEL] for policy in policies}
    assert selected == {"mlflow", "postgresql"}
    for policy in policies:
        assert policy["metadata"]["namespace"] == "service-instances"
        assert policy["spec"]["subject"]["kind"] == "Secret" and policy["spec"]["subject"]["group"] == ""
    reader = next(doc for doc in manifests("classes.yaml") if doc["metadata"]["name"] == "tapml-binding-secret-reader")
    assert reader["metadata"]["labels"]["servicebinding.io/controller"] == "true"


def test_the_workloads_claims_are_the_class_claims_created_for_it() -> None:
    claims = {doc["metadata"]["name"]: doc["spec"]["classRef"]["name"] for doc in manifests("class-claims.yaml")}
    assert claims == {
        "mlflow": "mlflow",
        "[[dbClaim]]": "postgresql",
    }
    workload = yaml.safe_load((PROJECT / "config" / "workload.yaml").read_text(encoding="utf-8"))
    for claim in workload["spec"].get("serviceClaims") or []:
        assert claim["ref"]["kind"] == "ClassClaim" and claim["ref"]["name"] in claims


def test_the_workloads_token_secret_is_what_cluster_secrets_makes() -> None:
    document = secret("token")
    workload = yaml.safe_load((PROJECT / "config" / "workload.yaml").read_text(encoding="utf-8"))
    (token,) = [item for item in workload["spec"]["env"] if item["name"] == "JUPYTER_TOKEN"]
    reference = token["valueFrom"]["secretKeyRef"]
    assert reference["name"] == document["metadata"]["name"]
    assert len(document["stringData"][reference["key"]]) >= 40
    assert secret("token")["stringData"] != document["stringData"]  # drawn anew each time
