"""The files the steps hand to each other: written whole or not at all, read back with one-line errors.

    dataset.npz        ingest's images: pixels, labels, class names, content hashes, stored sizes, the source
    model/             train's network (model.keras) and what the later steps need to know about it (model.json)
    *.json             reports: the data validation, the evaluation, the registration, the workflow's outcome
    predictions.csv    batch prediction, one row per input image

A step writes each output next to its final name and renames it when complete, so a failed step leaves no
half-written artifact behind for Argo to upload or for a local run to pick up.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from .errors import UserError
from .holdout import HoldoutRule

if TYPE_CHECKING:
    import keras

    from .data import LabelledImages

DATASET_ARRAYS = ("images", "labels", "class_names", "fingerprints", "sizes", "source")
NETWORK_FILE = "model.keras"
MODEL_INFO_FILE = "model.json"


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A scratch path beside `path`, moved onto `path` when the block ends without an error, else removed."""
    scratch = path.with_name(path.name + ".partial")
    _remove(scratch)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        yield scratch
    except BaseException:
        _remove(scratch)
        raise
    if path.is_dir():
        shutil.rmtree(path)  # os.replace moves a folder only onto a missing or empty one
    os.replace(scratch, path)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


@dataclass(frozen=True)
class Dataset:
    """The ingested images as arrays, and where they came from."""

    images: np.ndarray  # (N, size, size, channels) uint8
    labels: np.ndarray  # (N,) int32, indexing class_names
    class_names: tuple[str, ...]
    fingerprints: np.ndarray  # (N,) SHA-256 of each stored image
    sizes: np.ndarray  # (N, 2) stored (height, width) before resizing
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def labelled(self) -> LabelledImages:
        from .data import LabelledImages

        return LabelledImages(self.images, self.labels, self.class_names, self.fingerprints, self.sizes)


def write_dataset(path: Path, images: LabelledImages, source: str) -> None:
    with replacing(path) as scratch, scratch.open("wb") as stream:
        _save(
            stream,
            images=images.images,
            labels=images.labels,
            class_names=np.array(images.class_names, dtype=str),
            fingerprints=images.fingerprints.astype(str),
            sizes=images.sizes,
            source=np.array(source),
        )


def _save(stream: IO[bytes], **arrays: np.ndarray) -> None:
    np.savez(stream, allow_pickle=False, **arrays)


def read_dataset(path: Path) -> Dataset:
    """The dataset at `path`; a missing, truncated or foreign file is a UserError naming it."""
    _require(path, "dataset", "ingest")
    try:
        with np.load(path, allow_pickle=False) as stored:
            missing = [name for name in DATASET_ARRAYS if name not in stored.files]
            if missing:
                raise UserError(f"dataset {path} lacks {', '.join(missing)}; write it with the ingest step")
            arrays = {name: stored[name] for name in DATASET_ARRAYS}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise UserError(f"dataset {path} cannot be read ({_first_line(exc)}); write it with the ingest step") from None
    return Dataset(
        images=arrays["images"],
        labels=arrays["labels"],
        class_names=tuple(str(name) for name in arrays["class_names"]),
        fingerprints=arrays["fingerprints"],
        sizes=arrays["sizes"],
        source=str(arrays["source"]),
    )


@dataclass(frozen=True)
class ModelInfo:
    """What the later steps need to know about a trained network without loading it."""

    run_id: str  # the MLflow run the train step opened; evaluate and register add to it
    class_names: tuple[str, ...]
    input_shape: tuple[int, int, int]
    holdout: HoldoutRule
    parameters: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "class_names": list(self.class_names),
            "input_shape": list(self.input_shape),
            "holdout": self.holdout.as_metadata(),
            "parameters": dict(self.parameters),
        }


def write_model(folder: Path, network: keras.Model, info: ModelInfo) -> None:
    with replacing(folder) as scratch:
        scratch.mkdir()
        network.save(scratch / NETWORK_FILE)
        (scratch / MODEL_INFO_FILE).write_text(json.dumps(info.as_json(), indent=2) + "\n", encoding="utf-8")


def read_model_info(folder: Path) -> ModelInfo:
    data = read_json(folder / MODEL_INFO_FILE, "model", producer="train")
    try:
        holdout = HoldoutRule.from_metadata(data["holdout"])
        if holdout is None:
            raise ValueError("no held-out rule")
        height, width, channels = (int(size) for size in data["input_shape"])
        return ModelInfo(
            str(data["run_id"]), tuple(data["class_names"]), (height, width, channels), holdout, data["parameters"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"model {folder}: {MODEL_INFO_FILE} is incomplete ({exc}); train the model again") from None


def load_network(folder: Path) -> keras.Model:
    import keras

    path = folder / NETWORK_FILE
    _require(path, "model", "train")
    try:
        return keras.saving.load_model(path)
    except (OSError, ValueError) as exc:
        raise UserError(f"model {path} cannot be loaded ({_first_line(exc)}); train the model again") from None


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    with replacing(path) as scratch:
        scratch.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def read_json(path: Path, what: str, *, producer: str) -> dict[str, Any]:
    _require(path, what, producer)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{what} {path} cannot be read ({_first_line(exc)}); run the {producer} step again") from None
    if not isinstance(data, dict):
        raise UserError(f"{what} {path} is not a JSON object; run the {producer} step again")
    return data


def _require(path: Path, what: str, producer: str) -> None:
    if not path.exists():
        raise UserError(f"{what} {path} does not exist; it is written by the {producer} step")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
