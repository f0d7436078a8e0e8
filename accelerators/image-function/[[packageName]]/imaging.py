"""Turn untrusted bytes into a model-ready array, or refuse them with a clear 4xx.

Only a fixed set of raster formats is decoded. The pixel count is checked from the header, before any
pixel is decompressed, so a small file that declares a huge image (a decompression bomb) costs nothing.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import RequestError

FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")
MEDIA_TYPES = frozenset(
    {
        "image/jpeg",
        "image/jpg",
        "image/pjpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/x-ms-bmp",
        "image/tiff",
    }
)
RAW_MEDIA_TYPES = MEDIA_TYPES | {"application/octet-stream"}


def decode(data: bytes, max_pixels: int, size: tuple[int, int] | None = None) -> Image.Image:
    """Decode `data` into a loaded image (first frame); `size` (width, height) lets JPEG decode at lower scale."""
    if not data:
        raise RequestError(400, "empty_image", "the request carries no image data")
    try:
        image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise RequestError(400, "not_an_image", f"the data is not a supported image ({', '.join(FORMATS)})") from None
    except Image.DecompressionBombError:
        raise _too_many_pixels(None, max_pixels) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise RequestError(400, "corrupt_image", f"the image cannot be read: {exc}") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise RequestError(400, "corrupt_image", "the image has no pixels")
    if width * height > max_pixels:
        raise _too_many_pixels(width * height, max_pixels, image.size)
    if size is not None and image.format == "JPEG":
        image.draft(image.mode if image.mode in ("L", "RGB") else "RGB", size)
    try:
        image.load()
    except Image.DecompressionBombError:
        raise _too_many_pixels(None, max_pixels) from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise RequestError(400, "corrupt_image", f"the image is truncated or corrupt: {exc}") from None
    return image


def to_array(image: Image.Image, height: int, width: int, channels: int) -> np.ndarray:
    """Convert any mode (greyscale, palette, RGBA, 16-bit) to the model's channels and size, as float32 0..255."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    if image.mode in ("I", "F") or image.mode.startswith("I;16"):
        values = np.asarray(image, dtype=np.float32)
        if values.size and values.max() > 255:
            values = values / 257.0
        image = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L")
    target = "L" if channels == 1 else "RGB"
    if image.mode != target:
        image = image.convert(target)
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    array = np.asarray(image, dtype=np.float32)
    return array.reshape(height, width, channels)


def _too_many_pixels(pixels: int | None, limit: int, size: tuple[int, int] | None = None) -> RequestError:
    if size and pixels:
        return RequestError(
            413, "image_too_large", f"the image is {size[0]}x{size[1]} ({pixels:,} pixels); the limit is {limit:,}"
        )
    return RequestError(413, "image_too_large", f"the image declares more pixels than the limit of {limit:,}")
