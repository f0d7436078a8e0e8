"""The image function's two runtimes, ONNX and TensorFlow, side by side with `mlflow models serve`, in one run.

All three serve the same registered model: a digits CNN trained and registered here by a project generated from
the `cnn-trainer` template (as the demo's champion is, with its ONNX form), in a real MLflow tracking server on
127.0.0.1. The contenders:

  onnx        a project generated from `image-function` with runtime=onnx (the default), model_source=mlflow;
  tensorflow  the same with runtime=tensorflow;
  mlflow      `mlflow models serve -m models:/<name>@champion --env-manager local` (what an MLflow user picks;
              its client sends the pixels as JSON, the functions get the PNG).

Each function runs from a fresh venv built from its own generated requirements.txt (pip, from PyPI), so the ONNX
one has no TensorFlow installed at all; `mlflow models serve` runs from this venv. Measured per contender: cold
start (process start to its health endpoint answering 200; the median of the rounds, after one start that is not
counted, which compiles .pyc files and fills the page cache), p50 and p99 latency with 1 client, throughput with 16
clients on keep-alive connections, peak RSS of the serving process group (sampled every 50 ms, and each process's
own high-water mark), and the installed size of each venv's site-packages. Then the ratios against their goals.
The machine's load average is printed: run it on a quiet machine.

    .venv/bin/python benchmarks/serving_runtimes.py [--seconds 6] [--rounds 5] [--venvs DIR] [--json out.json]

About 10 minutes on 2 cores, 3 of them for building the two venvs (reused from --venvs DIR when requirements match).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from function_latency import Sample, free_port, run_clients  # the same client loop

REPO = Path(__file__).resolve().parents[1]
MODEL = "digits-cnn"
IMAGE_SIZE = 32  # cnn-trainer's default
RUNTIMES = ("onnx", "tensorflow")
CLIENTS = (1, 16)
# ratio name: (numerator, denominator, metric, "<=" or ">=", goal)
GOALS = {
    "cold start, onnx / tensorflow": ("onnx", "tensorflow", "cold_start_s", "<=", 0.25),
    "peak RSS, onnx / tensorflow": ("onnx", "tensorflow", "peak_rss_mb", "<=", 0.3),
    "installed size, onnx / tensorflow": ("onnx", "tensorflow", "installed_mb", "<=", 0.3),
    "p50 1 client, onnx / tensorflow": ("onnx", "tensorflow", "p50_ms", "<=", 0.8),
    "throughput 16 clients, onnx / tensorflow": ("onnx", "tensorflow", "throughput_per_s", ">=", 1.0),
    "throughput 16 clients, onnx / mlflow serve": ("onnx", "mlflow", "throughput_per_s", ">=", 20.0),
}


def say(message: str) -> None:
    print(message, flush=True)


# --- processes ---------------------------------------------------------------------------------------


def start_group(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_group(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_ok(port: int, path: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"127.0.0.1:{port}{path} not ready within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


def status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssMonitor:
    """The peak resident memory of a process group: the sampled sum, or a member's own high-water mark."""

    def __init__(self, pgid: int) -> None:
        self.pgid = pgid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        members = group_members(self.pgid)
        total = sum(status_kb(pid, "VmRSS") for pid in members)
        own = max((status_kb(pid, "VmHWM") for pid in members), default=0)
        self.peak_kb = max(self.peak_kb, total, own)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self._sample()

    def stop(self) -> float:
        self._sample()
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024


# --- the model and the projects ----------------------------------------------------------------------


