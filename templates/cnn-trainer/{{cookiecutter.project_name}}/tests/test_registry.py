"""Registry, champion alias and model cards against a real MLflow tracking server.

One registered model goes through five training cycles, in order; each test checks what one of them did.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from {{ cookiecutter.__package_name }} import onnx_export, tracking
from {{ cookiecutter.__package_name }}.config import CHANNELS, load_settings
from {{ cookiecutter.__package_name }}.holdout import HoldoutRule
from {{ cookiecutter.__package_name }}.train import TrainingResult, train

from conftest import IMAGE_SIZE, fast_flags

pytestmark = pytest.mark.service

MODEL = "registry-test"
OTHER_SIZE = 12
CYCLES = {
    "first": ("--epochs", "1", "--learning-rate", "0.0003"),
    "worse": ("--epochs", "1", "--learning-rate", "1e-7"),
    "better": ("--epochs", "4"),
    "other size": ("--epochs", "1", "--image-size", str(OTHER_SIZE)),
    "forced": ("--epochs", "1", "--image-size", str(OTHER_SIZE), "--promote-anyway"),
}


@dataclass(frozen=True)
class Cycle:
    result: TrainingResult
    output: str  # what the cycle printed
    champion: str  # the version holding the alias right after the cycle

    @property
    def version(self) -> str:
        assert self.result.registration is not None
        return self.result.registration.version


@pytest.fixture(scope="module")
def cycles(tmp_path_factory, data_flags, mlflow_server) -> dict[str, Cycle]:
    workdir = tmp_path_factory.mktemp("registry")
    common = [
        *data_flags,
        *fast_flags(workdir),
        "--tracking-uri",
        mlflow_server,
        "--experiment",
        MODEL,
        "--registered-model-name",
        MODEL,
    ]
    client = MlflowClient(mlflow_server)
    done = {}
    for label, flags in CYCLES.items():
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            result = train(load_settings([*common, *flags], environ={}))
        champion = str(client.get_model_version_by_alias(MODEL, "champion").version)
        done[label] = Cycle(result, output.getvalue(), champion)
    return done


def test_the_first_model_becomes_the_champion(cycles):
    first = cycles["first"]

    assert first.champion == first.version == "1"
    assert "as the champion: no champion yet" in first.output


def test_a_worse_model_is_registered_and_the_champion_stays(cycles, mlflow_server):
    first, worse = cycles["first"], cycles["worse"]
    client = MlflowClient(mlflow_server)

    assert worse.result.test_accuracy < first.result.test_accuracy
    assert worse.champion == first.version
    version = client.get_model_version(MODEL, worse.version)
    assert version.status == "READY"
    assert version.tags["promoted"] == "false"
    assert version.tags["promotion"].endswith("does not win; the champion stays")
    # The champion was scored again, on the same held-out images as the candidate.
    champion_accuracy = client.get_run(worse.result.run_id).data.metrics["champion_test_accuracy"]
    assert champion_accuracy == pytest.approx(first.result.test_accuracy)


def test_a_better_like_for_like_model_takes_the_alias(cycles, mlflow_server):
    first, better = cycles["first"], cycles["better"]

    assert better.result.test_accuracy > first.result.test_accuracy
    assert better.champion == better.version
    assert MlflowClient(mlflow_server).get_model_version(MODEL, better.version).tags["promoted"] == "true"
    assert "wins and is the champion now" in better.output


def test_another_image_size_is_registered_without_the_alias_and_says_why(cycles, mlflow_server):
    better, other = cycles["better"], cycles["other size"]
    client = MlflowClient(mlflow_server)
    reason = (
        f"not compared with champion version {better.version}: input shape {OTHER_SIZE}x{OTHER_SIZE}x{CHANNELS} "
        f"differs from the champion's {IMAGE_SIZE}x{IMAGE_SIZE}x{CHANNELS}"
    )

    assert other.champion == better.version, "the alias did not move"
    version = client.get_model_version(MODEL, other.version)
    assert version.tags["promoted"] == "false"
    assert version.tags["promotion"].startswith(reason)
    assert version.tags["promotion"] in version.description, "the model card says why"
    run = client.get_run(other.result.run_id)
    assert run.data.tags["promotion"] == version.tags["promotion"]
    assert "champion_test_accuracy" not in run.data.metrics, "a champion of another shape is not scored"
    [line] = [line for line in other.output.splitlines() if line.startswith("registered ")]
    assert line.startswith(f"registered {MODEL} version {other.version} without the champion alias: {reason}")
    assert "--promote-anyway" in line


def test_the_override_moves_the_alias_and_says_so(cycles, mlflow_server):
    forced = cycles["forced"]

    assert forced.champion == forced.version
    assert (
        f"registered {MODEL} version {forced.version} as the champion: promoted anyway "
        "(--promote-anyway / PROMOTE_ANYWAY=true)"
    ) in forced.output
    client = MlflowClient(mlflow_server)
    assert client.get_model_version(MODEL, forced.version).tags["promoted"] == "true"
    assert sorted(int(v.version) for v in client.search_model_versions(f"name = '{MODEL}'")) == [1, 2, 3, 4, 5]


def test_each_version_carries_its_model_card(cycles, mlflow_server, tmp_path):
    first, better = cycles["first"], cycles["better"]
    client = MlflowClient(mlflow_server)
    run = client.get_run(better.result.run_id)
    path = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="MODEL_CARD.md", dst_path=str(tmp_path), tracking_uri=mlflow_server
    )
    card = Path(path).read_text()

    assert client.get_model_version(MODEL, better.version).description == card
    assert card.startswith(f"# Model card: {MODEL} version {better.version}\n")
    for section in (
        "## Promotion",
        "## Data",
        "## Held-out metrics",
        "## Confusion matrix",
        "## Per class",
        "## Inputs and outputs",
        "## Training",
        "## Intended use",
        "## Limits",
    ):
        assert f"\n{section}\n" in card, section
    held_out = int(run.data.params["test_images"])
    assert f"| held out | {held_out} |" in card
    assert f"| training | {run.data.params['train_images']} |" in card
    assert f"| held-out accuracy | {better.result.test_accuracy:.4f} |" in card
    champion_accuracy = run.data.metrics["champion_test_accuracy"]
    assert f"| held-out accuracy of champion version {first.version} | {champion_accuracy:.4f} |" in card
    assert better.result.registration is not None and better.result.registration.decision.reason in card
    assert confusion_total(card) == held_out, "the confusion matrix counts every held-out image once"


def test_each_version_carries_its_onnx_form_which_gives_the_keras_answers(cycles, mlflow_server, tmp_path):
    import onnxruntime

    better = cycles["better"]
    client = MlflowClient(mlflow_server)
    version = client.get_model_version(MODEL, better.version)
    held_out = int(client.get_run(better.result.run_id).data.params["test_images"])
    uri = f"models:/{MODEL}/{better.version}"

    assert version.tags["onnx"] == onnx_export.ARTIFACT_PATH
    assert float(version.tags["onnx_max_difference"]) <= float(version.tags["onnx_tolerance"]) == onnx_export.TOLERANCE
    form = mlflow.models.get_model_info(uri).metadata[onnx_export.METADATA_KEY]
    assert (form["path"], form["checked_images"], form["same_top1"]) == (onnx_export.ARTIFACT_PATH, held_out, held_out)
    assert f"same top-1 class on {held_out} of {held_out} held-out images" in better.output
    assert f"ONNX form `{onnx_export.ARTIFACT_PATH}`" in version.description, "the model card names it"

    # One version, both forms: what the registry hands out answers as the Keras model does.
    path = mlflow.artifacts.download_artifacts(artifact_uri=f"{uri}/{form['path']}", dst_path=str(tmp_path))
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    images = np.random.default_rng(3).integers(0, 256, (16, IMAGE_SIZE, IMAGE_SIZE, CHANNELS)).astype(np.float32)
    (scores,) = session.run(None, {onnx_export.INPUT_NAME: images})
    expected = tracking.load(uri).model.predict(images, verbose=0)
    np.testing.assert_allclose(scores, expected, atol=onnx_export.TOLERANCE)


def test_a_model_whose_onnx_check_fails_is_registered_in_keras_form_with_the_reason(local_tracking_uri, workdir):
    import keras

    mlflow.set_tracking_uri(local_tracking_uri)
    mlflow.set_experiment("no-onnx-form")
    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")]
    )
    wrong_size = np.zeros((3, 5, 5, 1), dtype=np.uint8)  # the check cannot run on these: it fails, the export with it
    with mlflow.start_run():
        logged = tracking.log_model(model, ["a", "b"], np.zeros((1, 4, 4, 1), "float32"), HoldoutRule("s"), wrong_size)
    version = tracking.register(logged.uri, "no-onnx-form", 0.5)

    assert not logged.onnx.available
    assert logged.onnx.reason.startswith("the converted model cannot be checked: ")
    uri = f"models:/no-onnx-form/{version}"
    assert mlflow.models.get_model_info(uri).metadata["onnx"] == {"unavailable": logged.onnx.reason}
    files = {item.path for item in mlflow.artifacts.list_artifacts(artifact_uri=uri)}
    assert "MLmodel" in files and "extra_files" not in files
    assert tracking.load(uri).model.predict(np.zeros((1, 4, 4, 1), "float32"), verbose=0).shape == (1, 2)


def confusion_total(card: str) -> int:
    lines = card.splitlines()
    header = next(index for index, line in enumerate(lines) if line.startswith("| true / predicted |"))
    rows = []
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(line)
    assert len(rows) == 10, "one row per digit"
    return sum(int(cell) for row in rows for cell in row.strip("|").split("|")[1:])
