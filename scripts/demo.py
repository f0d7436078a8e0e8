"""The offline demo: generate a CNN trainer, train and register a champion, then serve it and classify digits.

Run it with `make demo` (which sets up .venv first). Everything stays under demo-output/; nothing is downloaded.
"""

from __future__ import annotations

import os
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


def main() -> int:
    OUT.mkdir(exist_ok=True)
    generate()
    tracking = train()
    report_registry(tracking)
    banner("Where to look")
    print(f"- the generated trainer:   {TRAINER} (README.md, config/workload.yaml, tests/)")
    print(f"- the MLflow runs and registry: {BIN / 'mlflow'} ui --backend-store-uri {tracking}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
