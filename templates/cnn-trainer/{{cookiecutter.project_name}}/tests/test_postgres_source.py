"""The PostgreSQL source against a real server (TEST_DATABASE_URL), through DATABASE_URL and a service binding."""

from __future__ import annotations

import uuid
from itertools import islice
from pathlib import Path

import numpy as np
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from {{ cookiecutter.__package_name }}.data import split
from {{ cookiecutter.__package_name }}.errors import UserError
from {{ cookiecutter.__package_name }}.holdout import HoldoutRule
from {{ cookiecutter.__package_name }}.postgres_source import check_table, conninfo, load_table

from conftest import assert_one_line_error, digit_pngs
from servers import free_port

pytestmark = pytest.mark.service


@pytest.fixture
def empty_table(database_url: str):
    table = f"test_empty_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE TABLE {} (image bytea, label text)").format(sql.Identifier(table)))
    yield table
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))


def insert_rows(database_url: str, table: str, rows: list[tuple[str, bytes]]) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection, connection.cursor() as cursor:
        cursor.executemany(sql.SQL("INSERT INTO {} (label, image) VALUES (%s, %s)").format(sql.Identifier(table)), rows)


def write_binding(root: Path, database_url: str, **changes: str) -> None:
    params = conninfo_to_dict(database_url)
    entries = {
        "type": "postgresql",
        "provider": "bitnami",
        "host": params.get("host", "127.0.0.1"),
        "port": params.get("port", "5432"),
        "database": params["dbname"],
        "username": params["user"],
        "password": params.get("password", ""),
        **changes,
    }
    binding = root / "training-db"
    binding.mkdir(parents=True)
    for key, value in entries.items():
        (binding / key).write_text(value + "\n")


def test_table_is_read_as_rgb_with_labels_as_classes(digits_table):
    images = load_table(digits_table, 16)

    assert images.images.shape == (1797, 16, 16, 3)
    assert images.class_names == tuple(str(digit) for digit in range(10))
    assert np.bincount(images.labels).min() > 150
    assert images.sizes.tolist() == [[8, 8]] * 1797, "the stored size, read before resizing"
    np.testing.assert_array_equal(load_table(digits_table, 16).labels, images.labels)  # a fixed order


def test_adding_rows_moves_no_image_into_the_held_out_set(database_url, empty_table):
    rows = list(islice(digit_pngs(), 600))
    insert_rows(database_url, empty_table, rows[:300])
    rule = HoldoutRule("table-test")
    before = split(load_table(empty_table, 8), rule)

    insert_rows(database_url, empty_table, rows[300:])  # new rows sort in between the old ones (ORDER BY label)
    after = split(load_table(empty_table, 8), rule)

    assert len(after.train) + len(after.validation) + len(after.test) == 600
    assert set(before.test.fingerprints) <= set(after.test.fingerprints), "held-out images stay held out"
    assert set(before.train.fingerprints).isdisjoint(after.test.fingerprints), "no training image is held out now"
    assert len(after.test) > len(before.test)


def test_empty_table(run_cli, empty_table):
    assert_one_line_error(run_cli("train", "--db-table", empty_table), empty_table, "is empty")


def test_missing_table(run_cli, database_url):
    assert_one_line_error(run_cli("train", "--db-table", "no_such_table"), "no_such_table", "does not exist")


def test_unreachable_database(run_cli):
    url = f"postgresql://someone:s3cret@127.0.0.1:{free_port()}/nowhere"

    line = assert_one_line_error(run_cli("train", env={"DATABASE_URL": url}), "cannot connect", "/nowhere")

    assert "s3cret" not in line


def test_credentials_from_a_service_binding(tmp_path, monkeypatch, database_url, digits_table):
    write_binding(tmp_path / "bindings", database_url)
    monkeypatch.setenv("SERVICE_BINDING_ROOT", str(tmp_path / "bindings"))
    monkeypatch.delenv("DATABASE_URL", raising=False)

    assert conninfo_to_dict(conninfo())["dbname"] == conninfo_to_dict(database_url)["dbname"]
    check_table(digits_table)  # connects with the binding's credentials


def test_binding_wins_over_database_url(tmp_path, monkeypatch, database_url, digits_table):
    write_binding(tmp_path / "bindings", database_url, database="no_such_database")
    monkeypatch.setenv("SERVICE_BINDING_ROOT", str(tmp_path / "bindings"))
    monkeypatch.setenv("DATABASE_URL", database_url)

    with pytest.raises(UserError, match="cannot connect to PostgreSQL at .*/no_such_database") as caught:
        check_table(digits_table)
    assert conninfo_to_dict(database_url).get("password", "-") not in str(caught.value)


def test_no_credentials_at_all(monkeypatch):
    monkeypatch.delenv("SERVICE_BINDING_ROOT", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    with pytest.raises(UserError, match="DATABASE_URL"):
        conninfo()
