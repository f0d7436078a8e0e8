"""`func.main(req)`, the Function Buildpacks for Knative contract, called in-process."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from conftest import Digits, ServedModels


class FakeRequest:
    """What the pyfunc invoker passes: a Flask request (only the parts main() uses)."""

    def __init__(self, data: bytes, content_type: str) -> None:
        self._data = data
        self.headers = {"Content-Type": content_type}
        self.files: dict[str, Any] = {}

    def get_data(self) -> bytes:
        return self._data


@pytest.fixture(scope="module")
def func(served_models: ServedModels):
    with pytest.MonkeyPatch.context() as patch:
        for key, value in served_models.env.items():
            patch.setenv(key, value)
        patch.setenv("ALIAS_POLL_SECONDS", "3600")
        patch.setenv("MAX_BATCH_SIZE", "1")  # main() classifies one image per call
        patch.delenv("SERVICE_BINDING_ROOT", raising=False)
        import func as module

        yield module
        if module._service is not None:
            module._service.stop()
            module._service = None


def _json(result: Any) -> tuple[dict, int]:
    if isinstance(result, tuple):
        body, status, headers = result
        assert headers["Content-Type"] == "application/json"
        return json.loads(body), status
    return json.loads(result.get_data()), result.status_code


def test_main_classifies_raw_and_json(func, digits: Digits, served_models: ServedModels) -> None:
    body, status = _json(func.main(FakeRequest(digits.png(4), "image/png")))
    assert status == 200
    assert body["model"]["name"] == served_models.name
    encoded = base64.b64encode(digits.png(5)).decode()
    body, status = _json(func.main(FakeRequest(json.dumps({"image": encoded}).encode(), "application/json")))
    assert status == 200
    assert len(body["predictions"]) >= 1


def test_main_loads_the_model_once(func, digits: Digits) -> None:
    func.main(FakeRequest(digits.png(1), "image/png"))
    first = func._service.model
    func.main(FakeRequest(digits.png(2), "image/png"))
    assert func._service.model is first


def test_main_reports_bad_input(func) -> None:
    body, status = _json(func.main(FakeRequest(b"not an image", "image/png")))
    assert (status, body["error"]) == (400, "not_an_image")
    body, status = _json(func.main(FakeRequest(b"x", "text/plain")))
    assert status == 415