@contextmanager
def tracking_server(work: Path) -> Iterator[str]:
    root = work / "mlflow"
    root.mkdir()
    port = free_port()
    log = work / "mlflow-server.log"
    process = start_group(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--default-artifact-root",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        root,
        {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
        log,
    )
    try:
        wait_ok(port, "/health", process, log, timeout=120)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_group(process)


def tapml_new(template: str, target: Path, **values: str) -> Path:
    sets = [arg for key, value in values.items() for arg in ("--set", f"{key}={value}")]
    subprocess.run(
        [sys.executable, "-m", "generator", "new", template, "-o", str(target), "--no-input", "--force", *sets],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
        capture_output=True,
    )
    return target


def train_champion(work: Path, tracking_uri: str, epochs: int) -> str:
    """Generate the trainer, train and register the champion; returns its version (with its ONNX form)."""
    trainer = tapml_new("cnn-trainer", work / "digits-cnn", project_name=MODEL)
    env = {
        **os.environ,
        "PYTHONPATH": str(trainer / "src"),
        "MLFLOW_TRACKING_URI": tracking_uri,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    done = subprocess.run(
        [sys.executable, "-m", "digits_cnn.train", "--epochs", str(epochs)],
        cwd=trainer,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"training failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    onnx_line = next((line for line in done.stdout.splitlines() if "ONNX form" in line), "no ONNX line printed")
    say(f"  {onnx_line}")
    from mlflow import MlflowClient

    return str(MlflowClient(tracking_uri).get_model_version_by_alias(MODEL, "champion").version)


@dataclass
class Venv:
    path: Path
    install_seconds: float | None  # None when reused

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def site_packages_mb(self) -> float:
        (site,) = self.path.glob("lib/python*/site-packages")
        return sum(file.stat().st_size for file in site.rglob("*") if file.is_file() and not file.is_symlink()) / 1e6


def build_venv(requirements: Path, where: Path) -> Venv:
    """A fresh venv with `requirements` installed from PyPI; reused when it was built from the same file."""
    stamp = where / ".requirements-sha256"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text() == digest:
        return Venv(where, None)
    shutil.rmtree(where, ignore_errors=True)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, capture_output=True)
    done = subprocess.run(
        [str(where / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "-r", str(requirements)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pip install -r {requirements} failed:\n{done.stderr[-3000:]}")
    stamp.write_text(digest)
    return Venv(where, time.monotonic() - started)


# --- the contenders ------------------------------------------------------------------------------------


@dataclass
class Contender:
    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    health: str
    request: Callable[[int], Callable[[int], None]]  # port -> one call
    installed_mb: float | None = None
    cold_starts: list[float] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    levels: dict[int, Sample] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        single, many = self.levels[CLIENTS[0]].summary(), self.levels[CLIENTS[-1]].summary()
        return {
            "cold_start_s": float(np.median(self.cold_starts)),
            "cold_starts_s": self.cold_starts,
            "p50_ms": single["p50_ms"],
            "p99_ms": single["p99_ms"],
            "p50_ms_16": many["p50_ms"],
            "throughput_per_s": many["throughput_per_s"],
            "requests": single["requests"] + many["requests"],
            "errors": single["errors"] + many["errors"],
            "peak_rss_mb": self.peak_rss_mb,
            "installed_mb": self.installed_mb,
        }


def post_call(port: int, path: str, body: bytes, content_type: str) -> Callable[[int], None]:
    """POST `body` to `path` over one keep-alive connection per client thread."""
    local = threading.local()
    headers = {"Content-Type": content_type}

    def post(_: int) -> None:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException):
            local.connection = None
            raise
        if response.status != 200:
            raise RuntimeError(answer[:300])

    return post


def digit_png() -> tuple[bytes, np.ndarray]:
    """One of scikit-learn's digits as an 8x8 PNG, and as the model's input tensor for the MLflow server."""
    from PIL import Image
    from sklearn.datasets import load_digits

    pixels = (load_digits().images[0] * (255 / 16)).astype("uint8")
    image = Image.fromarray(pixels, "L")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    resized = np.asarray(image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR), dtype=np.float32)
    return buffer.getvalue(), resized.reshape(1, IMAGE_SIZE, IMAGE_SIZE, 1)


def measure_round(contender: Contender, work: Path, seconds: float, counted: bool) -> None:
    """One start: cold start, then (when counted) the client levels while the group's RSS is sampled."""
    port = free_port()
    log = work / f"{contender.name}.log"
    env = {**contender.env, "PORT": str(port)}
    command = [part.replace("{port}", str(port)) for part in contender.command]
    started = time.monotonic()
    process = start_group(command, contender.cwd, env, log)
    monitor = RssMonitor(process.pid)
    try:
        wait_ok(port, contender.health, process, log)
        ready = time.monotonic() - started
        if not counted:
            return
        contender.cold_starts.append(ready)
        call = contender.request(port)
        for clients in CLIENTS:
            run_clients(clients, call, 1.0, 1000)  # warm-up: connections, batch sizes, caches
            sample = run_clients(clients, call, seconds, 1_000_000)
            contender.levels.setdefault(clients, Sample(clients)).add(sample)
    finally:
        rss = monitor.stop()
        stop_group(process)
        if counted:
            contender.peak_rss_mb = max(contender.peak_rss_mb, rss)


def ratio_lines(results: dict[str, dict[str, object]]) -> tuple[list[str], dict[str, float], bool]:
    lines, ratios, all_met = [], {}, True
    for name, (top, bottom, metric, sense, goal) in GOALS.items():
        value = float(results[top][metric]) / float(results[bottom][metric])  # type: ignore[arg-type]
        met = value <= goal if sense == "<=" else value >= goal
        all_met &= met
        ratios[name] = value
        lines.append(f"{name:<44}{value:>8.3f}   goal {sense} {goal:<5}  {'met' if met else 'NOT MET'}")
    return lines, ratios, all_met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="measuring time per client level and round")
    parser.add_argument("--rounds", type=int, default=5, help="counted starts per contender (cold start median)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs of the registered model")
    parser.add_argument("--venvs", type=Path, help="keep the two venvs here and reuse them when requirements match")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    load_before = os.getloadavg()
    say(
        f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} "
        f"({os.cpu_count()} CPUs; a quiet machine reads well below 1)"
    )
    started = time.perf_counter()
    png, tensor = digit_png()
    with tempfile.TemporaryDirectory(prefix="serving-runtimes-") as scratch:
        work = Path(scratch)
        venv_root = args.venvs or work / "venvs"
        with tracking_server(work) as tracking_uri:
            say(f"training and registering {MODEL} ({args.epochs} epochs) in MLflow at {tracking_uri} ...")
            version = train_champion(work, tracking_uri, args.epochs)
            say(f"  models:/{MODEL}@champion is version {version}")

            contenders: dict[str, Contender] = {}
            venvs: dict[str, Venv] = {}
            for runtime in RUNTIMES:
                project = tapml_new(
                    "image-function",
                    work / f"bench-{runtime}",
                    project_name=f"bench-{runtime}",
                    registered_model=MODEL,
                    runtime=runtime,
                )
                say(f"building a fresh venv from the {runtime} function's requirements.txt (pip, PyPI) ...")
                venv = venvs[runtime] = build_venv(project / "requirements.txt", venv_root / runtime)
                took = f"{venv.install_seconds:.0f} s" if venv.install_seconds is not None else "reused"
                say(f"  {venv.site_packages_mb():.0f} MB installed ({took})")
                env = {
                    "PATH": os.environ.get("PATH", ""),
                    "HOME": os.environ.get("HOME", "/tmp"),
                    "HOST": "127.0.0.1",
                    "MLFLOW_TRACKING_URI": tracking_uri,
                    "MLFLOW_DISABLE_TELEMETRY": "true",
                    "TF_CPP_MIN_LOG_LEVEL": "2",
                }
                contenders[runtime] = Contender(
                    runtime,
                    [str(venv.python), "-m", f"bench_{runtime}"],
                    project,
                    env,
                    "/health/ready",
                    lambda port: post_call(port, "/predict", png, "image/png"),
                    venv.site_packages_mb(),
                )
            body = json.dumps({"inputs": tensor.tolist()}).encode()
            contenders["mlflow"] = Contender(
                "mlflow",
                [
                    sys.executable,
                    "-m",
                    "mlflow",
                    "models",
                    "serve",
                    "-m",
                    f"models:/{MODEL}@champion",
                    "--env-manager",
                    "local",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    "{port}",
                ],
                work,
                {
                    **os.environ,
                    "MLFLOW_TRACKING_URI": tracking_uri,
                    "MLFLOW_DISABLE_TELEMETRY": "true",
                    "TF_CPP_MIN_LOG_LEVEL": "2",  # it runs `uvicorn` from PATH: this venv's
                    "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                },
                "/ping",
                lambda port: post_call(port, "/invocations", body, "application/json"),
            )

            say("one uncounted start each (compiles .pyc files, fills the page cache) ...")
            for contender in contenders.values():
                measure_round(contender, work, args.seconds, counted=False)
            for number in range(1, args.rounds + 1):
                say(f"round {number} of {args.rounds}: start, 1 client, 16 clients, stop; for each contender ...")
                for contender in contenders.values():
                    measure_round(contender, work, args.seconds, counted=True)
        results = {name: contender.summary() for name, contender in contenders.items()}

    load_after = os.getloadavg()
    say("")
    say(
        f"{'':<12}{'cold start':>11}{'p50 1 cl.':>11}{'p99 1 cl.':>11}{'16 clients':>12}{'p50 16 cl.':>12}"
        f"{'peak RSS':>10}{'installed':>11}{'errors':>8}"
    )
    for name, row in results.items():
        installed = f"{row['installed_mb']:.0f} MB" if row["installed_mb"] is not None else "n/a"
        say(
            f"{name:<12}{row['cold_start_s']:>9.2f} s{row['p50_ms']:>8.2f} ms{row['p99_ms']:>8.2f} ms"
            f"{row['throughput_per_s']:>8.0f} r/s{row['p50_ms_16']:>9.1f} ms{row['peak_rss_mb']:>7.0f} MB"
            f"{installed:>11}{row['errors']:>8}"
        )
    say(
        "(cold starts: "
        + "; ".join(
            f"{name} " + ", ".join(f"{s:.2f}" for s in row["cold_starts_s"])  # type: ignore[union-attr]
            for name, row in results.items()
        )
        + " s)"
    )
    installs = ", ".join(
        f"{name} {venv.install_seconds:.0f} s" for name, venv in venvs.items() if venv.install_seconds is not None
    )
    if installs:
        say(f"(fresh venv installs: {installs})")
    say("")
    lines, ratios, all_met = ratio_lines(results)
    for line in lines:
        say(line)
    say(
        f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; "
        f"total {time.perf_counter() - started:.0f} s"
    )
    if args.json:
        report = {
            "results": results,
            "ratios": ratios,
            "all_goals_met": all_met,
            "load_average": {"before": load_before, "after": load_after},
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
