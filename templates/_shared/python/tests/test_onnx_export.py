"""The ONNX form: converted with tf2onnx, run by onnxruntime, checked against the Keras model; failures give a reason."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from onnx_export import ARTIFACT_PATH, INPUT_NAME, Agreement, OnnxForm, compare, error_text, export

SHAPE = (8, 8, 1)


def small_cnn(seed: int, classes: int = 4) -> object:
    """A Keras classifier of raw 0..255 pixels, rescaling inside (the trainer's contract), with random weights."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input(SHAPE),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(4, 3, padding="same", use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.MaxPooling2D(padding="same"),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(classes, activation="softmax"),
        ]
    )


def pixels(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, *SHAPE), dtype=np.uint8)


@pytest.fixture(scope="module")
def model() -> object:
    return small_cnn(seed=1)


@pytest.fixture(scope="module")
def form(model: object, tmp_path_factory: pytest.TempPathFactory) -> OnnxForm:
    return export(model, pixels(300), tmp_path_factory.mktemp("onnx") / "model.onnx")


def test_the_onnx_form_gives_the_keras_answers(form: OnnxForm, model: object) -> None:
    import onnxruntime

    assert form.available and form.path is not None and form.path.is_file()
    assert form.agreement is not None and form.agreement.holds
    assert form.agreement.same_top1 == form.agreement.images == 300
    session = onnxruntime.InferenceSession(str(form.path), providers=["CPUExecutionProvider"])
    (image_input,) = session.get_inputs()
    assert image_input.name == INPUT_NAME
    assert image_input.shape[1:] == list(SHAPE)
    fresh = pixels(7, seed=9).astype(np.float32)  # images the check never saw, in a batch size it never ran
    (got,) = session.run(None, {INPUT_NAME: fresh})
    np.testing.assert_allclose(got, np.asarray(model(fresh, training=False)), atol=1e-5)


def test_metadata_and_tags_carry_the_figures(form: OnnxForm) -> None:
    assert form.agreement is not None
    metadata = form.metadata()
    assert metadata["path"] == ARTIFACT_PATH
    assert metadata["checked_images"] == 300
    assert metadata["max_difference"] == form.agreement.max_difference <= metadata["tolerance"]
    assert isinstance(metadata["opset"], int)
    assert json.loads(json.dumps(metadata)) == metadata, "plain values only: MLflow writes them to YAML"
    tags = form.tags()
    assert tags["onnx"] == ARTIFACT_PATH
    assert float(tags["onnx_max_difference"]) == pytest.approx(form.agreement.max_difference, rel=1e-2)
    assert float(tags["onnx_tolerance"]) == form.agreement.tolerance
    assert "same top-1 class on 300 of 300 images" in form.describe()
    assert "same top-1 class on 300 of 300 held-out images" in form.describe("held-out images")


def test_a_different_model_does_not_agree(form: OnnxForm) -> None:
    assert form.path is not None
    agreement = compare(small_cnn(seed=2), form.path, pixels(50))
    assert not agreement.holds
    assert agreement.same_top1 < 50 or agreement.max_difference > agreement.tolerance


def test_a_form_that_misses_the_tolerance_is_not_kept(model: object, tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    found = export(model, pixels(20), path, tolerance=-1.0)  # a tolerance no difference can meet
    assert not found.available
    assert found.reason.startswith("the ONNX form does not agree with the Keras model: same top-1 class on 20 of 20")
    assert not path.exists()
    assert found.metadata() == {"unavailable": found.reason}
    assert found.tags() == {"onnx": "none", "onnx_reason": found.reason}


def test_a_model_tf2onnx_cannot_convert_is_registered_without_the_form(tmp_path: Path) -> None:
    import keras
    import tensorflow as tf

    def python_op(images: object) -> object:  # a Python function inside the graph: ONNX has no such op
        return tf.reshape(tf.numpy_function(np.sin, [images], tf.float32), tf.shape(images))

    model = keras.Sequential([keras.Input(SHAPE), keras.layers.Lambda(python_op), keras.layers.Flatten()])
    path = tmp_path / "model.onnx"
    found = export(model, pixels(4), path)
    assert not found.available
    assert found.reason == "conversion failed: ValueError: tf2onnx cannot convert the TensorFlow op(s) PyFunc"
    assert found.describe() == f"No ONNX form: {found.reason}"
    assert not path.exists()


def test_no_images_is_no_agreement() -> None:
    assert not Agreement(images=0, same_top1=0, max_difference=0.0, tolerance=1e-4).holds


def test_error_text_finds_the_error_in_tensorflow_messages() -> None:
    message = 'in user code:\n\n    File "x.py", line 4\n\n    ValueError: \x1b[1mbad shape\x1b[0m\n\n    Arguments...'
    assert error_text(RuntimeError(message)) == "ValueError: bad shape"
    assert error_text(KeyError("plain")) == "KeyError: 'plain'"
    assert len(error_text(OSError("x" * 1000))) == 300


def test_a_server_reads_the_contract_without_tensorflow() -> None:
    code = "import sys, onnx_export; print(sorted(m for m in ('tensorflow', 'keras', 'tf2onnx') if m in sys.modules))"
    folder = Path(sys.modules[OnnxForm.__module__].__file__).parent
    done = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(folder)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
