"""`pipeline submit` against a real HTTP server on 127.0.0.1 that answers as the Argo server's API does and records
what hera sends it: the WorkflowTemplate (created, or updated when it exists) and a Workflow started from it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml

from {{ cookiecutter.__package_name }} import pipeline

from conftest import PROJECT, assert_one_line_error, free_port, run_module

TOKEN = "not-a-real-token"
NAMESPACE = "ml-team"


@dataclass
class ArgoApi:
    """What the server holds and what it was sent; `refuse_workflows` makes it answer 403 to new workflows."""

    url: str = ""
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    refuse_workflows: bool = False


@pytest.fixture
def argo_api() -> Iterator[ArgoApi]:
    api = ArgoApi()

    class Handler(BaseHTTPRequestHandler):
        def answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def record(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            api.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "authorization": self.headers["Authorization"],
                    "body": body,
                }
            )
            return body or {}

        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            self.record()
            name = self.path.rsplit("/", 1)[-1]
            if name in api.templates:
                self.answer(200, api.templates[name])
            else:
                self.answer(404, {"code": 5, "message": f'workflowtemplates.argoproj.io "{name}" not found'})

        def do_POST(self) -> None:  # noqa: N802
            body = self.record()
            if self.path == f"/api/v1/workflow-templates/{NAMESPACE}":
                template = body["template"]
                api.templates[template["metadata"]["name"]] = {
                    **template,
                    "metadata": {**template["metadata"], "resourceVersion": "1"},
                }
                self.answer(200, api.templates[template["metadata"]["name"]])
            elif self.path == f"/api/v1/workflows/{NAMESPACE}" and not api.refuse_workflows:
                workflow = body["workflow"]
                self.answer(
                    200,
                    {
                        **workflow,
                        "metadata": {**workflow["metadata"], "name": workflow["metadata"]["generateName"] + "x7k2p"},
                    },
                )
            else:
                self.answer(403, {"code": 7, "message": "workflows.argoproj.io is forbidden"})

        def do_PUT(self) -> None:  # noqa: N802
            body = self.record()
            self.answer(200, body["template"])

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield api
    server.shutdown()
    server.server_close()


def submit(api_url: str, workdir, *args: str, **env: str):
    environ = {"ARGO_SERVER": api_url, "ARGO_TOKEN": TOKEN, "ARGO_NAMESPACE": NAMESPACE, **env}
    return run_module("pipeline", "submit", *args, cwd=workdir, env=environ, timeout=120)


def committed_template() -> dict[str, Any]:
    return yaml.safe_load((PROJECT / "argo" / "workflow-template.yaml").read_text(encoding="utf-8"))


def test_submit_creates_the_template_then_starts_a_workflow_from_it(argo_api: ArgoApi, workdir) -> None:
    result = submit(argo_api.url, workdir, "-p", "epochs=2", "-p", "promote-anyway=true")

    assert result.returncode == 0, result.stderr
    name = f"{pipeline.NAME}-x7k2p"
    assert (
        result.stdout.strip()
        == f"submitted workflow {name} in namespace {NAMESPACE}: {argo_api.url}/workflows/{NAMESPACE}/{name}"
    )
    get, create, start = argo_api.requests
    assert (get["method"], get["path"]) == ("GET", f"/api/v1/workflow-templates/{NAMESPACE}/{pipeline.NAME}")
    assert (create["method"], create["path"]) == ("POST", f"/api/v1/workflow-templates/{NAMESPACE}")
    assert (start["method"], start["path"]) == ("POST", f"/api/v1/workflows/{NAMESPACE}")
    assert {request["authorization"] for request in argo_api.requests} == {f"Bearer {TOKEN}"}
    expected = committed_template()
    expected["metadata"]["namespace"] = NAMESPACE
    assert create["body"]["template"] == expected, "the server gets exactly the committed WorkflowTemplate"
    workflow = start["body"]["workflow"]
    assert workflow["metadata"] == {
        "generateName": f"{pipeline.NAME}-",
        "namespace": NAMESPACE,
        "labels": pipeline.LABELS,
    }
    assert workflow["spec"] == {
        "workflowTemplateRef": {"name": pipeline.NAME},
        "arguments": {"parameters": [{"name": "epochs", "value": "2"}, {"name": "promote-anyway", "value": "true"}]},
    }
    assert TOKEN not in result.stdout + result.stderr


def test_submit_updates_a_template_the_server_has(argo_api: ArgoApi, workdir) -> None:
    stored = committed_template()
    stored["metadata"]["resourceVersion"] = "41"
    argo_api.templates[pipeline.NAME] = stored

    result = submit(argo_api.url, workdir)

    assert result.returncode == 0, result.stderr
    update = argo_api.requests[1]
    assert (update["method"], update["path"]) == ("PUT", f"/api/v1/workflow-templates/{NAMESPACE}/{pipeline.NAME}")
    assert update["body"]["template"]["metadata"]["resourceVersion"] == "41"
    assert "arguments" not in argo_api.requests[2]["body"]["workflow"]["spec"], "no -p: the template's defaults"


def test_a_refusal_is_one_line_with_the_servers_reason(argo_api: ArgoApi, workdir) -> None:
    argo_api.refuse_workflows = True

    assert_one_line_error(submit(argo_api.url, workdir), 2, argo_api.url, "403", "forbidden")


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"ARGO_SERVER": "", "ARGO_TOKEN": ""}, "set ARGO_SERVER and ARGO_TOKEN"),
        ({"ARGO_TOKEN": ""}, "set ARGO_TOKEN"),
        ({"ARGO_SERVER": ""}, "set ARGO_SERVER"),
    ],
)
def test_without_server_or_token_submit_is_one_clear_line(workdir, env: dict[str, str], missing: str) -> None:
    result = submit("https://argo.example.com:2746", workdir, **env)

    assert_one_line_error(result, 2, "submit needs ARGO_SERVER", missing)


def test_an_unreachable_server_is_one_line(workdir) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    assert_one_line_error(submit(url, workdir), 2, url, "unreachable")


def test_an_unknown_parameter_is_refused_before_any_request(argo_api: ArgoApi, workdir) -> None:
    assert_one_line_error(submit(argo_api.url, workdir, "-p", "epoch=2"), 2, "unknown parameter(s) epoch")
    assert argo_api.requests == []
