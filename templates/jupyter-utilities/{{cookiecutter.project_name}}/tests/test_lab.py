"""The single-user JupyterLab, started exactly as the workload starts it (the Procfile's `web` command).

It refuses to start without a real token, and once up it answers 403 without the token and 200 with it. The server
runs on 127.0.0.1 in its own process group, with a home folder of its own, and is stopped by group.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from {{ cookiecutter.__package_name }}.lab import LaunchError, server_arguments

from conftest import PACKAGE, PROJECT
from servers import free_port, stop_process_group, wait_until_answering

START_TIMEOUT_SECONDS = 120


def procfile_command() -> str:
    (line,) = [
        line for line in (PROJECT / "Procfile").read_text(encoding="utf-8").splitlines() if line.startswith("web:")
    ]
    return line.removeprefix("web:").strip()


def server_env(home: Path, **settings: str) -> dict[str, str]:
    """This Python first on PATH (the Procfile says `python`), the helpers importable, a home of the test's own."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "IPYTHON"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT / "src"), env.get("PYTHONPATH")]))
    env["HOME"] = str(home)
    return {**env, **settings}


def launch(home: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.lab"],
        cwd=PROJECT,
        env=server_env(home, **settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_procfile_starts_the_launcher() -> None:
    assert procfile_command() == f"python -m {PACKAGE}.lab"


def test_without_a_token_the_server_does_not_start(tmp_path: Path) -> None:
    done = launch(tmp_path, JUPYTER_TOKEN="")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: JUPYTER_TOKEN is empty"), done.stderr
    assert not (tmp_path / ".ipython").exists()  # refused before anything was written


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "JUPYTER_TOKEN is empty"),
        ({"JUPYTER_TOKEN": "   "}, "JUPYTER_TOKEN is empty"),
        ({"JUPYTER_TOKEN": "short"}, "JUPYTER_TOKEN must be at least 16 characters"),
        ({"JUPYTER_TOKEN": "x" * 32, "PORT": "http"}, "PORT must be a number from 1 to 65535"),
        ({"JUPYTER_TOKEN": "x" * 32, "HOST": "localhost.example"}, "HOST must be an IP address"),
        ({"JUPYTER_TOKEN": "x" * 32, "NOTEBOOK_DIR": "no-such-folder"}, "NOTEBOOK_DIR no-such-folder is not a folder"),
    ],
)
def test_a_short_token_or_a_bad_setting_is_refused_in_one_line(settings: dict[str, str], message: str) -> None:
    with pytest.raises(LaunchError) as caught:
        server_arguments({"NOTEBOOK_DIR": str(PROJECT / "notebooks"), **settings})
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_the_arguments_bind_where_asked_and_never_carry_the_token() -> None:
    token = "t" * 40
    arguments = server_arguments(
        {"JUPYTER_TOKEN": token, "PORT": "9999", "HOST": "127.0.0.1", "NOTEBOOK_DIR": str(PROJECT / "notebooks")}
    )
    assert "--ServerApp.port=9999" in arguments and "--ServerApp.allow_remote_access=False" in arguments
    assert "--PasswordIdentityProvider.allow_password_change=False" in arguments
    assert not any(token in argument for argument in arguments)
    remote = server_arguments({"JUPYTER_TOKEN": token, "NOTEBOOK_DIR": str(PROJECT / "notebooks")})
    assert "--ServerApp.ip=0.0.0.0" in remote and "--ServerApp.port=8080" in remote
    assert "--ServerApp.allow_remote_access=True" in remote


@dataclass
class Lab:
    url: str
    token: str
    process: subprocess.Popen[bytes]
    home: Path

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes, str]:
        """Status, body and Location of GET `path`, with `Authorization: token ...` when given; no redirects."""
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {token}"} if token else {})
        opener = urllib.request.build_opener(NoRedirects())
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, response.read(), response.headers.get("Location", "")
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers.get("Location", "")


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    home = tmp_path_factory.mktemp("home")
    if os.geteuid() == 0:
        # Jupyter refuses to run as root, and rightly; the workload never does. A test machine that runs everything as
        # root (a container) allows it in this server's own configuration, never in the launcher.
        (home / ".jupyter").mkdir()
        (home / ".jupyter" / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"allow_root": True}}))
    token = secrets.token_urlsafe(32)
    port = free_port()
    env = server_env(home, JUPYTER_TOKEN=token, PORT=str(port), HOST="127.0.0.1")
    log = home / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["sh", "-c", procfile_command()],
            cwd=PROJECT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started = Lab(f"http://127.0.0.1:{port}", token, process, home)
    try:
        wait_until_answering(f"{started.url}/api", process, log, START_TIMEOUT_SECONDS, any_status=True)
        yield started
    finally:
        stop_process_group(process)


def test_the_api_answers_403_without_the_token_and_200_with_it(lab: Lab) -> None:
    assert lab.get("/api/status")[0] == 403
    assert lab.get("/api/status", token="not-the-token-at-all")[0] == 403
    status, body, _ = lab.get("/api/status", token=lab.token)
    assert status == 200 and b"started" in body


def test_the_notebooks_are_what_the_server_serves(lab: Lab) -> None:
    assert lab.get("/api/contents")[0] == 403
    status, body, _ = lab.get("/api/contents", token=lab.token)
    assert status == 200 and b"01-explore-data.ipynb" in body and b"04-classify-images.ipynb" in body


def test_the_lab_page_sends_a_stranger_to_the_login(lab: Lab) -> None:
    status, _, location = lab.get("/lab")
    assert status == 302 and location.startswith("/login")
    assert lab.get("/lab", token=lab.token)[0] == 200


def test_the_token_is_not_on_any_command_line(lab: Lab) -> None:
    group = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == lab.process.pid:  # the process group id
                group.append((stat.parent / "cmdline").read_bytes())
        except (OSError, IndexError, ValueError):
            continue
    assert group and any(b"jupyterlab" in command for command in group)
    assert not any(lab.token.encode() in command for command in group)


def test_the_launcher_installed_the_ipython_start_up_file(lab: Lab) -> None:
    startup = lab.home / ".ipython" / "profile_default" / "startup" / f"00-{PACKAGE}.py"
    assert f"import {PACKAGE} as helpers" in startup.read_text(encoding="utf-8")
