"""GreenplumPython DataFrames over the bound database: the work runs in the database, only results come back.

GreenplumPython speaks to Greenplum and to PostgreSQL alike; the tests use the PostgreSQL server of TEST_DATABASE_URL.
"""

from __future__ import annotations

from pathlib import Path

import greenplumpython as gp
import pytest

from [[packageName]].database import gp_dataframe
from [[packageName]].errors import DatabaseError

from conftest import write_binding
from servers import free_port

pytestmark = pytest.mark.service


def test_a_greenplum_dataframe_groups_and_counts_in_the_database(bound: Path, digits_table: str) -> None:
    images = gp_dataframe(digits_table)
    count = gp.aggregate_function("count")
    per_label = {
        row["label"]: row["images"]
        for row in images.group_by("label").apply(lambda row: count(row["*"]), column_name="images")
    }
    assert len(per_label) == 10 and sum(per_label.values()) == 1797 and per_label["0"] == 178
    first = list(images.order_by("label")[:3])
    assert [row["label"] for row in first] == ["0", "0", "0"]


def test_a_bad_table_name_is_refused_before_any_sql(bound: Path) -> None:
    with pytest.raises(DatabaseError, match="is not a table name"):
        gp_dataframe("images; DROP TABLE x")


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    write_binding(tmp_path, "warehouse", type="greenplum", host="127.0.0.1", port=str(port), database="gp")
    monkeypatch.setenv("SERVICE_BINDING_ROOT", str(tmp_path))
    with pytest.raises(DatabaseError) as caught:
        gp_dataframe("images", binding="warehouse")
    assert str(caught.value).startswith(f"cannot connect to 127.0.0.1:{port}/gp: ") and "\n" not in str(caught.value)
