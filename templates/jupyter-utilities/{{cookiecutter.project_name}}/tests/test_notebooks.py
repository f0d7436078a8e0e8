"""The notebooks, run top to bottom with nbclient on a real python3 kernel, offline, with their embedded defaults.

MLflow is the session's real tracking server, reached the way the Hub and the workload reach it: through a
servicebinding.io binding under SERVICE_BINDING_ROOT, so no notebook ever sees a URI or a credential. A cell that
raises fails the test.
{%- if cookiecutter.allow_url_input %} The URL the classifying notebook fetches is served on 127.0.0.1, trusted for
this test only.
{%- endif %}
"""

from __future__ import annotations

import json
import re
{%- if cookiecutter.allow_url_input %}
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
{%- endif %}
from pathlib import Path

import nbformat
import pytest
from mlflow import MlflowClient

from conftest import NOTEBOOKS, LocalMobileNet, kernel_env, run_notebook, write_binding

ORDER = ["01-explore-data.ipynb", "02-train-and-track.ipynb", "03-compare-runs.ipynb", "04-classify-images.ipynb"]
EXPERIMENT = "{{ cookiecutter.project_name }}-notebooks"
REGISTERED_MODEL = "{{ cookiecutter.project_name }}-digits"


@pytest.mark.parametrize("name", ORDER)
def test_notebooks_are_stored_valid_and_without_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert sum("parameters" in cell.metadata.get("tags", []) for cell in notebook.cells) <= 1


def test_every_notebook_is_here_and_numbered() -> None:
    assert sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")) == ORDER


@pytest.fixture(scope="module")
def bindings(tmp_path_factory: pytest.TempPathFactory, mlflow_server: str) -> Path:
    """MLflow bound as TAP and the Hub bind it: a folder of type mlflow under SERVICE_BINDING_ROOT."""
    root = tmp_path_factory.mktemp("bindings")
    write_binding(root, "mlflow", type="mlflow", uri=mlflow_server)
    return root


def test_the_notebooks_run_in_order_against_mlflow_bound_as_a_service(
    notebook_dir: Path, bindings: Path, mlflow_server: str
) -> None:
    env = kernel_env(SERVICE_BINDING_ROOT=str(bindings))

    explore = run_notebook(notebook_dir, ORDER[0], env)
    assert "1797 images of 8x8 pixels, 1 channel, 10 classes" in explore.text("explore-digits")
    assert re.search(r"\d+% of the pixels are background", explore.text())
    assert explore.images() >= 3
{%- if cookiecutter.database != 'none' %}
    assert "No database bound" in explore.text("explore-tables")
{%- endif %}

    train = run_notebook(notebook_dir, ORDER[1], env)
    text = train.text()
    assert f"MLflow: {mlflow_server} (service binding {bindings / 'mlflow'})" in text
    scores = [float(score) for score in re.findall(r"filters: held-out accuracy (\d\.\d+)", text)]
    assert len(scores) == 2 and max(scores) > 0.8, text
    assert f"{REGISTERED_MODEL} version 1" in text and "is the champion" in text
    assert train.images() == 2  # the learning curves and the champion's predictions

    client = MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2 and all("test_accuracy" in run.data.metrics for run in runs)
    champion = client.get_model_version_by_alias(REGISTERED_MODEL, "champion")
    assert champion.version == "1"

    compare = run_notebook(notebook_dir, ORDER[2], env)
    assert f"2 runs of {EXPERIMENT} with test_accuracy" in compare.text()
    assert f"{REGISTERED_MODEL}: the champion is version 1, of 1" in compare.text()
    assert compare.images() == 1

    classify = run_notebook(notebook_dir, ORDER[3], env)
    text = classify.text()
    assert f"models:/{REGISTERED_MODEL}@champion: 10 classes, 8x8x1 input" in text
    answers = re.findall(r"digit-(\d)-\d+\.png: (\d) \(", text)
    assert len(answers) == 4 and sum(truth == top for truth, top in answers) >= 2, text
    assert classify.images() == 1
    (run,) = client.search_runs([experiment.experiment_id], "attributes.run_name = 'classify-images'")
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {"images", "predictions.json", "predictions.png"} <= artifacts
    assert len(client.list_artifacts(run.info.run_id, "images")) == 4
    predictions = json.loads(Path(client.download_artifacts(run.info.run_id, "predictions.json")).read_text())
    assert len(predictions) == 4 and all(len(ranked) == 3 for ranked in predictions.values())
{%- if cookiecutter.allow_url_input %}


@pytest.fixture(scope="module")
def photo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """scikit-learn's sample photo served on 127.0.0.1."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    folder = tmp_path_factory.mktemp("site")
    Image.fromarray(load_sample_image("china.jpg")).save(folder / "temple.jpg")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
{%- endif %}


def test_the_classifying_notebook_runs_mobilenet_v2_with_local_weights(
    notebook_dir: Path, bindings: Path, local_mobilenet: LocalMobileNet{% if cookiecutter.allow_url_input %}, photo_site: str{% endif %}
) -> None:
    parameters = {
        "MODEL": "mobilenet_v2",
        "MOBILENET_WEIGHTS": str(local_mobilenet.weights),
        "LABELS": str(local_mobilenet.labels),
        "EXAMPLES": "photos",
{%- if cookiecutter.allow_url_input %}
        "IMAGE_URLS": [f"{photo_site}/temple.jpg"],
        "URL_ALLOWED_HOSTS": "127.0.0.1",
{%- endif %}
    }
{%- if cookiecutter.allow_url_input %}
    # 127.0.0.1 is trusted here only so the notebook can reach the test's own server; every other rule still applies.
    env = kernel_env(SERVICE_BINDING_ROOT=str(bindings), URL_TRUSTED_ADDRESSES="127.0.0.1")
{%- else %}
    env = kernel_env(SERVICE_BINDING_ROOT=str(bindings))
{%- endif %}
    classify = run_notebook(notebook_dir, ORDER[3], env, parameters)
    text = classify.text()
    assert "mobilenet_v2 (mobilenet_v2.weights.h5): 1000 classes, 224x224x3 input" in text
{%- if cookiecutter.allow_url_input %}
    assert "3 images: china.jpg, flower.jpg, temple.jpg" in text
    assert re.search(r"temple\.jpg: class-\d+ \(", text)
    assert "logged 3 images" in text
{%- else %}
    assert "2 images: china.jpg, flower.jpg" in text
    assert "logged 2 images" in text
{%- endif %}
    assert re.search(r"china\.jpg: class-\d+ \(0\.\d\d\), class-\d+", text)
