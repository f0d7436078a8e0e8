"""Run a generated project's tests the way its Tekton Pipeline does in TAP's testing supply chain.

The supply chain's source controller serves each revision as a .tar.gz at `source-url`; the Pipeline's first
step downloads and unpacks it, the second runs `sh scripts/test.sh` in it. Here the tarball is served from
127.0.0.1, the first step's own script runs unchanged, and the second step's command runs with this machine's
Python first on PATH. The install step in scripts/test.sh can run for real without a download: an overlay venv
sees the shared venv's packages (which match the pins) and pip runs with PIP_NO_INDEX=1.
"""

from __future__ import annotations

import http.server
import io
import os
import subprocess
import sys
import sysconfig
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PIPELINE_FILE = "config/test-pipeline.yaml"


@dataclass(frozen=True)
class Steps:
    """The two steps of the Pipeline's one task: the fetch script and the test command."""

    fetch_script: str
    test_command: list[str]
    env: dict[str, str]


def load_pipeline(project: Path) -> dict[str, Any]:
    return yaml.safe_load((project / PIPELINE_FILE).read_text(encoding="utf-8"))


def steps(pipeline: dict[str, Any]) -> Steps:
    (task,) = pipeline["spec"]["tasks"]
    spec = task["taskSpec"]
    fetch, test = spec["steps"]
    env = {item["name"]: item["value"] for item in spec.get("stepTemplate", {}).get("env", [])}
    return Steps(fetch["script"], [*test.get("command", []), *test.get("args", [])], env)


@contextmanager
def served_tarball(project: Path) -> Iterator[str]:
    """The project as a .tar.gz (files at its root, as the source controller packs them) served on 127.0.0.1."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(project.rglob("*")):
            tar.add(path, arcname=path.relative_to(project).as_posix(), recursive=False)
    body = buffer.getvalue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/source.tar.gz"
    finally:
        server.shutdown()
        server.server_close()


def fetch(project: Path, pipeline: dict[str, Any], destination: Path) -> subprocess.CompletedProcess[str]:
    """Run the Pipeline's fetch step script on `project`, served as a tarball, unpacking into `destination`."""
    script = steps(pipeline).fetch_script
    with served_tarball(project) as url:
        env = {**os.environ, "SOURCE_URL": url, "SOURCE_REVISION": "main@sha1:0123abc", "SOURCE_DIR": str(destination)}
        return subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
        )


def overlay_venv(where: Path) -> Path:
    """A venv whose Python also sees the shared venv's packages (`site.addsitedir`, so their .pth files run)."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, capture_output=True, timeout=300)
    shared = sysconfig.get_paths()["purelib"]
    (site_packages,) = where.glob("lib/python*/site-packages")
    (site_packages / "shared-venv.pth").write_text(f"import site; site.addsitedir({shared!r})\n", encoding="utf-8")
    return where / "bin"


def run_test_step(
    source: Path,
    pipeline: dict[str, Any] | None,
    bin_dir: Path,
    *pytest_args: str,
    install: bool,
    extra_env: dict[str, str] | None = None,
    timeout: float = 1200,
) -> subprocess.CompletedProcess[str]:
    """The test step's command (or `sh scripts/test.sh` without a Pipeline) in `source`, `bin_dir` first on PATH.

    With `install`, scripts/test.sh installs the requirements as the Pipeline does, offline (PIP_NO_INDEX=1).
    """
    command = steps(pipeline).test_command if pipeline else ["sh", "scripts/test.sh"]
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("VIRTUAL_ENV", None)
    if install:
        # PIP_NO_BUILD_ISOLATION=0 (pip's inverted switch) builds a setup.py project with the installed setuptools
        env |= {"INSTALL_REQUIREMENTS": "true", "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0"}
    else:
        env["INSTALL_REQUIREMENTS"] = "false"
    env |= extra_env or {}
    return subprocess.run(
        [*command, *pytest_args], cwd=source, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
