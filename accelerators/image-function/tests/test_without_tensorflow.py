"""The ONNX runtime serves without TensorFlow: it is installed for the tests, but the server never imports it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import PACKAGE, ROOT, Digits, ServedModels, Server, server_env
from servers import free_port

TENSORFLOW = ("tensorflow", "keras", "tf2onnx")

# The server's own code path, in a fresh interpreter: settings, model load and warm-up, the app, one answer.
SERVE_ONE = f"""
import json, sys
from {PACKAGE}.app import create_app
from {PACKAGE}.service import Service
service = Service()
service.load_first_model()
create_app(service)
answer = service.classify(sys.stdin.buffer.read())
loaded = [name for name in {TENSORFLOW!r} if name in sys.modules]
print(json.dumps(dict(loaded=loaded, label=answer["predictions"][0]["label"])))
"""


def test_loading_and_serving_import_no_tensorflow(served_models: ServedModels, digits: Digits) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SERVE_ONE],
        cwd=ROOT,
        env=server_env(served_models, free_port()),
        input=digits.png(0),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    result = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert result["loaded"] == []
    assert result["label"]


def test_the_running_server_has_no_tensorflow_library_loaded(server: Server) -> None:
    libraries = Path(f"/proc/{server.process.pid}/maps").read_text()
    assert "onnxruntime" in libraries  # the check sees the server's libraries
    assert "tensorflow" not in libraries
