"""Image decoding and conversion, in-process."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from [[packageName]].errors import RequestError
from [[packageName]].imaging import decode, to_array

from conftest import jpeg_bytes, png_bytes
from test_bad_input import bomb_png, truncated_png


def test_rgba_is_composited_on_white() -> None:
    transparent = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    array = to_array(decode(png_bytes(transparent), 10_000), 4, 4, 3)
    assert array.shape == (4, 4, 3)
    assert np.all(array == 255)


def test_greyscale_becomes_rgb_and_rgb_becomes_greyscale(photo: Image.Image) -> None:
    grey = decode(jpeg_bytes(photo.convert("L")), 10**6)
    assert to_array(grey, 8, 8, 3).shape == (8, 8, 3)
    colour = decode(jpeg_bytes(photo), 10**6)
    array = to_array(colour, 8, 8, 1)
    assert array.shape == (8, 8, 1)
    assert array.dtype == np.float32
    assert 0 <= array.min() and array.max() <= 255


def test_sixteen_bit_is_scaled_to_eight() -> None:
    deep = Image.fromarray(np.full((3, 3), 65535, dtype=np.uint16))
    array = to_array(decode(png_bytes(deep), 100), 3, 3, 1)
    assert np.allclose(array, 255)


def test_pixel_limit_is_checked_before_decoding() -> None:
    with pytest.raises(RequestError) as caught:
        decode(bomb_png(), 40_000_000)
    assert caught.value.status == 413
    assert "limit" in caught.value.message


def test_pixel_limit_names_the_size() -> None:
    with pytest.raises(RequestError) as caught:
        decode(bomb_png(5000, 5000), 10_000_000)
    assert caught.value.status == 413
    assert "5000x5000" in caught.value.message


def test_small_limit_applies_to_ordinary_images(photo: Image.Image) -> None:
    with pytest.raises(RequestError) as caught:
        decode(jpeg_bytes(photo), 1000)
    assert caught.value.status == 413


@pytest.mark.parametrize("data", [b"", b"GIF89a", b"\x89PNG\r\n\x1a\n", truncated_png(), b"%PDF-1.4"])
def test_broken_data_is_a_400(data: bytes) -> None:
    with pytest.raises(RequestError) as caught:
        decode(data, 10**6)
    assert caught.value.status == 400


def test_only_raster_formats_are_decoded() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PPM")
    with pytest.raises(RequestError):
        decode(buffer.getvalue(), 10**6)
