"""How the warehouse reads, on both backends: a month or the reference read once per load and
kept while no write replaces it, the months loaded from the record of the writes (not a count
over the whole table), and PostgreSQL reads by ``COPY ... TO STDOUT``."""

import pandas as pd
import pytest
import sqlalchemy as sa

from drift_assets.lib import tickets
from drift_assets.lib.generator import generate_month
from drift_assets.lib.schema import BIKE
from drift_assets.lib.source import conform
from drift_assets.resources import Warehouse
from drift_assets.resources import warehouse as warehouse_module
from drift_assets_tests.graph import bike


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def resource(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'w.db'}"
    else:
        url, _ = request.getfixturevalue("pg_database")("reads")
    store = Warehouse(url=url)
    yield store
    store.dispose()


def _month(month, seed=0):
    return conform(generate_month(month, seed=seed), "test", BIKE)


@pytest.fixture
def reads(monkeypatch) -> list:
    """Every read of rows of ``current`` or ``reference`` from the database, from now on."""
    seen = []
    real = warehouse_module.DatasetWarehouse._read_raw

    def spy(store, query):
        seen.append(query)
        return real(store, query)

    monkeypatch.setattr(warehouse_module.DatasetWarehouse, "_read_raw", spy)
    return seen


def _counts(store) -> list[str]:
    """The statements that count rows of ``current`` by month, from now on."""
    seen = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *rest: seen.append(statement)
                    if "GROUP BY" in statement.upper() else None)
    return seen


def test_a_month_written_is_kept_and_not_read_back(resource, reads):
    store = bike(resource)
    store.replace_reference(_month("2011-01"))
    first = _month("2011-03")
    store.replace_month("2011-03", first)
    first.loc[0, "temp"] = 99.0  # the writer's frame is its own: what was written is kept
    pd.testing.assert_frame_equal(store.read_month("2011-03"), _month("2011-03"))
    pd.testing.assert_frame_equal(store.read_reference(), _month("2011-01"))
    assert reads == []
    warehouse_module._FRAMES.clear()  # another process: it reads them from the database
    pd.testing.assert_frame_equal(store.read_month("2011-03"), _month("2011-03"))
    assert len(reads) == 1


def test_a_month_is_read_once_and_kept_until_a_write_replaces_it(resource, reads):
    store = bike(resource)
    store.replace_reference(_month("2011-01"))
    first = _month("2011-03")
    store.replace_month("2011-03", first)
    warehouse_module._FRAMES.clear()  # as in a step's own process
    pd.testing.assert_frame_equal(store.read_month("2011-03"), first)
    pd.testing.assert_frame_equal(store.read_reference(), _month("2011-01"))
    assert len(reads) == 2
    again = store.read_month("2011-03")
    pd.testing.assert_frame_equal(again, first)
    pd.testing.assert_frame_equal(store.read_reference(), _month("2011-01"))
    assert len(reads) == 2  # both kept: no second read of their rows
    again.loc[0, "temp"] = 99.0  # a caller's change stays in its own frame
    pd.testing.assert_frame_equal(store.read_month("2011-03"), first)
    second = _month("2011-03", seed=4)
    store.replace_month("2011-03", second)
    warehouse_module._FRAMES.clear()
    pd.testing.assert_frame_equal(store.read_month("2011-03"), second)
    assert len(reads) == 3


def test_a_write_by_another_process_is_seen(resource):
    store = bike(resource)
    store.replace_month("2011-03", _month("2011-03"))
    store.read_month("2011-03")
    # another process: its own engines, writing the same warehouse
    kept = dict(warehouse_module._FRAMES)
    resource.dispose()
    other = bike(Warehouse(url=resource.url))
    other.replace_month("2011-03", _month("2011-03", seed=9))
    resource.dispose()
    warehouse_module._FRAMES.update(kept)  # this process still holds the old frame
    pd.testing.assert_frame_equal(bike(resource).read_month("2011-03"),
                                  _month("2011-03", seed=9))


