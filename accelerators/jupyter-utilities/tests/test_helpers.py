"""The helper library: data, figures, models loaded once, MLflow set-up, and the one-line errors notebooks show.

Models are built here (a small digits CNN trained for one epoch, MobileNetV2 with locally saved weights): nothing is
downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from [[packageName]].classify import Prediction, load_classifier, read_class_names
from [[packageName]].data import (
    ImageSet,
    as_images,
    load_digits_images,
    load_image,
    load_image_folder,
    write_example_images,
)
from [[packageName]].errors import BindingError, HelperError, ImageError, ModelError
from [[packageName]].plots import show_images, show_predictions
from [[packageName]].tracking import setup_mlflow

from conftest import LocalMobileNet, write_binding


@pytest.fixture(scope="module")
def digits() -> ImageSet:
    return load_digits_images()


def test_the_digits_are_uint8_pixels_with_ten_classes(digits: ImageSet) -> None:
    assert digits.images.shape == (1797, 8, 8, 1) and digits.images.dtype == np.uint8
    assert digits.images.max() == 255 and digits.image_shape == (8, 8, 1)
    assert digits.class_names == tuple("0123456789")
    assert sum(digits.counts().values()) == len(digits) == 1797
    assert digits.names()[:3] == ["0", "1", "2"]


def save_png(path: Path, size: tuple[int, int], colour: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (colour, 255 - colour, 40)).save(path)


def test_an_image_folder_loads_with_one_class_per_sub_folder(tmp_path: Path) -> None:
    for index in range(3):
        save_png(tmp_path / "cats" / f"{index}.png", (12, 10), 20 * index)
        save_png(tmp_path / "dogs" / f"{index}.PNG", (12, 10), 200)
    (tmp_path / "dogs" / "notes.txt").write_text("not an image")
    images = load_image_folder(tmp_path)
    assert images.class_names == ("cats", "dogs") and images.images.shape == (6, 10, 12, 3)
    assert images.counts() == {"cats": 3, "dogs": 3}
    save_png(tmp_path / "dogs" / "big.png", (30, 20), 90)
    with pytest.raises(ImageError, match="differ in size .* pass image_size"):
        load_image_folder(tmp_path)
    resized = load_image_folder(tmp_path, image_size=16, channels=1)
    assert resized.images.shape == (7, 16, 16, 1)


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda folder: folder / "missing", "not a folder"),
        (lambda folder: folder, "no images in sub-folders"),
    ],
)
def test_a_bad_image_folder_is_one_clear_error(tmp_path: Path, prepare: Any, message: str) -> None:
    with pytest.raises(ImageError, match=message):
        load_image_folder(prepare(tmp_path))


def test_bad_image_files_are_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not an image")
    (tmp_path / "empty.png").write_bytes(b"")
    Image.new("1", (8000, 6000)).save(tmp_path / "bomb.png")  # 48 megapixels in a few kilobytes
    save_png(tmp_path / "ok.png", (20, 20), 10)
    (tmp_path / "cut.png").write_bytes((tmp_path / "ok.png").read_bytes()[:60])
    cases = {
        "missing.png": "missing.png: no such file",
        "notes.png": "notes.png: not an image",
        "empty.png": "empty.png: empty",
        "bomb.png": "bomb.png: 8000x6000 is more than 40,000,000 pixels",
        "cut.png": "cut.png: truncated or corrupt",
    }
    for name, message in cases.items():
        with pytest.raises(ImageError) as caught:
            load_image(tmp_path / name)
        assert message in str(caught.value) and "\n" not in str(caught.value)
    assert load_image(tmp_path / "ok.png").size == (20, 20)
[[if !#allowUrlInput]]

def test_urls_are_refused_without_url_input() -> None:
    with pytest.raises(ImageError, match="generated without URL input"):
        load_image("https://images.example.com/cat.jpg")
[[end !#allowUrlInput]]

def test_example_images_are_written_as_files(tmp_path: Path) -> None:
    digits = write_example_images(tmp_path / "digits", count=5)
    assert len(digits) == 5 and all(load_image(path).size == (8, 8) for path in digits)
    photos = write_example_images(tmp_path / "photos", kind="photos")
    assert [path.name for path in photos] == ["china.jpg", "flower.jpg"]
    with pytest.raises(ImageError, match="kind must be"):
        write_example_images(tmp_path, kind="cats")


def test_figures_show_every_image_with_its_labels(digits: ImageSet) -> None:
    figure = show_images(digits.images[:10], digits.names()[:10], columns=4)
    shown = [axis for axis in figure.axes if axis.images]
    assert len(figure.axes) == 12 and len(shown) == 10 and shown[3].get_title() == "3"
    predictions = [[Prediction("3", 0.9), Prediction("8", 0.05)], [Prediction("1", 0.6), Prediction("7", 0.3)]]
    figure = show_predictions(digits.images[3:5], predictions, truth=["3", "4"])
    first, second = [axis for axis in figure.axes if axis.images]
    assert first.get_title() == "3 0.90\n8 0.05" and second.get_title() == "1 0.60\n7 0.30"
    assert first.title.get_color() == "tab:green" and second.title.get_color() == "tab:red"
    with pytest.raises(ValueError, match="one entry per image"):
        show_predictions(digits.images[:3], predictions)


def test_images_come_as_pictures_arrays_or_files(tmp_path: Path, digits: ImageSet) -> None:
    save_png(tmp_path / "a.png", (5, 4), 1)
    images = as_images(
        [digits.images[0], digits.images[0, ..., 0].astype(float), Image.new("L", (3, 3)), tmp_path / "a.png"]
    )
    assert [image.size for image in images] == [(8, 8), (8, 8), (3, 3), (5, 4)]


# --- models, loaded once ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory: pytest.TempPathFactory, digits: ImageSet) -> Path:
    """A small CNN trained here for one epoch, saved with its class names beside it (<model>.json)."""
    import keras

    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(digits.images.astype("float32"), digits.labels, epochs=1, batch_size=32, verbose=0)
    path = tmp_path_factory.mktemp("model") / "digits.keras"
    model.save(path)
    path.with_suffix(".json").write_text(json.dumps(list(digits.class_names)), encoding="utf-8")
    return path


def test_a_keras_file_is_loaded_once_and_classifies(digits_model: Path, digits: ImageSet) -> None:
    classifier = load_classifier(str(digits_model))
    assert load_classifier(str(digits_model)) is classifier
    assert load_classifier(str(digits_model), reload=True) is not classifier
    assert classifier.input_shape == (8, 8, 1) and classifier.class_names == tuple("0123456789")
    ranked = classifier.classify(digits.images[:200], top_k=3)
    assert len(ranked) == 200 and all(len(top) == 3 for top in ranked)
    assert all(top[0].score >= top[1].score >= top[2].score for top in ranked)
    accuracy = np.mean([top[0].label == name for top, name in zip(ranked, digits.names()[:200], strict=True)])
    assert accuracy > 0.5
    assert str(ranked[0][0]) == f"{ranked[0][0].label} ({ranked[0][0].score:.2f})"


def test_class_names_that_do_not_match_the_model_are_an_error(digits_model: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps(["a", "b"]), encoding="utf-8")
    classifier = load_classifier(str(digits_model), labels=labels)
    with pytest.raises(ModelError, match="scores 10 classes but has 2 names"):
        classifier.classify([np.zeros((8, 8, 1))])


def test_mobilenet_v2_runs_with_local_weights_and_an_imagenet_class_index(local_mobilenet: LocalMobileNet) -> None:
    classifier = load_classifier("mobilenet_v2", weights=str(local_mobilenet.weights), labels=local_mobilenet.labels)
    assert classifier.input_shape == (224, 224, 3) and len(classifier.class_names) == 1000
    assert classifier.class_names[:2] == ("class-0", "class-1")
    photos = write_example_images(local_mobilenet.weights.parent / "photos", kind="photos")
    ranked = classifier.classify(photos, top_k=5)
    assert len(ranked) == 2 and all(len(top) == 5 for top in ranked)
    assert all(0.0 <= prediction.score <= 1.0 for top in ranked for prediction in top)


@pytest.mark.parametrize(
    ("model", "options", "message"),
    [
        ("resnet", {}, "expected 'mobilenet_v2', a models:/<name>@<alias> URI or a .keras file"),
        ("missing.keras", {}, "missing.keras: no such model file"),
        ("mobilenet_v2", {"weights": "missing.weights.h5"}, "no such weights file"),
    ],
)
def test_models_that_cannot_load_are_one_clear_error(model: str, options: dict[str, str], message: str) -> None:
    with pytest.raises(ModelError) as caught:
        load_classifier(model, **options)
    assert message in str(caught.value)


def test_local_mobilenet_weights_need_class_names(local_mobilenet: LocalMobileNet) -> None:
    with pytest.raises(ModelError, match="need labels="):
        load_classifier("mobilenet_v2", weights=str(local_mobilenet.weights))


def test_a_keras_file_without_class_names_says_where_to_put_them(digits_model: Path, tmp_path: Path) -> None:
    copy = tmp_path / "unnamed.keras"
    copy.write_bytes(digits_model.read_bytes())
    with pytest.raises(ModelError, match="put them in unnamed.json beside it"):
        load_classifier(str(copy))


@pytest.mark.parametrize(
    ("content", "names"),
    [
        (["cat", "dog"], ("cat", "dog")),
        ({"class_names": ["x", "y"]}, ("x", "y")),
        ({"1": ["n2", "dog"], "0": ["n1", "cat"]}, ("cat", "dog")),
    ],
)
def test_class_names_files(tmp_path: Path, content: object, names: tuple[str, ...]) -> None:
    path = tmp_path / "names.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    assert read_class_names(path) == names


def test_a_bad_class_names_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "empty.json").write_text("[]", encoding="utf-8")
    for name in ("bad.json", "empty.json", "missing.json"):
        with pytest.raises(ModelError):
            read_class_names(tmp_path / name)


def test_a_registered_model_that_does_not_exist_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    with pytest.raises(ModelError) as caught:
        load_classifier("models:/no-such-model@champion")
    assert str(caught.value).startswith("models:/no-such-model@champion: ") and "\n" not in str(caught.value)


# --- MLflow set-up and errors ------------------------------------------------------------------------------------


def test_setup_mlflow_follows_the_binding_and_keeps_credentials_out_of_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    for variable in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)  # setup_mlflow sets them; they are put back after the test
    monkeypatch.setenv("SERVICE_BINDING_ROOT", str(tmp_path))
    store = f"sqlite:///{tmp_path / 'bound.db'}"
    write_binding(tmp_path, "tracking", type="mlflow", uri=store, username="ana", password="s3cret-pass")
    tracking = setup_mlflow("helpers-test")
    assert tracking.uri == store and mlflow.get_tracking_uri() == store
    assert mlflow.get_experiment_by_name("helpers-test") is not None
    assert "s3cret-pass" not in tracking.describe() + repr(tracking)


def test_a_broken_mlflow_binding_is_a_binding_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("SERVICE_BINDING_ROOT", str(tmp_path))
    write_binding(tmp_path, "tracking", type="mlflow", username="ana")
    with pytest.raises(BindingError, match="has neither 'uri' nor 'host'"):
        setup_mlflow()


def test_notebooks_show_helper_errors_as_one_line() -> None:
    error = ImageError("cat.png: not an image")
    assert error._render_traceback_() == ["ImageError: cat.png: not an image"]
    assert isinstance(error, HelperError) and isinstance(error, ValueError)
