"""The offline demo: train and register a champion, serve it with both runtimes, run the notebooks, retrain.

Steps: generate a CNN trainer, train on the bundled digits and register the champion; serve it with image-function's
TensorFlow runtime and then its ONNX runtime (cold start and memory beside the answers); run the jupyter-utilities
notebooks against the same MLflow store; run the argo-pipeline locally twice (promoted only if better).

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
from collections.abc import Iterator
from contextlib import contextmanager
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


def tapml_new(template: str, target: Path, **values: str) -> None:
    """`tapml new` without prompts, replacing an earlier demo's output; each value is one `--set key=value`."""
    sets = [arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]
    run(BIN / "tapml", "new", template, "-o", target, "--no-input", "--force", *sets)


def generate() -> None:
    banner("1. Generate a cnn-trainer project (tapml new)")
    tapml_new("cnn-trainer", TRAINER, project_name="digits-cnn", epochs="8")
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
    print(
        f"Registered model 'digits-cnn' version {champion.version} holds the alias 'champion'"
        f" (held-out accuracy {accuracy:.3f})."
    )


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

    banner("3. Generate an image-function project that serves models:/digits-cnn@champion (TensorFlow runtime)")
    tapml_new(
        "image-function", FUNCTION, project_name="digits-function", registered_model="digits-cnn", runtime="tensorflow"
    )
    port = free_port()
    banner(f"4. Start it on 127.0.0.1:{port} and classify a few digit images")
    env = {"MLFLOW_TRACKING_URI": tracking, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with (
        running_function(FUNCTION, "digits_function", port, env) as (base, _, _),
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        for truth, png in digit_pngs(6):
            answer = client.post("/predict", content=png, headers={"Content-Type": "image/png"}).json()
            top = answer["predictions"][:3]
            shown = ", ".join(f"{p['label']} ({p['score']:.2f})" for p in top)
            model = answer["model"]
            print(f"digit {truth}: {shown}   [{model['name']} v{model['version']}, {answer['latency_ms']:.1f} ms]")


@contextmanager
def running_function(
    project: Path, package: str, port: int, env: dict[str, str]
) -> Iterator[tuple[str, subprocess.Popen[bytes], float]]:
    """A generated function started on 127.0.0.1:`port` in its own process group, stopped by group at the end.

    Yields its base URL, its process and its cold start: seconds from process start to /health/ready answering 200.
    """
    import httpx

    log = OUT / f"{project.name}.log"
    started = time.monotonic()
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", package],
            cwd=project,
            env={**os.environ, **env, "PORT": str(port), "HOST": "127.0.0.1"},
            start_new_session=True,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            if server.poll() is not None or time.monotonic() - started > 180:
                raise SystemExit(
                    f"the function {project.name} did not become ready; its log ({log}) ends:\n"
                    f"{log.read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.02)  # fine-grained: the cold start is measured here
        yield base, server, time.monotonic() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def serve_with_onnx_runtime(tracking: str) -> None:
    """Serve the champion with the ONNX runtime (no TensorFlow): its cold start and memory beside its answers."""
    import httpx

    banner("5. The same champion with image-function's ONNX runtime: cold start and memory beside the answers")
    project = OUT / "digits-function-onnx"
    tapml_new(
        "image-function", project, project_name="digits-function-onnx", registered_model="digits-cnn", runtime="onnx"
    )

    def memory(pid: int) -> str:
        status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        rss, peak = (int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))
        tensorflow = "loaded" if "tensorflow" in Path(f"/proc/{pid}/maps").read_text() else "not loaded"
        return f"{rss:.0f} MB resident, peak {peak:.0f} MB, TensorFlow {tensorflow}"

    env = {"MLFLOW_TRACKING_URI": tracking}
    with (
        running_function(project, "digits_function_onnx", free_port(), env) as (base, server, cold_start),
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        for truth, png in digit_pngs(4):
            answer = client.post("/predict", content=png, headers={"Content-Type": "image/png"}).json()
            best = answer["predictions"][0]
            print(
                f"digit {truth}: {best['label']} ({best['score']:.2f}), {answer['latency_ms']:.1f} ms"
                f"   [onnx v{answer['model']['version']}: cold start {cold_start:.2f} s, {memory(server.pid)}]"
            )


def retrain_with_the_argo_pipeline() -> None:
    """Generate an argo-pipeline project and run it locally twice: the second run retrains and is promoted only if
    it beats the champion like for like."""
    import json
    import shutil

    project = OUT / "digits-pipeline"
    new_digits = OUT / "new-digits"
    banner("7. Generate an argo-pipeline project (the same steps as an Argo Workflows DAG, argo/*.yaml)")
    tapml_new("argo-pipeline", project, project_name="digits-pipeline")
    (project / "mlruns.db").unlink(missing_ok=True)  # a fresh registry: the first run makes the champion
    new_digits.mkdir(exist_ok=True)
    for number, (truth, png) in enumerate(digit_pngs(8)):
        (new_digits / f"{number}-is-{truth}.png").write_bytes(png)

    def run_locally(label: str, *parameters: str) -> dict[str, object]:
        artifacts = project / "pipeline-runs" / label
        shutil.rmtree(artifacts, ignore_errors=True)
        run(
            sys.executable,
            "-m",
            "digits_pipeline.pipeline",
            "run-local",
            "--artifacts",
            artifacts,
            *parameters,
            cwd=project,
            env={"PYTHONPATH": str(project / "src"), "TF_CPP_MIN_LOG_LEVEL": "2"},
        )
        decision = json.loads((artifacts / "registration.json").read_text())
        print(f"{label} run: version {decision['version']}, promoted: {decision['promoted']} ({decision['reason']})")
        return decision

    banner("8. Run the pipeline locally, step by step (ingest, validate, train, evaluate, register, predict)")
    run_locally("first", "-p", "epochs=6", "-p", f"prediction-input={new_digits}")
    for line in (project / "pipeline-runs" / "first" / "predictions.csv").read_text().splitlines()[:5]:
        print(f"  predictions.csv: {line}")
    banner("9. Retrain with one epoch; the new version is promoted only if it beats the champion")
    run_locally("second", "-p", "epochs=1")
    print(
        f"- the pipeline: {project} (README.md, argo/*.yaml, src/digits_pipeline/pipeline.py); its MLflow: "
        f"{BIN / 'mlflow'} ui --backend-store-uri sqlite:///{project / 'mlruns.db'}"
    )


def run_notebooks(tracking: str) -> None:
    """The data scientist's side: the jupyter-utilities notebooks, run top to bottom against the demo's MLflow store."""
    import nbformat
    from mlflow import MlflowClient
    from nbclient import NotebookClient

    notebooks = OUT / "digits-notebooks"
    banner("6. Generate a jupyter-utilities project and run its notebooks against the same MLflow store")
    tapml_new("jupyter-utilities", notebooks, project_name="digits-notebooks")
    executed = notebooks / "executed"
    executed.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking,
        "PYTHONPATH": str(notebooks / "src"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    env.pop("SERVICE_BINDING_ROOT", None)
    # 03 compares the trainer's runs and versions (step 2), the others use their embedded defaults.
    overrides = {"03-compare-runs.ipynb": {"EXPERIMENT": "digits-cnn", "REGISTERED_MODEL": "digits-cnn"}}
    for path in sorted((notebooks / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        if path.name in overrides:  # papermill's convention: a cell after the one tagged `parameters`
            (index,) = [i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])]
            source = "\n".join(f"{k} = {v!r}" for k, v in overrides[path.name].items())
            notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
        started = time.monotonic()
        NotebookClient(
            notebook, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(executed)}}
        ).execute(env=env)
        nbformat.write(notebook, executed / path.name)
        outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
        figures = sum("image/png" in o.get("data", {}) for o in outputs)
        printed = [line for o in outputs if o.get("name") == "stdout" for line in o.text.splitlines()]
        print(f"{path.name}: {time.monotonic() - started:.0f} s, {figures} figures")
        for line in printed[:8]:
            print(f"    {line}")
    client = MlflowClient(tracking_uri=tracking)
    champion = client.get_model_version_by_alias("digits-notebooks-digits", "champion")
    experiment = client.get_experiment_by_name("digits-notebooks-notebooks")
    runs = client.search_runs([experiment.experiment_id])
    print(
        f"The same MLflow store now also holds {len(runs)} runs in experiment 'digits-notebooks-notebooks' and"
        f" 'digits-notebooks-digits' version {champion.version} as 'champion'; executed notebooks: {executed}"
    )


def main() -> int:
    OUT.mkdir(exist_ok=True)
    generate()
    tracking = train()
    report_registry(tracking)
    serve_and_classify(tracking)
    serve_with_onnx_runtime(tracking)
    run_notebooks(tracking)
    retrain_with_the_argo_pipeline()
    banner("Where to look")
    print(f"- the generated trainer:  {TRAINER} (README.md, config/workload.yaml, tests/)")
    print(f"- the generated function: {FUNCTION} (README.md, openapi.json, tests/), and {OUT / 'digits-function-onnx'}")
    print(f"- the notebooks and the pipeline: {OUT / 'digits-notebooks'}, {OUT / 'digits-pipeline'}")
    print(f"- the MLflow runs and registry: {BIN / 'mlflow'} ui --backend-store-uri {tracking}")
    print("- run any project's own tests: cd <project> && python -m pytest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