def test_months_loaded_come_from_the_record_of_writes(resource, reads):
    store = bike(resource)
    store.replace_month("2011-03", _month("2011-03"))
    assert store.month_counts() == {"2011-03": 31}  # the first call counts, once
    store.read_month("2011-03")
    assert reads == []  # and leaves the month's record, so its kept frame still stands
    store.replace_month("2011-04", _month("2011-04"))
    store.replace_month("2011-04", _month("2011-04").iloc[:0])  # emptied: no longer loaded
    store.replace_month("2011-05", _month("2011-05"))
    counts = _counts(store)
    assert store.month_counts() == {"2011-03": 31, "2011-05": 31}
    store.replace_month("2011-06", _month("2011-06"))
    assert store.month_counts() == {"2011-03": 31, "2011-05": 31, "2011-06": 30}
    assert counts == []  # the rows of current are not counted


def test_a_warehouse_loaded_before_writes_were_recorded_is_counted_once(resource, reads):
    store = bike(resource)
    store.replace_month("2011-03", _month("2011-03"))
    store.replace_month("2011-04", _month("2011-04"))
    with store.engine.begin() as conn:  # as an older version left it: no record of the loads
        conn.execute(warehouse_module.LOADS_TABLE.delete())
    counts = _counts(store)
    assert store.month_counts() == {"2011-03": 31, "2011-04": 30}
    assert len(counts) == 1  # counted by the database once
    store.replace_month("2011-05", _month("2011-05"))
    assert store.month_counts() == {"2011-03": 31, "2011-04": 30, "2011-05": 31}
    assert len(counts) == 1
    # a month whose frame was kept before is read afresh: its new token is not the old one
    pd.testing.assert_frame_equal(store.read_month("2011-04"), _month("2011-04"))
    assert len(reads) == 1


def test_text_and_times_read_back_as_written(resource):
    store = resource.dataset("support_tickets", tickets.SCHEMA)
    store.save_schema(tickets.SCHEMA)
    frame = conform(tickets.generate_month("2023-03", seed=1), "test", tickets.SCHEMA)
    frame.loc[3, "channel"] = pd.NA
    store.replace_month("2023-03", frame)
    pd.testing.assert_frame_equal(store.read_month("2023-03"), frame, check_exact=True)
    warehouse_module._FRAMES.clear()  # from the database, not the kept frame
    pd.testing.assert_frame_equal(store.read_month("2023-03"), frame, check_exact=True)


@pytest.mark.postgres
def test_postgres_reads_with_copy_to_stdout(pg_database):
    import psycopg

    url, _ = pg_database("copyout")
    resource = Warehouse(url=url)
    store = bike(resource)
    try:
        frame = _month("2011-03")
        frame.loc[4, "temp"] = None
        frame.loc[5, "cnt"] = pd.NA
        store.replace_month("2011-03", frame)
        warehouse_module._FRAMES.clear()
        copies = []
        real_copy = psycopg.Cursor.copy

        def spy(cursor, statement, *args, **kwargs):
            copies.append(str(statement))
            return real_copy(cursor, statement, *args, **kwargs)

        fetched = []
        real_fetch = psycopg.Cursor.fetchall
        psycopg.Cursor.copy = spy
        psycopg.Cursor.fetchall = lambda cursor: fetched.append(1) or real_fetch(cursor)
        try:
            read = store.read_month("2011-03")
            empty = store.read_month("2011-09")
        finally:
            psycopg.Cursor.copy, psycopg.Cursor.fetchall = real_copy, real_fetch
        pd.testing.assert_frame_equal(read, frame, check_exact=True)
        assert empty.empty and list(empty.columns) == BIKE.names
        assert len(copies) == 2 and all(c.startswith("COPY (SELECT") and
                                        c.endswith("TO STDOUT (FORMAT csv)") for c in copies)
        assert fetched == []  # no row came through the driver as a tuple
    finally:
        resource.dispose()
