"""The offline demo: generate a CNN trainer, train and register a champion, then serve it and classify digits.

Run it with `make demo` (which sets up .venv first). Everything stays under demo-output/; nothing is downloaded.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "demo-output"
BIN = Path(sys.executable).parent
TRAINER = OUT / "digits-cnn"
FUNCTION = OUT / "digits-function"


def banner(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def run(*args: str | Path, cwd: Path = REPO, env: dict[str, str] | None = None) -> None:
    print("$ " + " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=cwd, env={**os.environ, **(env or {})}, check=True)


def generate() -> None:
    banner("1. Generate a cnn-trainer project (tapml new)")
    run(BIN / "tapml", "new", "cnn-trainer", "-o", TRAINER, "--no-input", "--force",
        "--set", "project_name=digits-cnn", "--set", "epochs=8")
    run(BIN / "tapml", "validate", TRAINER)


def train() -> str:
    banner("2. Train on scikit-learn's bundled digits and register the model (one continuous-training cycle)")
    tracking = f"sqlite:///{TRAINER / 'mlruns.db'}"
    env = {"PYTHONPATH": str(TRAINER / "src"), "MLFLOW_TRACKING_URI": tracking, "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = time.monotonic()
    run(sys.executable, "-m", "digits_cnn.loop", "--once", cwd=TRAINER, env=env)
    print(f"(training cycle took {time.monotonic() - started:.0f} s)")
    return tracking


def report_registry(tracking: str) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking)
    champion = client.get_model_version_by_alias("digits-cnn", "champion")
    accuracy = client.get_run(champion.run_id).data.metrics.get("test_accuracy")
    print(f"Registered model 'digits-cnn' version {champion.version} holds the alias 'champion'"
          f" (held-out accuracy {accuracy:.3f}).")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def digit_pngs(count: int) -> list[tuple[int, bytes]]:
    """A few of scikit-learn's bundled digits as 8x8 greyscale PNGs, with their true labels."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    picks = np.random.default_rng(7).choice(len(digits.images), size=count, replace=False)
    images = []
    for index in picks:
        pixels = (digits.images[index] * (255 / 16)).astype("uint8")
        buffer = io.BytesIO()
        Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
        images.append((int(digits.target[index]), buffer.getvalue()))
    return images


def serve_and_classify(tracking: str) -> None:
    import httpx

    banner("3. Generate an image-function project that serves models:/digits-cnn@champion with ONNX Runtime")
    run(BIN / "tapml", "new", "image-function", "-o", FUNCTION, "--no-input", "--force",
        "--set", "project_name=digits-function", "--set", "registered_model=digits-cnn", "--set", "runtime=onnx")
    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking, "PORT": str(port), "HOST": "127.0.0.1",
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    banner(f"4. Start it on 127.0.0.1:{port} and classify a few digit images")
    log = OUT / "digits-function.log"
    with log.open("wb") as sink:
        server = subprocess.Popen([sys.executable, "-m", "digits_function"], cwd=FUNCTION, env=env,
                                  start_new_session=True, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        _wait_ready(base, server, log)
        cold_start = time.monotonic() - started
        print(f"ready {cold_start:.1f} s after the process started; {_memory(server.pid)}")
        with httpx.Client(base_url=base, timeout=30) as client:
            for truth, png in digit_pngs(6):
                answer = client.post("/predict", content=png, headers={"Content-Type": "image/png"}).json()
                top = answer["predictions"][:3]
                shown = ", ".join(f"{p['label']} ({p['score']:.2f})" for p in top)
                model = answer["model"]
                print(f"digit {truth}: {shown}   [{model['name']} v{model['version']}, {answer['latency_ms']:.1f} ms]")
        print(f"after the answers: {_memory(server.pid)} (cold start {cold_start:.1f} s)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _memory(pid: int) -> str:
    """The server's resident memory now and at its peak, and whether TensorFlow is loaded in it (Linux /proc)."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    rss, peak = (int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))
    tensorflow = "tensorflow" in Path(f"/proc/{pid}/maps").read_text()
    return f"{rss:.0f} MB resident (peak {peak:.0f} MB), TensorFlow {'loaded' if tensorflow else 'not loaded'}"


def _wait_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the function exited; its log ({log}) ends:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit("the function did not become ready within 180 s")


def main() -> int:
    OUT.mkdir(exist_ok=True)
    generate()
    tracking = train()
    report_registry(tracking)
    serve_and_classify(tracking)
    banner("Where to look")
    print(f"- the generated trainer:  {TRAINER} (README.md, config/workload.yaml, tests/)")
    print(f"- the generated function: {FUNCTION} (README.md, openapi.json, tests/)")
    print(f"- the MLflow runs and registry: {BIN / 'mlflow'} ui --backend-store-uri {tracking}")
    print("- run either project's own tests: cd <project> && python -m pytest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
