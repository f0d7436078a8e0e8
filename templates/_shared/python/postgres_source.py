"""Labelled images from a PostgreSQL (or Greenplum) table with columns `image` (bytea) and `label` (text).

Credentials come from a servicebinding.io binding of type `postgresql` (TAP mounts one for the Workload's
database claim) when SERVICE_BINDING_ROOT is set, otherwise from DATABASE_URL.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import psycopg
from PIL import Image, UnidentifiedImageError
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from .bindings import find_binding
from .errors import ServiceUnavailable, UserError
from .holdout import fingerprint

if TYPE_CHECKING:
    from .data import LabelledImages

APPLICATION_NAME = "{{ cookiecutter.project_name }}"  # how the connections show in pg_stat_activity
BINDING_TYPE = "postgresql"
CONNECT_TIMEOUT_SECONDS = 5
FETCH_ROWS = 1000


def conninfo() -> str:
    """The libpq connection string, from the binding or DATABASE_URL."""
    if os.environ.get("SERVICE_BINDING_ROOT"):
        found = find_binding(BINDING_TYPE)
        if found:
            return conninfo_from_binding(found)
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    raise UserError(
        f"no database credentials: bind a service claim of type {BINDING_TYPE} "
        "(SERVICE_BINDING_ROOT) or set DATABASE_URL"
    )


def conninfo_from_binding(entries: dict[str, str]) -> str:
    """Well-known binding entries (uri or host, port, database, username, password, sslmode) as a connection string."""
    parts = {
        "host": entries.get("host"),
        "port": entries.get("port"),
        "dbname": entries.get("database"),
        "user": entries.get("username"),
        "password": entries.get("password"),
        "sslmode": entries.get("sslmode"),
    }
    try:
        return make_conninfo(entries.get("uri", ""), **{key: value for key, value in parts.items() if value})
    except psycopg.ProgrammingError as exc:
        raise UserError(f"the {BINDING_TYPE} binding is not a valid connection: {exc}") from None


def describe(info: str) -> str:
    """host:port/dbname of a connection string, for messages (never the password)."""
    try:
        params = conninfo_to_dict(info)
    except psycopg.ProgrammingError:
        return "the configured database"
    return f"{params.get('host', 'localhost')}:{params.get('port', 5432)}/{params.get('dbname', '')}"


def connect() -> psycopg.Connection:
    info = conninfo()
    try:
        return psycopg.connect(info, connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name=APPLICATION_NAME)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise ServiceUnavailable(f"cannot connect to PostgreSQL at {describe(info)}: {reason}") from None


def check_table(table: str) -> None:
    """The table exists, has the two columns and at least one row."""
    with connect() as connection:
        try:
            row = connection.execute(
                sql.SQL("SELECT image, label FROM {} LIMIT 1").format(sql.Identifier(table))
            ).fetchone()
        except errors.UndefinedTable:
            raise UserError(
                f"table {table} does not exist; create it with columns image (bytea) and label (text)"
            ) from None
        except errors.UndefinedColumn as exc:
            raise UserError(
                f"table {table} needs columns image (bytea) and label (text): {str(exc).splitlines()[0]}"
            ) from None
    if row is None:
        raise UserError(f"table {table} is empty; insert labelled images (image bytea, label text) first")


def load_table(table: str, image_size: int) -> LabelledImages:
    """Every row, decoded to RGB and resized, with the fingerprint of its stored bytes (which fixes its part)."""
    from .data import LabelledImages

    check_table(table)
    images: list[np.ndarray] = []
    sizes: list[tuple[int, int]] = []
    names: list[str] = []
    fingerprints: list[str] = []
    query = sql.SQL("SELECT label, image FROM {} ORDER BY label, image").format(sql.Identifier(table))
    with connect() as connection, connection.cursor(name=f"{APPLICATION_NAME}-images") as cursor:
        cursor.itersize = FETCH_ROWS
        for number, (label, image) in enumerate(cursor.execute(query), start=1):
            content = bytes(image)
            decoded = decode(content, image_size, where=f"table {table}, row {number} (label {label!r})")
            images.append(decoded.pixels)
            sizes.append(decoded.stored_size)
            names.append(str(label))
            fingerprints.append(fingerprint(content))
    class_names = tuple(sorted(set(names)))
    index = {name: i for i, name in enumerate(class_names)}
    return LabelledImages(
        images=np.stack(images),
        labels=np.array([index[name] for name in names], dtype=np.int32),
        class_names=class_names,
        fingerprints=np.array(fingerprints),
        sizes=np.array(sizes, dtype=np.int32).reshape(-1, 2),
    )


@dataclass(frozen=True)
class Decoded:
    pixels: np.ndarray  # (image_size, image_size, 3) uint8 RGB
    stored_size: tuple[int, int]  # (height, width) before resizing


def decode(data: bytes, image_size: int, where: str) -> Decoded:
    """Encoded image bytes (PNG, JPEG, ...) to RGB pixels resized to `image_size` square."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            rgb = image.convert("RGB").resize((image_size, image_size), Image.Resampling.BILINEAR)
    except (UnidentifiedImageError, OSError) as exc:
        raise UserError(f"{where}: not a readable image ({exc})") from None
    return Decoded(np.asarray(rgb, dtype=np.uint8), (height, width))
