"""Which images are held out for evaluation, used for validation or trained on: decided per image, by its content.

An image's part depends only on a hash of its content and a salt, never on the other images or their order. Adding
rows to a table or files to a folder therefore never moves an image between the parts: every image held out before
is still held out, and no image trained on before is held out now, so a champion re-scored on today's held-out
images has never trained on any of them. Identical images always share a part, so a duplicate cannot leak a
held-out image into training.

    rule = HoldoutRule(salt="digits-cnn")
    parts = rule.parts([file_fingerprint(path) for path in paths])   # Part.HELD_OUT, Part.VALIDATION, Part.TRAINING
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np

HASH = "sha256"
_POSITION_BYTES = 8  # 64 bits of the salted hash place an image in [0, 1)


class Part(IntEnum):
    TRAINING = 0
    VALIDATION = 1
    HELD_OUT = 2


def fingerprint(content: bytes) -> str:
    """The image's identity: the hex SHA-256 of its stored bytes (an encoded file, a bytea value)."""
    return hashlib.sha256(content).hexdigest()


def file_fingerprint(path: Path) -> str:
    """The fingerprint of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def array_fingerprint(array: np.ndarray) -> str:
    """The fingerprint of an image given as an array (its dtype and shape count, so 8x8 floats differ from uint8)."""
    contiguous = np.ascontiguousarray(array)
    header = f"{contiguous.dtype.str}{contiguous.shape}".encode()
    return fingerprint(header + contiguous.tobytes())


@dataclass(frozen=True)
class HoldoutRule:
    """Splits images by a salted hash of their fingerprints.

    `held_out_fraction` of all images are held out; `validation_fraction` of the others are used for validation
    (early stopping); the rest are trained on. Two rules hold out the same images when their salt and
    held-out fraction are equal; changing either draws a new held-out set.
    """

    salt: str
    held_out_fraction: float = 0.2
    validation_fraction: float = 0.1

    def __post_init__(self) -> None:
        if not 0 < self.held_out_fraction < 1:
            raise ValueError(f"held_out_fraction {self.held_out_fraction} is not in (0, 1)")
        if not 0 <= self.validation_fraction < 1:
            raise ValueError(f"validation_fraction {self.validation_fraction} is not in [0, 1)")

    def position(self, image_fingerprint: str) -> float:
        """Where the image falls in [0, 1): uniform over images, fixed by the salt and the image alone."""
        digest = hashlib.sha256(f"{self.salt}\x00{image_fingerprint}".encode()).digest()
        return int.from_bytes(digest[:_POSITION_BYTES], "big") / float(1 << (8 * _POSITION_BYTES))

    def part(self, image_fingerprint: str) -> Part:
        position = self.position(image_fingerprint)
        if position < self.held_out_fraction:
            return Part.HELD_OUT
        if position < self.held_out_fraction + (1 - self.held_out_fraction) * self.validation_fraction:
            return Part.VALIDATION
        return Part.TRAINING

    def parts(self, fingerprints: Iterable[str]) -> np.ndarray:
        """The part of each image, as an int8 array of `Part` values."""
        return np.fromiter((self.part(item) for item in fingerprints), dtype=np.int8)

    def holds_out_the_same_images_as(self, other: HoldoutRule) -> bool:
        return (self.salt, self.held_out_fraction) == (other.salt, other.held_out_fraction)

    def describe(self) -> str:
        """One line for logs and model cards."""
        return (
            f"{self.held_out_fraction:.0%} of the images held out by the {HASH} of their content "
            f"with salt {self.salt!r}; {self.validation_fraction:.0%} of the others for validation"
        )

    def held_out_key(self) -> str:
        """What identifies the held-out images: equal keys, equal held-out images (for any data)."""
        return f"{HASH} salt={self.salt!r} held_out={self.held_out_fraction:g}"

    def as_metadata(self) -> dict[str, Any]:
        """A JSON-ready form, for a model's metadata."""
        return {
            "hash": HASH,
            "salt": self.salt,
            "held_out_fraction": self.held_out_fraction,
            "validation_fraction": self.validation_fraction,
        }

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> HoldoutRule | None:
        """The rule recorded by `as_metadata`, or None when none (or another hash) was recorded."""
        if not metadata or metadata.get("hash") != HASH:
            return None
        try:
            return cls(
                str(metadata["salt"]),
                float(metadata["held_out_fraction"]),
                float(metadata.get("validation_fraction", 0.0)),
            )
        except (KeyError, TypeError, ValueError):
            return None
