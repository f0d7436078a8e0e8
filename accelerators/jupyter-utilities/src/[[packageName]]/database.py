"""The team database ([[if #database == 'greenplum']]Greenplum or PostgreSQL[[end #database == 'greenplum']][[if #database != 'greenplum']]PostgreSQL or Greenplum[[end #database != 'greenplum']]) from a bound service or DATABASE_URL, as a SQLAlchemy engine.

Where the credentials come from, in order:

1. `connect(binding="<name>")`: the servicebinding.io binding folder $SERVICE_BINDING_ROOT/<name>, which must be of
   type postgresql or greenplum;
2. the one binding of type postgresql or greenplum under $SERVICE_BINDING_ROOT (what TAP mounts for the workload's
   database claim, and the Hub for each user), found with pyservicebinding;
3. DATABASE_URL (postgresql://user:password@host:5432/dbname).

A binding needs `uri`, or `host` with optional `port`, `database`, `username`, `password` and `sslmode`: the keys
config/services and the cnn-trainer template use. Anything else is a `BindingError` in one line; a server that cannot
be reached is a `DatabaseError`. Passwords never appear in a message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import [[if #database == 'greenplum']]TYPE_CHECKING, [[end #database == 'greenplum']]Any

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pyservicebinding import binding as servicebinding

from .data import ImageSet, decode, to_array
from .errors import BindingError, DatabaseError
[[if #database == 'greenplum']]
if TYPE_CHECKING:
    import greenplumpython
[[end #database == 'greenplum']]
BINDING_TYPES = ("postgresql", "greenplum")
CONNECT_TIMEOUT_SECONDS = 10
APPLICATION_NAME = "[[projectName]]"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
_engines: dict[str, sqlalchemy.Engine] = {}


def conninfo(binding: str | None = None) -> str:
    """The libpq connection string for the database, by the rule above."""
    root = os.environ.get("SERVICE_BINDING_ROOT", "").strip()
    if binding is not None:
        return _from_binding(_named_binding(root, binding), f"service binding {binding!r}")
    if root:
        found = _typed_bindings(root)
        if len(found) > 1:
            raise BindingError(
                f"{len(found)} database bindings under {root}; name one: connect(binding='<folder name>')"
            )
        if found:
            return _from_binding(found[0], f"the {found[0].get('type')} binding under {root}")
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return url
    where = f"no binding of type postgresql or greenplum under {root}" if root else "SERVICE_BINDING_ROOT is unset"
    raise BindingError(f"no database: {where} and DATABASE_URL is unset; bind the database claim or set DATABASE_URL")


def database_configured() -> bool:
    """Whether DATABASE_URL is set or a database is bound (a broken binding counts: connect() says what is wrong)."""
    root = os.environ.get("SERVICE_BINDING_ROOT", "").strip()
    try:
        return bool(os.environ.get("DATABASE_URL", "").strip()) or bool(root and _typed_bindings(root))
    except BindingError:
        return True


def describe(info: str) -> str:
    """host:port/dbname of a connection string, for messages; never the password."""
    try:
        params = conninfo_to_dict(info)
    except psycopg.ProgrammingError:
        return "the configured database"
    return f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}/{params.get('dbname') or ''}"


def connect(binding: str | None = None) -> sqlalchemy.Engine:
    """A SQLAlchemy engine for the database (one per connection string, reused), checked with a first connection."""
    info = conninfo(binding)
    engine = _engines.get(info)
    if engine is None:
        engine = sqlalchemy.create_engine(
            "postgresql+psycopg://",
            creator=lambda: psycopg.connect(
                info, connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name=APPLICATION_NAME
            ),
            pool_pre_ping=True,
        )
        try:
            with engine.connect():
                pass
        except sqlalchemy.exc.OperationalError as exc:
            engine.dispose()
            reason = str(exc.orig).strip().splitlines()[-1] if str(exc.orig).strip() else type(exc.orig).__name__
            raise DatabaseError(f"cannot connect to {describe(info)}: {reason}") from None
        _engines[info] = engine
    return engine


def read_sql(
    query: str, engine: sqlalchemy.Engine | None = None, params: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """The rows of `query` (`:name` placeholders filled from `params`, never by string formatting) as a DataFrame."""
    engine = engine or connect()
    try:
        with engine.connect() as connection:
            return pd.read_sql(sqlalchemy.text(query), connection, params=dict(params or {}))
    except (sqlalchemy.exc.DBAPIError, pd.errors.DatabaseError) as exc:
        raise DatabaseError(f"the query failed: {_reason(exc)}") from None


def read_table(table: str, engine: sqlalchemy.Engine | None = None, limit: int | None = 1000) -> pd.DataFrame:
    """Rows of `table` (`name` or `schema.name`), at most `limit` (None: all)."""
    query = f"SELECT * FROM {quote_table(table)}" + (" LIMIT :limit" if limit is not None else "")
    return read_sql(query, engine, {"limit": limit} if limit is not None else None)


def list_tables(engine: sqlalchemy.Engine | None = None) -> pd.DataFrame:
    """The tables you can read, with their schema and estimated row count."""
    return read_sql(
        "SELECT n.nspname AS schema, c.relname AS table, c.reltuples::bigint AS estimated_rows "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg_toast%' AND has_table_privilege(c.oid, 'SELECT') ORDER BY 1, 2",
        engine,
    )


def load_table_images(
    table: str, engine: sqlalchemy.Engine | None = None, image_size: int | None = None, channels: int = 3
) -> ImageSet:
    """Labelled images stored in `table` (columns `image` bytea and `label` text), as cnn-trainer reads them."""
    frame = read_sql(f"SELECT label, image FROM {quote_table(table)} ORDER BY label", engine)
    if frame.empty:
        raise DatabaseError(f"table {table} has no rows; insert labelled images (image bytea, label text) first")
    images = [
        decode(bytes(data), where=f"table {table}, label {label!r}") for label, data in frame.itertuples(index=False)
    ]
    if image_size is None:
        sizes = {image.size for image in images}
        if len(sizes) > 1:
            raise DatabaseError(
                f"table {table}: images differ in size ({len(sizes)} sizes); pass image_size to resize them"
            )
        width, height = sizes.pop()
    else:
        width = height = image_size
    class_names = tuple(sorted(set(frame["label"].astype(str))))
    index = {name: number for number, name in enumerate(class_names)}
    pixels = np.stack([to_array(image, (height, width, channels)) for image in images]).astype(np.uint8)
    labels = np.array([index[str(label)] for label in frame["label"]], dtype=np.int64)
    return ImageSet(pixels, labels, class_names)
[[if #database == 'greenplum']]

def gp_dataframe(table: str, binding: str | None = None) -> greenplumpython.DataFrame:
    """A GreenplumPython DataFrame over `table`: selections and aggregates run in the database, not in the notebook."""
    import greenplumpython as gp
    import psycopg2

    info = conninfo(binding)
    try:
        database = gp.database(uri=info)
    except psycopg2.OperationalError as exc:
        raise DatabaseError(f"cannot connect to {describe(info)}: {str(exc).strip().splitlines()[-1]}") from None
    schema, _, name = table.rpartition(".")
    for part in (schema, name) if schema else (name,):
        if not _IDENTIFIER.match(part):
            raise DatabaseError(f"{table!r} is not a table name (letters, digits and _, optionally schema.table)")
    return database.create_dataframe(table_name=name, schema=schema or None)
[[end #database == 'greenplum']]

def quote_table(table: str) -> str:
    """`name` or `schema.name` as quoted SQL identifiers; anything else is refused."""
    parts = table.split(".")
    if not 1 <= len(parts) <= 2 or not all(_IDENTIFIER.match(part) for part in parts):
        raise DatabaseError(f"{table!r} is not a table name (letters, digits and _, optionally schema.table)")
    return ".".join('"' + part + '"' for part in parts)


def _reason(exc: BaseException) -> str:
    """The database's own first line about `exc` (pandas wraps SQLAlchemy's error, which wraps the driver's)."""
    while exc.__cause__ is not None and not isinstance(exc, sqlalchemy.exc.DBAPIError):
        exc = exc.__cause__
    message = str(exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) else exc).strip()
    return message.splitlines()[0] if message else type(exc).__name__


