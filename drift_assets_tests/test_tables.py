"""Tables made on first use, when another process makes them at the same moment."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from drift_assets.lib.tables import create_tables


def test_a_table_made_by_another_process_in_between_is_not_an_error(tmp_path):
    """The other process creates the table between this one's check and its CREATE: the
    real "already exists" from SQLite is taken as the table being there."""
    metadata = sa.MetaData()
    sa.Table("history", metadata, sa.Column("id", sa.Integer, primary_key=True))
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    other = sa.create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    raced = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def first_the_other(conn, cursor, statement, *args):
        if statement.lstrip().startswith("CREATE TABLE") and not raced:
            raced.append(statement)
            with other.begin() as c:
                c.exec_driver_sql("CREATE TABLE history (id INTEGER PRIMARY KEY)")

    with pytest.raises(sa.exc.OperationalError, match="already exists"):
        metadata.create_all(engine, checkfirst=True)  # what SQLAlchemy alone does
    raced.clear()
    with other.begin() as c:
        c.exec_driver_sql("DROP TABLE history")
    create_tables(metadata, engine)
    assert raced and sa.inspect(engine).has_table("history")
    other.dispose()
    engine.dispose()


def test_any_other_error_is_raised(tmp_path):
    metadata = sa.MetaData()
    sa.Table("history", metadata, sa.Column("id", sa.Integer, primary_key=True))
    (tmp_path / "ro").mkdir()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'ro' / 'missing' / 'w.db'}")
    with pytest.raises(sa.exc.OperationalError, match="unable to open"):
        create_tables(metadata, engine)
