"""The warehouse's contract on both backends: SQLite (the embedded default) and PostgreSQL.

PostgreSQL's own matters (COPY, column types, streaming reads) are in test_postgres.py."""

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from drift_assets.lib.generator import generate_month
from drift_assets.lib.schema import BIKE
from drift_assets.lib.source import conform
from drift_assets.resources import Warehouse
from drift_assets_tests.graph import bike


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'w.db'}"
    else:
        url, _ = request.getfixturevalue("pg_database")("contract")
    store = Warehouse(url=url)
    yield bike(store)  # the bike dataset's tables, in their namespace
    store.dispose()


def _month(month, seed=0):
    return conform(generate_month(month, seed=seed), "test", BIKE)


def test_round_trip_keeps_types(warehouse):
    frame = _month("2011-03")
    warehouse.replace_month("2011-03", frame)
    pd.testing.assert_frame_equal(warehouse.read_month("2011-03"), frame)


def test_rewriting_a_month_replaces_it(warehouse):
    warehouse.replace_month("2011-03", _month("2011-03"))
    warehouse.replace_month("2011-04", _month("2011-04"))
    for seed in range(3):
        warehouse.replace_month("2011-03", _month("2011-03", seed))
    assert warehouse.month_counts() == {"2011-03": 31, "2011-04": 30}
    pd.testing.assert_frame_equal(warehouse.read_month("2011-03"), _month("2011-03", 2))
    assert len(warehouse.read_current(until="2011-03")) == 31


def test_a_failed_write_leaves_the_month_as_it_was(warehouse):
    good = _month("2011-03")
    warehouse.replace_month("2011-03", good)
    broken = _month("2011-03", seed=1)
    broken.loc[20, "instant"] = None  # NOT NULL: the insert fails after the delete ran
    with pytest.raises(sa.exc.IntegrityError, match="instant"):
        warehouse.replace_month("2011-03", broken)
    pd.testing.assert_frame_equal(warehouse.read_month("2011-03"), good)


def test_rows_of_another_month_are_refused(warehouse):
    with pytest.raises(ValueError, match="outside 2011-04"):
        warehouse.replace_month("2011-04", _month("2011-03"))
    assert warehouse.month_counts() == {}


def test_reference_is_replaced_whole(warehouse):
    warehouse.replace_reference(_month("2011-01"))
    warehouse.replace_reference(pd.concat([_month("2011-01"), _month("2011-02")]))
    assert len(warehouse.read_reference()) == 59


def test_each_dataset_keeps_its_months_in_its_own_namespace(warehouse):
    """Two datasets of one warehouse share no table: each writes to drift_<name> (a PostgreSQL
    schema, or a SQLite file beside the main one), never to the bare database."""
    other = warehouse.warehouse.dataset("bike_copy", BIKE)
    warehouse.replace_month("2011-03", _month("2011-03"))
    other.replace_month("2011-04", _month("2011-04"))
    other.replace_month("2011-03", _month("2011-03", seed=1))  # replaces other's March only
    assert warehouse.month_counts() == {"2011-03": 31}
    assert other.month_counts() == {"2011-03": 31, "2011-04": 30}
    pd.testing.assert_frame_equal(warehouse.read_month("2011-03"), _month("2011-03"))
    bare = warehouse.warehouse.engine
    assert "current" not in sa.inspect(bare).get_table_names()
    if bare.dialect.name == "postgresql":
        assert "current" in sa.inspect(bare).get_table_names(schema="drift_bike_sharing")
    else:
        main = sa.make_url(warehouse.warehouse.resolved_url).database
        files = {p.name for p in Path(main).parent.iterdir()}
        assert {"w.db", "w.bike_sharing.db", "w.bike_copy.db"} <= files
