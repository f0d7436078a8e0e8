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

    banner("3. Generate an image-function project that serves models:/digits-cnn@champion")
    run(BIN / "tapml", "new", "image-function", "-o", FUNCTION, "--no-input", "--force",
        "--set", "project_name=digits-function", "--set", "registered_model=digits-cnn")
    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking, "PORT": str(port), "HOST": "127.0.0.1",
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    banner(f"4. Start it on 127.0.0.1:{port} and classify a few digit images")
    log = OUT / "digits-function.log"
    with log.open("wb") as sink:
        server = subprocess.Popen([sys.executable, "-m", "digits_function"], cwd=FUNCTION, env=env,
                                  start_new_session=True, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, server, log)
        with httpx.Client(base_url=base, timeout=30) as client:
            for truth, png in digit_pngs(6):
                answer = client.post("/predict", content=png, headers={"Content-Type": "image/png"}).json()
                top = answer["predictions"][:3]
                shown = ", ".join(f"{p['label']} ({p['score']:.2f})" for p in top)
                model = answer["model"]
                print(f"digit {truth}: {shown}   [{model['name']} v{model['version']}, {answer['latency_ms']:.1f} ms]")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


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
        time.sleep(0.5)
    raise SystemExit("the function did not become ready within 180 s")


def serve_with_onnx_runtime(tracking: str) -> None:
    """Serve the champion with the ONNX runtime (no TensorFlow): its cold start and memory beside its answers."""
    import httpx

    banner("5. The same champion with image-function's ONNX runtime: cold start and memory beside the answers")
    project = OUT / "digits-function-onnx"
    run(BIN / "tapml", "new", "image-function", "-o", project, "--no-input", "--force", "--set",
        "project_name=digits-function-onnx", "--set", "registered_model=digits-cnn", "--set", "runtime=onnx")
    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking, "PORT": str(port), "HOST": "127.0.0.1"}
    log = OUT / "digits-function-onnx.log"
    started = time.monotonic()
    with log.open("wb") as sink:
        server = subprocess.Popen([sys.executable, "-m", "digits_function_onnx"], cwd=project, env=env,
                                  start_new_session=True, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def memory() -> str:
        status = dict(line.split(":", 1) for line in Path(f"/proc/{server.pid}/status").read_text().splitlines())
        rss, peak = (int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))
        tensorflow = "loaded" if "tensorflow" in Path(f"/proc/{server.pid}/maps").read_text() else "not loaded"
        return f"{rss:.0f} MB resident, peak {peak:.0f} MB, TensorFlow {tensorflow}"

    try:
        while True:
            if server.poll() is not None or time.monotonic() - started > 180:
                raise SystemExit(f"the ONNX function did not become ready; its log ({log}) ends:\n"
                                 f"{log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        cold_start = time.monotonic() - started
        with httpx.Client(base_url=base, timeout=30) as client:
            for truth, png in digit_pngs(4):
                answer = client.post("/predict", content=png, headers={"Content-Type": "image/png"}).json()
                best = answer["predictions"][0]
                print(f"digit {truth}: {best['label']} ({best['score']:.2f}), {answer['latency_ms']:.1f} ms"
                      f"   [onnx v{answer['model']['version']}: cold start {cold_start:.2f} s, {memory()}]")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> int:
    OUT.mkdir(exist_ok=True)
    generate()
    tracking = train()
    report_registry(tracking)
    serve_and_classify(tracking)
    serve_with_onnx_runtime(tracking)
    banner("Where to look")
    print(f"- the generated trainer:  {TRAINER} (README.md, config/workload.yaml, tests/)")
    print(f"- the generated function: {FUNCTION} (README.md, openapi.json, tests/)")
    print(f"- the MLflow runs and registry: {BIN / 'mlflow'} ui --backend-store-uri {tracking}")
    print("- run either project's own tests: cd <project> && python -m pytest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
