"""Every kind of bad input gets a 4xx JSON error with a clear message, and the server keeps serving."""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from conftest import MAX_UPLOAD_MB, Digits, Server, png_bytes


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A ~100-byte PNG that declares a 1-bit 20000x20000 image (400 megapixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * (1 + width // 8) * 4)  # a few rows; the header is what counts
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def truncated_png() -> bytes:
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    data = png_bytes(Image.fromarray(noise, "RGB"))
    return data[: len(data) // 2]


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code
    assert len(body["message"]) > 10


CASES = {
    "not an image": (
        {"content": b"hello, this is not a picture", "headers": {"Content-Type": "image/png"}},
        400,
        "not_an_image",
    ),
    "empty body": ({"content": b"", "headers": {"Content-Type": "image/jpeg"}}, 400, "empty_image"),
    "truncated png": ({"content": truncated_png(), "headers": {"Content-Type": "image/png"}}, 400, "corrupt_image"),
    "decompression bomb": ({"content": bomb_png(), "headers": {"Content-Type": "image/png"}}, 413, "image_too_large"),
    "text/plain": ({"content": b"abc", "headers": {"Content-Type": "text/plain"}}, 415, "unsupported_media_type"),
    "svg": ({"content": b"<svg/>", "headers": {"Content-Type": "image/svg+xml"}}, 415, "unsupported_media_type"),
    "no content type": ({"content": b"abc", "headers": {"Content-Type": ""}}, 415, "unsupported_media_type"),
    "multipart text file": ({"files": {"image": ("a.txt", b"hello", "text/plain")}}, 415, "unsupported_media_type"),
    "multipart without file": (
        {
            "content": b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n',
            "headers": {"Content-Type": "multipart/form-data; boundary=b"},
        },
        400,
        "missing_image",
    ),
    "invalid json": ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "bad_json"),
    "json list": ({"json": [1, 2]}, 400, "bad_json"),
    "json without image": ({"json": {"picture": "x"}}, 400, "missing_image"),
    "bad base64": ({"json": {"image": "***not base64***"}}, 400, "bad_base64"),
    "base64 of text": ({"json": {"image": base64.b64encode(b"plain text").decode()}}, 400, "not_an_image"),
[[if !#allowUrlInput]]    "url input is off": ({"json": {"url": "http://images.example.com/cat.png"}}, 400, "url_input_disabled"),
[[end !#allowUrlInput]]}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_is_refused_with_json(server: Server, case: str) -> None:
    kwargs, status, code = CASES[case]
    assert_error(server.post(**kwargs), status, code)


def test_oversized_body_is_413_with_or_without_content_length(server: Server) -> None:
    big = b"\xff" * (MAX_UPLOAD_MB * 1024 * 1024 + 1)
    assert_error(server.post(content=big, headers={"Content-Type": "image/jpeg"}), 413, "payload_too_large")

    def chunks():
        for _ in range(MAX_UPLOAD_MB * 4 + 1):
            yield b"\xff" * 262_144

    assert_error(server.post(content=chunks(), headers={"Content-Type": "image/jpeg"}), 413, "payload_too_large")


def test_server_survives_all_of_it(server: Server, digits: Digits) -> None:
    for kwargs, _, _ in CASES.values():
        server.post(**kwargs)
    assert server.get("/health/live").status_code == 200
    assert server.get("/health/ready").status_code == 200
    response = server.post(content=digits.png(3), headers={"Content-Type": "image/png"})
    assert response.status_code == 200
    assert server.process.poll() is None


def test_bomb_fixture_really_declares_a_huge_image() -> None:
    data = bomb_png()
    assert len(data) < 1000
    assert struct.unpack(">II", data[16:24]) == (20_000, 20_000)
