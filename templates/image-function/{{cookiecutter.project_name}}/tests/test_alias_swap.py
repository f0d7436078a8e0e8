"""Moving the MLflow alias swaps the served model under load, without a single failed request."""

from __future__ import annotations

import threading
import time

import httpx

from conftest import Digits, ServedModels, Server, register_version, train_digits_model


def test_alias_swap_under_load(server: Server, served_models: ServedModels, digits: Digits) -> None:
    before = server.get("/health/ready").json()["model"]["version"]
    results: list[tuple[int, int, str | None]] = []
    stop = threading.Event()

    def client(number: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            while not stop.is_set():
                response = http.post("/predict", content=digits.png(number), headers={"Content-Type": "image/png"})
                version = response.json()["model"]["version"] if response.status_code == 200 else None
                results.append((number, response.status_code, version))

    clients = [threading.Thread(target=client, args=(number,)) for number in range(4)]
    for thread in clients:
        thread.start()
    try:
        time.sleep(1.0)
        new_version = register_version(served_models, train_digits_model(digits, seed=2))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(version == new_version for _, _, version in results):
            time.sleep(0.1)
        time.sleep(1.0)  # keep the load on after the swap
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=30)

    failures = [result for result in results if result[1] != 200]
    assert failures == []
    versions = [version for _, _, version in results]
    assert before in versions and new_version in versions, versions
    for number in range(4):
        mine = [version for who, _, version in results if who == number]
        first_new = mine.index(new_version) if new_version in mine else len(mine)
        assert all(version == new_version for version in mine[first_new:]), "a client went back to the old model"
    assert server.get("/health/ready").json()["model"]["version"] == new_version
{%- if cookiecutter.runtime == 'onnx' %}


def test_a_version_without_an_onnx_form_is_not_swapped_in(
    server: Server, served_models: ServedModels, digits: Digits
) -> None:
    from mlflow import MlflowClient

    serving = server.get("/health/ready").json()["model"]["version"]
    keras_only = register_version(served_models, train_digits_model(digits, seed=4), onnx_form=False)
    try:
        refusal = f"not serving version {keras_only}: models:/{served_models.name}/{keras_only} has no ONNX form"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and refusal not in server.log.read_text(errors="replace"):
            time.sleep(0.2)
        assert refusal in server.log.read_text(errors="replace")
        time.sleep(1.5)  # a few more alias checks: it is refused once, not loaded again and again
        assert server.log.read_text(errors="replace").count(refusal) == 1
        response = server.post(content=digits.png(0), headers={"Content-Type": "image/png"})
        assert response.status_code == 200
        assert response.json()["model"]["version"] == serving
    finally:
        MlflowClient().set_registered_model_alias(served_models.name, "champion", serving)  # for the tests after
{%- endif %}
