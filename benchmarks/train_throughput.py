"""Training throughput of the cnn-trainer template's input pipeline, against its limit and the old demo's way.

Generates a cnn-trainer project (digits, default options) into a temporary folder, imports its package and
measures images/s of `model.fit` for the same model and batch size fed three ways:

1. pipeline  - the generated trainer's own tf.data pipeline (`data.to_dataset`: uint8 cached, shuffled,
               batched, cast to float32, prefetched);
2. tensors   - already-prepared float32 tensors via `Dataset.from_tensor_slices`, cached and prefetched:
               the input-pipeline limit;
3. numpy     - plain `model.fit` on float64 NumPy arrays (how the old TAP demo fed its CNN).

Epochs of the three feeds alternate, so that other load on the machine hits them alike. The first epoch
(tracing, cache filling) is excluded; the best and the median of the others are reported (other load only ever
adds time, so the best epoch is the steadiest figure on a shared machine). Goal: (1)/(2) >= 0.9.

    .venv/bin/python benchmarks/train_throughput.py [--epochs 4] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

TAPML = Path(sys.executable).with_name("tapml")
GOAL = 0.9


def generate_project(target: Path, options: list[str]) -> Path:
    """Render the template with `tapml new` and return the project's src folder."""
    sets = [arg for option in options for arg in ("--set", option)]
    subprocess.run(
        [str(TAPML), "new", "cnn-trainer", "-o", str(target), "--no-input", "--force", *sets],
        check=True,
        capture_output=True,
        text=True,
    )
    return target / "src"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8, help="timed epochs per variant, after one warm-up epoch")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="copies of the 1,797 digits in the training set, for longer, steadier epochs",
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="train-throughput-") as tmp:
        src = generate_project(
            Path(tmp) / "bench-cnn",
            ["project_name=bench-cnn", f"image_size={args.image_size}", f"batch_size={args.batch_size}"],
        )
        sys.path.insert(0, str(src))
        results = run(args)
    print_table(results, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench_cnn import data
    from bench_cnn import model as cnn
    from bench_cnn.config import load_settings

    settings = load_settings([], environ={})
    everything = data.load(settings)
    train = data.split(everything, settings.holdout).train
    train = data.LabelledImages(
        np.concatenate([train.images] * args.repeat),
        np.concatenate([train.labels] * args.repeat),
        train.class_names,
        np.concatenate([train.fingerprints] * args.repeat),
    )
    images = len(train)

    def fresh_model() -> keras.Model:
        keras.utils.set_random_seed(settings.seed)
        network = cnn.build_model(
            settings.input_shape,
            len(train.class_names),
            conv_blocks=settings.conv_blocks,
            filters=settings.filters,
            dropout=settings.dropout,
            seed=settings.seed,
        )
        cnn.compile_model(network, settings.learning_rate)
        return network

    batch = settings.batch_size
    floats = train.images.astype(np.float32)
    feeds = {  # each: the arguments of model.fit that feed it
        "pipeline": {"x": data.to_dataset(train, batch, shuffle_seed=settings.seed), "shuffle": False},
        "tensors": {
            "x": tf.data.Dataset.from_tensor_slices((floats, train.labels))
            .cache()
            .batch(batch)
            .prefetch(tf.data.AUTOTUNE),
            "shuffle": False,
        },
        "numpy": {"x": train.images.astype(np.float64), "y": train.labels, "batch_size": batch},
    }
    networks = {name: fresh_model() for name in feeds}
    timers = {name: EpochTimer() for name in feeds}
    # Epochs of the three feeds alternate, so that other load on the machine hits them alike.
    for epoch in range(args.epochs + 1):
        for name, feed in feeds.items():
            networks[name].fit(**feed, initial_epoch=epoch, epochs=epoch + 1, callbacks=[timers[name]], verbose=0)

    results: dict[str, Any] = {
        "images_per_epoch": images,
        "batch_size": batch,
        "input_shape": list(settings.input_shape),
        "timed_epochs": args.epochs,
        "tensorflow": tf.__version__,
        "cpus": os.cpu_count(),
    }
    for name, timer in timers.items():
        steady = timer.seconds[1:]
        results[name] = {
            "images_per_second": images / min(steady),
            "median_images_per_second": images / statistics.median(steady),
            "epoch_seconds": [round(seconds, 3) for seconds in timer.seconds],
        }
    results["pipeline_alone_images_per_second"] = pipeline_alone(feeds["pipeline"]["x"], images)
    for other in ("tensors", "numpy"):
        for suffix, key in (("", "images_per_second"), ("_median", "median_images_per_second")):
            results[f"pipeline_vs_{other}{suffix}"] = results["pipeline"][key] / results[other][key]
    return results


def pipeline_alone(dataset: tf.data.Dataset, images: int) -> float:
    """Images/s of iterating the pipeline without a model: how far it is from being the bottleneck."""
    for _ in dataset:  # fills the cache
        pass
    start = time.perf_counter()
    for _ in dataset:
        pass
    return images / (time.perf_counter() - start)


class EpochTimer(keras.callbacks.Callback):
    """Wall time of every epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start)


def print_table(results: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"cnn-trainer model.fit throughput: {results['images_per_epoch']} images/epoch, "
        f"input {results['input_shape']}, batch {results['batch_size']}, {args.epochs} timed epochs per feed "
        f"after 1 warm-up, feeds alternating; TensorFlow {results['tensorflow']}, {results['cpus']} CPUs"
    )
    print(f"{'feed':<46}{'best img/s':>11}{'median':>9}   epoch seconds (first = warm-up)")
    rows = (
        ("(1) generated tf.data pipeline (uint8 cache)", "pipeline"),
        ("(2) prepared float32 tensors, cached", "tensors"),
        ("(3) float64 NumPy arrays (old demo)", "numpy"),
    )
    for label, key in rows:
        row = results[key]
        print(
            f"{label:<46}{row['images_per_second']:>11.0f}{row['median_images_per_second']:>9.0f}   "
            f"{row['epoch_seconds']}"
        )
    print(f"{'    pipeline (1) alone, no model':<46}{results['pipeline_alone_images_per_second']:>11.0f}")
    verdict = "meets" if results["pipeline_vs_tensors"] >= GOAL else "MISSES"
    print(
        f"(1)/(2) = {results['pipeline_vs_tensors']:.2f} best, {results['pipeline_vs_tensors_median']:.2f} median "
        f"({verdict} the goal >= {GOAL})"
    )
    print(f"(1)/(3) = {results['pipeline_vs_numpy']:.2f} best, {results['pipeline_vs_numpy_median']:.2f} median")


if __name__ == "__main__":
    sys.exit(main())
