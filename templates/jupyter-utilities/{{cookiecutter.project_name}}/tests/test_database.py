"""connect() and the read helpers against a real PostgreSQL server (TEST_DATABASE_URL), through real binding folders.

The binding is made the way the platform engineer makes it: cluster_secrets.py splits the database URL into the
binding's entries, and the test writes them out as TAP projects them. Bad bindings give one-line errors.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.__package_name }}.database import (
    connect,
    conninfo,
    database_configured,
    list_tables,
    load_table_images,
    read_sql,
    read_table,
)
from {{ cookiecutter.__package_name }}.errors import BindingError, DatabaseError

from conftest import NOTEBOOKS, kernel_env, run_notebook, write_binding
from servers import free_port

pytestmark = pytest.mark.service


def test_connect_through_the_binding_and_read_with_pandas(bound: Path, digits_table: str) -> None:
    assert database_configured()
    engine = connect()
    assert connect() is engine  # one engine per database, reused
    query = f"SELECT label, count(*) AS images FROM {digits_table} WHERE label <> :skip GROUP BY label"
    frame = read_sql(query, engine, {"skip": "9"})
    assert sorted(frame["label"]) == [str(digit) for digit in range(9)] and frame["images"].sum() > 1500
    assert len(read_table(digits_table, engine, limit=5)) == 5 and len(read_table(digits_table, limit=None)) == 1797
    assert digits_table in set(list_tables(engine)["table"])


def test_images_stored_in_a_table_load_as_an_image_set(bound: Path, digits_table: str) -> None:
    images = load_table_images(digits_table)
    assert len(images) == 1797 and images.images.shape == (1797, 8, 8, 3)
    assert images.class_names == tuple("0123456789") and images.counts()["0"] == 178
    assert load_table_images(digits_table, image_size=16, channels=1).images.shape == (1797, 16, 16, 1)


def test_database_url_is_used_when_nothing_is_bound(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.delenv("SERVICE_BINDING_ROOT", raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert conninfo() == database_url
    assert read_sql("SELECT 1 AS one")["one"].tolist() == [1]


def test_a_named_binding_is_used_even_beside_others(bound: Path) -> None:
    write_binding(bound, "reporting", type="greenplum", host="gp.example.com", database="reports", username="r")
    assert "host=gp.example.com" in conninfo(binding="reporting")
    with pytest.raises(BindingError, match="2 database bindings under .*name one: connect"):
        conninfo()


@pytest.mark.parametrize(
    ("entries", "name", "message"),
    [
        ({"type": "mysql", "host": "db"}, "database", "binding 'database' is of type 'mysql', not postgresql or"),
        ({"type": "postgresql", "username": "u"}, None, "has neither 'uri' nor 'host'"),
        ({"type": "postgresql", "host": "db", "port": "fifty"}, None, "'port' must be a number from 1 to 65535"),
        ({"type": "postgresql", "host": "db"}, "other", "service binding 'other': no folder"),
    ],
)
def test_a_bad_binding_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entries: dict[str, str], name: str | None, message: str
) -> None:
    write_binding(tmp_path, "database", **entries)
    monkeypatch.setenv("SERVICE_BINDING_ROOT", str(tmp_path))
    with pytest.raises(BindingError) as caught:
        connect(binding=name)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_no_database_at_all_says_how_to_get_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE_BINDING_ROOT", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    write_binding(tmp_path, "mlflow", type="mlflow", uri="http://mlflow:5000")
    assert not database_configured()
    with pytest.raises(BindingError, match="no database: no binding of type postgresql or greenplum under "):
        connect()
    monkeypatch.delenv("SERVICE_BINDING_ROOT")
    with pytest.raises(BindingError, match="SERVICE_BINDING_ROOT is unset and DATABASE_URL is unset"):
        connect()
    with pytest.raises(BindingError, match="service binding 'database': SERVICE_BINDING_ROOT is unset"):
        connect(binding="database")


def test_an_unreachable_server_is_a_database_error_without_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()  # nothing listens there
    write_binding(
        tmp_path,
        "database",
        type="postgresql",
        host="127.0.0.1",
        port=str(port),
        database="x",
        username="u",
        password="hunter2-secret",
    )
    monkeypatch.setenv("SERVICE_BINDING_ROOT", str(tmp_path))
    with pytest.raises(DatabaseError) as caught:
        connect()
    assert str(caught.value).startswith(f"cannot connect to 127.0.0.1:{port}/x: ")
    assert "hunter2-secret" not in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("table", "message"), [("no_such_table", "the query failed"), ("x; DROP TABLE y", "is not a table name")]
)
def test_a_bad_table_is_one_clear_line(bound: Path, table: str, message: str) -> None:
    with pytest.raises(DatabaseError) as caught:
        read_table(table)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_the_exploring_notebook_reads_the_bound_database(
    bound: Path, digits_table: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("explore")
    (folder / "01-explore-data.ipynb").write_bytes((NOTEBOOKS / "01-explore-data.ipynb").read_bytes())
    explore = run_notebook(
        folder, "01-explore-data.ipynb", kernel_env(SERVICE_BINDING_ROOT=str(bound)), {"IMAGE_TABLE": digits_table}
    )
    assert "tables" in explore.text("explore-tables") and digits_table in explore.text("explore-tables")
    assert f"{digits_table}: 1797 images, classes 0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in explore.text("explore-table-images")
{%- if cookiecutter.database == 'greenplum' %}
    per_label = explore.text("explore-greenplum")
    assert "(10 rows)" in per_label and " 178" in per_label, per_label
{%- endif %}