def _named_binding(root: str, name: str) -> dict[str, str]:
    if not root:
        raise BindingError(f"service binding {name!r}: SERVICE_BINDING_ROOT is unset")
    folder = Path(root) / name
    if not folder.is_dir():
        raise BindingError(f"service binding {name!r}: no folder {folder}")
    entries = _read_folder(folder)
    kind = entries.get("type", "")
    if kind not in BINDING_TYPES:
        raise BindingError(f"service binding {name!r} is of type {kind or '(none)'!r}, not postgresql or greenplum")
    return entries


def _typed_bindings(root: str) -> list[dict[str, str]]:
    try:
        bindings = servicebinding.ServiceBinding()
        return [found for kind in BINDING_TYPES for found in bindings.bindings(kind)]
    except servicebinding.ServiceBindingRootMissingError:
        return []
    except FileNotFoundError:
        return []  # SERVICE_BINDING_ROOT names a folder that does not exist (yet): no binding
    except (OSError, UnicodeDecodeError) as exc:
        raise BindingError(f"the service bindings under {root} cannot be read ({type(exc).__name__})") from None


def _read_folder(folder: Path) -> dict[str, str]:
    try:
        return {
            path.name: path.read_text(encoding="utf-8").strip()
            for path in folder.iterdir()
            if path.is_file() and not path.name.startswith(".")
        }
    except (OSError, UnicodeDecodeError) as exc:
        raise BindingError(f"service binding {folder.name!r} cannot be read ({type(exc).__name__})") from None


def _from_binding(entries: Mapping[str, str], where: str) -> str:
    """Well-known entries (uri, or host, port, database, username, password, sslmode) as a connection string."""
    if not entries.get("uri") and not entries.get("host"):
        raise BindingError(f"{where} has neither 'uri' nor 'host'")
    port = entries.get("port")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise BindingError(f"{where}: 'port' must be a number from 1 to 65535")
    parts = {
        "host": entries.get("host"),
        "port": port,
        "dbname": entries.get("database"),
        "user": entries.get("username"),
        "password": entries.get("password"),
        "sslmode": entries.get("sslmode"),
    }
    try:
        return make_conninfo(entries.get("uri", ""), **{key: value for key, value in parts.items() if value})
    except psycopg.ProgrammingError as exc:
        raise BindingError(f"{where} is not a valid connection: {str(exc).splitlines()[0]}") from None
