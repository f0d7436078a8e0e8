"""Images to explore and classify: scikit-learn's bundled digits, a folder of images, single files[[if #allowUrlInput]] and URLs[[end #allowUrlInput]].

Every image set is `ImageSet`: uint8 pixels 0..255 of shape (n, height, width, channels), as the models of the
cnn-trainer template take them (they rescale inside). Decoding refuses what is not an image and images that declare
more than `MAX_PIXELS` pixels before any pixel is decompressed.
[[if #allowUrlInput]]
Images by URL are fetched through the SSRF guard shared with the image-function template (url_guard.py): http(s)
only, hosts on the allow-list (URL_ALLOWED_HOSTS, else the one this project was generated with), every resolved
address public (never 169.254.169.254 or a private network), redirects checked, size and time capped.
[[end #allowUrlInput]]"""

from __future__ import annotations

import io
[[if #allowUrlInput]]import os
[[end #allowUrlInput]]from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import ImageError
[[if #allowUrlInput]]from .url_guard import UrlFetcher, UrlPolicy, UrlRefused
[[end #allowUrlInput]]
MAX_PIXELS = 40_000_000
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff"})
[[if #allowUrlInput]]MAX_DOWNLOAD_BYTES = 8 * 1024 * 1024
# Hosts images may be fetched from when URL_ALLOWED_HOSTS is unset (comma-separated; '.example.com' allows sub-domains)
DEFAULT_URL_ALLOWED_HOSTS = "[[urlAllowedHosts]]"
[[end #allowUrlInput]]

@dataclass(frozen=True)
class ImageSet:
    """Labelled images: `images` (n, height, width, channels) uint8, `labels` class indices into `class_names`."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        height, width, channels = self.images.shape[1:]
        return int(height), int(width), int(channels)

    def names(self) -> list[str]:
        """The class name of each image."""
        return [self.class_names[label] for label in self.labels]

    def counts(self) -> dict[str, int]:
        """Images per class, in class order."""
        found = np.bincount(self.labels, minlength=len(self.class_names))
        return {name: int(count) for name, count in zip(self.class_names, found, strict=True)}


def load_digits_images() -> ImageSet:
    """scikit-learn's 1,797 handwritten digits (bundled, offline): 8x8 greyscale, classes '0' to '9'."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = np.round(digits.images * (255 / 16)).astype(np.uint8)[..., np.newaxis]
    return ImageSet(pixels, digits.target.astype(np.int64), tuple(str(digit) for digit in range(10)))


def load_image(source: str | Path[[if #allowUrlInput]], *, allowed_hosts: str | Sequence[str] | None = None[[end #allowUrlInput]]) -> Image.Image:
    """One image from a file[[if #allowUrlInput]] or an http(s) URL (through the SSRF guard)[[end #allowUrlInput]], decoded and checked."""
    text = str(source)
    if text.startswith(("http://", "https://")):[[if #allowUrlInput]]
        return decode(fetch_url(text, allowed_hosts), where=text)[[end #allowUrlInput]]
[[if !#allowUrlInput]]        raise ImageError(f"{text}: this project was generated without URL input; download the image and pass its path")
[[end !#allowUrlInput]]    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    return decode(data, where=str(path))


def decode(data: bytes, where: str = "the image") -> Image.Image:
    """Decode image bytes (first frame); refuses non-images, corrupt data and more than MAX_PIXELS pixels."""
    if not data:
        raise ImageError(f"{where}: empty")
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageError(f"{where}: not an image") from None
    except Image.DecompressionBombError:
        raise ImageError(f"{where}: declares more than {MAX_PIXELS:,} pixels") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageError(f"{where}: {width}x{height} is more than {MAX_PIXELS:,} pixels")
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageError(f"{where}: truncated or corrupt ({exc})") from None
    return image


def to_array(image: Image.Image, shape: tuple[int, int, int]) -> np.ndarray:
    """`image` as float32 pixels 0..255 of `shape` (height, width, channels): converted, transparency onto white."""
    height, width, channels = shape
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    image = image.convert("L" if channels == 1 else "RGB")
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.float32).reshape(height, width, channels)


def load_image_folder(folder: str | Path, image_size: int | None = None, channels: int = 3) -> ImageSet:
    """Images in one sub-folder per class (the sub-folder's name is the class), resized to `image_size` if given."""
    root = Path(folder)
    if not root.is_dir():
        raise ImageError(f"{root}: not a folder; expected one sub-folder of images per class")
    classes = sorted(path.name for path in root.iterdir() if path.is_dir() and not path.name.startswith("."))
    files = [
        (label, path)
        for label, name in enumerate(classes)
        for path in sorted((root / name).iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not files:
        raise ImageError(f"{root}: no images in sub-folders ({', '.join(sorted(IMAGE_SUFFIXES))})")
    images = [load_image(path) for _, path in files]
    if image_size is None:
        sizes = {image.size for image in images}
        if len(sizes) > 1:
            raise ImageError(f"{root}: images differ in size ({len(sizes)} sizes); pass image_size to resize them")
        width, height = sizes.pop()
    else:
        width = height = image_size
    pixels = np.stack([to_array(image, (height, width, channels)) for image in images]).astype(np.uint8)
    labels = np.array([label for label, _ in files], dtype=np.int64)
    return ImageSet(pixels, labels, tuple(classes))


def write_example_images(folder: str | Path, kind: str = "digits", count: int = 4) -> list[Path]:
    """Write example images to classify as files: bundled `digits` (PNG) or scikit-learn's two sample `photos` (JPEG)."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    if kind == "digits":
        digits = load_digits_images()
        picks = np.random.default_rng(7).choice(len(digits), size=count, replace=False)
        named = [
            (f"digit-{digits.names()[index]}-{index}.png", Image.fromarray(digits.images[index, ..., 0]))
            for index in picks
        ]
    elif kind == "photos":
        from sklearn.datasets import load_sample_images

        photos = load_sample_images()
        named = [
            (Path(name).name, Image.fromarray(pixels))
            for name, pixels in zip(photos.filenames, photos.images, strict=True)
        ]
        named = named[:count]
    else:
        raise ImageError(f"kind must be 'digits' or 'photos', not {kind!r}")
    paths = []
    for name, image in named:
        image.save(target / name)
        paths.append(target / name)
    return paths


def as_images(items: Sequence[Image.Image | np.ndarray | str | Path]) -> list[Image.Image]:
    """PIL images from images, pixel arrays (height, width[, channels]) or file paths."""
    images = []
    for item in items:
        if isinstance(item, Image.Image):
            images.append(item)
        elif isinstance(item, np.ndarray):
            pixels = item[..., 0] if item.ndim == 3 and item.shape[-1] == 1 else item
            images.append(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)))
        else:
            images.append(load_image(item))
    return images
[[if #allowUrlInput]]

def fetch_url(url: str, allowed_hosts: str | Sequence[str] | None = None) -> bytes:
    """The bytes at `url`, fetched through the SSRF guard; hosts from the argument, URL_ALLOWED_HOSTS or the default."""
    hosts = (
        allowed_hosts if allowed_hosts is not None else os.environ.get("URL_ALLOWED_HOSTS") or DEFAULT_URL_ALLOWED_HOSTS
    )
    trusted = os.environ.get("URL_TRUSTED_ADDRESSES", "")  # an internal image cache, say; keep it empty otherwise
    try:
        policy = UrlPolicy(
            allowed_hosts=tuple(_split(hosts)),
            max_bytes=MAX_DOWNLOAD_BYTES,
            trusted_addresses=frozenset(_split(trusted)),
        )
    except ValueError as exc:
        raise ImageError(f"URL_TRUSTED_ADDRESSES: {exc}") from None
    fetcher = UrlFetcher(
        policy,
        user_agent="[[projectName]]-notebooks",
    )
    try:
        return fetcher.fetch(url)
    except UrlRefused as exc:
        raise ImageError(f"{url}: {exc.message} ({exc.code})") from None
    finally:
        fetcher.close()


def _split(value: str | Sequence[str]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    return [item.strip() for item in items if item.strip()]
[[end #allowUrlInput]]