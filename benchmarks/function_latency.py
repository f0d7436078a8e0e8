"""Latency and throughput of the image-function server against its limits, on loopback.

Measures one 224x224 JPEG classified by MobileNetV2 (weights=None; the weights do not change the cost):

  raw      the model call in-process, wrapped once in tf.function: the limit for one image, and with
           batches of 16 the limit for throughput;
  server   a project generated from the `image-function` template (model_source=keras_file), started
           with uvicorn in a subprocess on a free 127.0.0.1 port, driven by 1, 4 and 16 HTTP clients;
  rebuild  the pattern of the demo the template replaces: build the model for every request.

Every loop is bounded in count and in time; the whole run takes about three minutes on 2 cores.

    .venv/bin/python benchmarks/function_latency.py [--seconds 8] [--json out.json]
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLIENTS = (1, 4, 16)
BATCH = 16
GOALS = {"p50_vs_raw": 1.2, "throughput_vs_raw_batched": 0.8, "throughput_vs_rebuild": 50.0}


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q)) if values else float("nan")


@dataclass
class Sample:
    """Latencies and wall time of one or more measuring segments at one concurrency."""

    clients: int
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0

    def add(self, other: Sample) -> None:
        self.latencies += other.latencies
        self.seconds += other.seconds
        self.errors += other.errors

    def summary(self, per_call: int = 1) -> dict[str, float]:
        return {
            "clients": self.clients,
            "requests": len(self.latencies),
            "errors": self.errors,
            "p50_ms": percentile(self.latencies, 50),
            "p99_ms": percentile(self.latencies, 99),
            "throughput_per_s": per_call * len(self.latencies) / self.seconds if self.seconds else 0.0,
        }


def run_clients(clients: int, call: Callable[[int], None], seconds: float, max_calls: int) -> Sample:
    """`clients` threads call `call(worker)` until `seconds` pass or `max_calls` complete in total."""
    sample = Sample(clients)
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    budget = [max_calls]

    def worker(number: int) -> None:
        while time.perf_counter() < deadline:
            with lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            started = time.perf_counter()
            try:
                call(number)
            except Exception:
                with lock:
                    sample.errors += 1
                continue
            with lock:
                sample.latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sample.seconds = time.perf_counter() - started
    return sample


def test_image() -> bytes:
    from PIL import Image
    from sklearn.datasets import load_sample_image

    buffer = io.BytesIO()
    Image.fromarray(load_sample_image("china.jpg")).resize((224, 224)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- (a) the raw model call ------------------------------------------------------------------------


def raw_calls(model, image: np.ndarray) -> tuple[Callable[[int], None], Callable[[int], None]]:
    """One image and a batch of 16 through the model, wrapped once in tf.function and warmed."""
    import tensorflow as tf

    forward = tf.function(lambda x: model(x, training=False))
    one = tf.constant(image[np.newaxis])
    batch = tf.constant(np.repeat(image[np.newaxis], BATCH, axis=0))
    for _ in range(3):
        forward(one).numpy()
        forward(batch).numpy()
    return (lambda _: forward(one).numpy()), (lambda _: forward(batch).numpy())


# --- (b) the server generated from the template -----------------------------------------------------


def generate_project(target: Path) -> Path:
    tapml = Path(sys.executable).with_name("tapml")
    subprocess.run(
        [
            str(tapml),
            "new",
            "image-function",
            "-o",
            str(target),
            "--no-input",
            "--force",
            "--set",
            "model_source=keras_file",
            "--set",
            "project_name=bench-function",
        ],
        check=True,
        capture_output=True,
    )
    return target


def start_server(project: Path, model_file: Path, log: Path, overrides: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "MODEL_PATH": str(model_file),
        "LABELS_PATH": str(project / "none.json"),
        "MAX_BATCH_SIZE": str(BATCH),
        "QUEUE_SIZE": "256",
        **overrides,
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench_function"],
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health/ready")
            if connection.getresponse().status == 200:
                return process, port
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError("the server did not become ready")


def server_call(port: int, jpeg: bytes) -> Callable[[int], None]:
    """POST the JPEG to /predict over a keep-alive connection per client thread."""
    local = threading.local()
    headers = {"Content-Type": "image/jpeg"}

    def post(_: int) -> None:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request("POST", "/predict", body=jpeg, headers=headers)
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            local.connection = None
            raise
        if response.status != 200:
            raise RuntimeError(body[:200])

    return post


def interleaved(
    contenders: dict[str, tuple[Callable[[int], None], int]], seconds: float, rounds: int
) -> dict[str, Sample]:
    """Alternate short segments of each (call, clients) contender, so drift in machine speed hits all alike."""
    samples = {name: Sample(clients) for name, (_, clients) in contenders.items()}
    for call, clients in contenders.values():
        run_clients(clients, call, 1.0, 100)  # warm-up: connections, batch sizes, caches
    for _ in range(rounds):
        for name, (call, clients) in contenders.items():
            samples[name].add(run_clients(clients, call, seconds / rounds, 100_000))
    return samples


# --- (c) the demo's pattern: build the model on every request ------------------------------------------


def bench_rebuild(image: np.ndarray, seconds: float) -> list[dict[str, float]]:
    from keras.applications import mobilenet_v2

    x = image[np.newaxis]

    def build_and_predict(_: int) -> None:
        model = mobilenet_v2.MobileNetV2(weights=None)
        model.predict(x, verbose=0)

    build_and_predict(0)
    limits = {1: 5, 4: 8, 16: 16}
    return [run_clients(c, build_and_predict, seconds * 3, limits[c]).summary() for c in CLIENTS]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring time per level and contender")
    parser.add_argument("--rounds", type=int, default=4, help="alternating segments per level")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--server-only", action="store_true", help="measure only the server (for tuning)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="server setting, e.g. MAX_WAIT_MS=10 (repeatable)",
    )
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.env)

    import keras
    from PIL import Image

    started = time.perf_counter()
    jpeg = test_image()
    image = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.float32)
    with tempfile.TemporaryDirectory(prefix="function-bench-") as scratch:
        work = Path(scratch)
        model = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
        model_file = work / "mobilenet_v2.keras"
        model.save(model_file)

        print("server and raw model call, interleaved ...", flush=True)
        project = generate_project(work / "project")
        log = work / "server.log"
        process, port = start_server(project, model_file, log, overrides)
        raw_one, raw_batch = raw_calls(model, image)
        post = server_call(port, jpeg)
        levels: dict[str, list[dict[str, float]]] = {"raw": [], "server": []}
        raw_batched: dict[str, float] = {}
        try:
            for clients in CLIENTS:
                contenders = {"server": (post, clients)}
                if not args.server_only:
                    contenders["raw"] = (raw_one, clients)
                    if clients == CLIENTS[-1]:  # the throughput limit: batches of 16, back to back
                        contenders["raw_batched"] = (raw_batch, 1)
                for name, sample in interleaved(contenders, args.seconds, args.rounds).items():
                    if name == "raw_batched":
                        raw_batched = sample.summary(per_call=BATCH)
                    else:
                        levels[name].append(sample.summary())
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        batching = [line for line in log.read_text(errors="replace").splitlines() if "model calls" in line]
        print("server: " + (batching[-1].split(": ", 1)[-1] if batching else "no batch statistics"))
        server = levels["server"]
        if args.server_only:
            for level in server:
                print(json.dumps(level))
            return 0
        raw = {"levels": levels["raw"], "batch16": raw_batched}

        print("model built per request ...", flush=True)
        rebuild = bench_rebuild(image, args.seconds)

    raw_single = raw["levels"][0]
    ratios = {
        "p50_vs_raw": server[0]["p50_ms"] / raw_single["p50_ms"],
        "throughput_vs_raw_batched": server[-1]["throughput_per_s"] / raw["batch16"]["throughput_per_s"],
        "throughput_vs_rebuild": server[-1]["throughput_per_s"] / max(r["throughput_per_s"] for r in rebuild),
    }
    report = {
        "raw": raw,
        "server": server,
        "rebuild": rebuild,
        "ratios": ratios,
        "seconds_total": time.perf_counter() - started,
    }

    print()
    print(f"{'':<26}{'clients':>8}{'p50 ms':>10}{'p99 ms':>10}{'req/s':>10}{'n':>7}{'errors':>8}")
    for name, levels in (
        ("raw model call", raw["levels"]),
        ("server (HTTP)", server),
        ("model built per request", rebuild),
    ):
        for level in levels:
            print(
                f"{name:<26}{level['clients']:>8}{level['p50_ms']:>10.1f}{level['p99_ms']:>10.1f}"
                f"{level['throughput_per_s']:>10.1f}{level['requests']:>7}{level['errors']:>8}"
            )
    b16 = raw["batch16"]
    print(
        f"{'raw batches of 16':<26}{1:>8}{b16['p50_ms']:>10.1f}{b16['p99_ms']:>10.1f}"
        f"{b16['throughput_per_s']:>10.1f}{b16['requests']:>7}{b16['errors']:>8}   (images/s; p50/p99 per batch)"
    )
    print()
    for name, value in ratios.items():
        goal = GOALS[name]
        sense = "<=" if name == "p50_vs_raw" else ">="
        met = value <= goal if sense == "<=" else value >= goal
        print(f"{name:<28}{value:>8.2f}   goal {sense} {goal}   {'met' if met else 'MISSED'}")
    print(f"total {report['seconds_total']:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
