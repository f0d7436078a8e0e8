"""The API end to end: a real server on 127.0.0.1, real images, answers checked against the model."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from conftest import ROOT, Digits, ServedModels, Server, jpeg_bytes, png_bytes


def check_prediction(body: dict, models: ServedModels, top_k: int = {{ cookiecutter.top_k }}) -> None:
    predictions = body["predictions"]
    assert 1 <= len(predictions) <= top_k
    scores = [item["score"] for item in predictions]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= score <= 1.0 for score in scores)
    assert sum(scores) <= 1.0 + 1e-4
    assert body["model"]["name"] == models.name
    assert body["model"]["version"]
    assert body["latency_ms"] > 0


def test_health(server: Server, served_models: ServedModels) -> None:
    assert server.get("/health/live").json() == {"status": "ok", "model": None}
    ready = server.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert ready.json()["model"]["name"] == served_models.name


def test_raw_png_on_both_routes(server: Server, served_models: ServedModels, digits: Digits) -> None:
    for path in ("/predict", "/"):
        response = server.post(path, content=digits.png(0), headers={"Content-Type": "image/png"})
        assert response.status_code == 200, response.text
        check_prediction(response.json(), served_models)
{%- if cookiecutter.model_source != 'mobilenet_v2' %}


def test_answers_match_the_model(server: Server, served_models: ServedModels, digits: Digits) -> None:
    for index in range(5):
        response = server.post(content=digits.png(index), headers={"Content-Type": "image/png"})
        body = response.json()
        expected = served_models.expected(body["model"]["version"], digits.images[index])
        best = body["predictions"][0]
        assert best["label"] == f"digit-{int(expected.argmax())}"
        assert abs(best["score"] - float(expected.max())) < 1e-4
{%- endif %}


def test_multipart_upload(server: Server, served_models: ServedModels, digits: Digits) -> None:
    files = {"image": ("seven.png", digits.png(7), "image/png")}
    response = server.post(files=files)
    assert response.status_code == 200, response.text
    check_prediction(response.json(), served_models)


def test_json_base64_and_data_url(server: Server, served_models: ServedModels, photo: Image.Image) -> None:
    encoded = base64.b64encode(jpeg_bytes(photo)).decode()
    for value in (encoded, "data:image/jpeg;base64," + encoded):
        response = server.post(json={"image": value})
        assert response.status_code == 200, response.text
        check_prediction(response.json(), served_models)


def test_colour_modes_are_converted(server: Server, photo: Image.Image, flower: Image.Image) -> None:
    rgba = flower.convert("RGBA")
    rgba.putalpha(128)
    samples = {
        "greyscale jpeg": (jpeg_bytes(photo.convert("L")), "image/jpeg"),
        "rgba png": (png_bytes(rgba), "image/png"),
        "palette png": (png_bytes(flower.convert("P")), "image/png"),
        "1-bit png": (png_bytes(photo.convert("1")), "image/png"),
        "16-bit png": (png_bytes(photo.convert("L").convert("I;16")), "image/png"),
        "webp": (_encode(flower, "WEBP"), "image/webp"),
        "gif": (_encode(flower.convert("P"), "GIF"), "image/gif"),
        "bmp as octet-stream": (_encode(photo, "BMP"), "application/octet-stream"),
    }
    for name, (data, media_type) in samples.items():
        response = server.post(content=data, headers={"Content-Type": media_type})
        assert response.status_code == 200, f"{name}: {response.text}"


def test_concurrent_requests_all_succeed(server: Server, digits: Digits) -> None:
    def call(index: int) -> int:
        return server.post(content=digits.png(index), headers={"Content-Type": "image/png"}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(call, range(64)))
    assert statuses == [200] * 64


def test_served_openapi_is_the_committed_document(server: Server) -> None:
    committed = json.loads((ROOT / "openapi.json").read_text(encoding="utf-8"))
    assert server.get("/openapi.json").json() == committed


def _encode(image: Image.Image, fmt: str) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()
