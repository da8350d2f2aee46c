"""The warehouse: tables ``reference`` and ``current`` behind one SQLAlchemy URL.

SQLite (a file in the local data folder) is the embedded default; PostgreSQL is the production
choice. Writing a month deletes that month's rows and inserts the new ones in one transaction, so a
re-run replaces the month and a failure leaves the table as it was; on PostgreSQL two writes of
one month at once take turns (an advisory lock), so they cannot double it.

On PostgreSQL the rows go in with COPY (on the connection of that same transaction) and reads are
streamed from a server-side cursor in chunks; SQLite uses executemany and plain reads.

The URL carries the database password, so nothing here lets it reach a message: a URL that
cannot be parsed exactly is refused with words that say why (never its text), errors of the first
connection are re-raised with the URL shown as :func:`redact_url` renders it and the driver's
reason scrubbed of the password, without chaining the driver's exception, and the resource's repr
and the arguments of its Dask tasks show the URL with the password hidden.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import sqlalchemy as sa
from dagster import ConfigurableResource, EnvVar
from pydantic import Field

from drift_assets.lib.months import month_start, next_month
from drift_assets.lib.schema import COLUMNS, DATE_COLUMN

_TYPES = {"int": sa.BigInteger, "float": sa.Float, "date": sa.Date}
METADATA = sa.MetaData()


def _table(name: str) -> sa.Table:
    columns = [sa.Column(c, _TYPES[k](), nullable=c not in ("instant", DATE_COLUMN))
               for c, k in COLUMNS.items()]
    return sa.Table(name, METADATA, *columns, sa.Index(f"ix_{name}_{DATE_COLUMN}", DATE_COLUMN))


REFERENCE = _table("reference")
CURRENT = _table("current")


class WarehouseURLError(ValueError):
    """The warehouse URL is not one SQLAlchemy reads as its author meant; the message says what
    is wrong in words and holds nothing of the URL."""


class WarehouseConnectionError(ConnectionError):
    """The warehouse at a well-formed URL could not be opened; the message shows the URL with
    its password hidden and the driver's reason scrubbed of it."""


_URL_FORM = "dialect[+driver]://user:password@host:port/database"
_SCHEME = re.compile(r"[\w+]+(?=://)")
# SQLAlchemy's own split of the credentials: user up to ':', password up to the first '@'
_CREDENTIALS = re.compile(r"[\w+]+://[^:/]*:([^@]*)@")
_HIDDEN = "***"


def _parse_url(url: str) -> sa.URL:
    """The parsed URL, or :class:`WarehouseURLError` saying what is wrong with it.

    A password holding a raw '@' is the usual culprit: SQLAlchemy (like libpq) ends the
    password at the first '@' and reads the rest of it as the host, the port, the database or a
    query, which then show in the driver's messages ("failed to resolve host …"). So a URL
    with more than one '@' is refused before any driver sees it: the one '@' a URL holds ends
    its credentials, and an '@' anywhere else is written %40.
    """
    problem = None
    if url.count("@") > 1:
        problem = (f"it holds {url.count('@')} '@' where a URL holds one, before the host: "
                   "percent-encode the user name and the password ('@' as %40, '/' as %2F, "
                   "':' as %3A, '%' as %25)")
    else:
        try:
            parsed = sa.make_url(url)
        except ValueError:  # int() of the text after the host's ':'
            problem = "its port is not a number"
        except sa.exc.ArgumentError:
            problem = f"it is not of the form {_URL_FORM}"
    if problem is None:
        return parsed
    # raised outside the except clauses: no context that could print the URL's pieces
    raise WarehouseURLError(
        f"the warehouse URL (DRIFT_WAREHOUSE_URL) is not a valid SQLAlchemy URL: {problem}")


def redact_url(url: str) -> str:
    """``url`` with its password hidden, for messages: ``postgresql://drift:***@host:5432/db``.

    With more than one '@' the credentials, as their author meant them, run to the last one:
    only what follows it shows. A URL that does not parse shows its scheme alone; query values
    whose key names a password are hidden too.
    """
    scheme = _SCHEME.match(url)
    scheme = scheme.group(0) if scheme else ""
    if url.count("@") > 1:
        return f"{scheme}://{_HIDDEN}@{url.rpartition('@')[2]}"
    try:
        parsed = sa.make_url(url)
    except (ValueError, sa.exc.ArgumentError):
        return f"{scheme}://{_HIDDEN}"
    secret_keys = [key for key in parsed.query if "pass" in key.lower()]
    if secret_keys:
        parsed = parsed.update_query_dict({key: "HIDDEN" for key in secret_keys})
    return parsed.render_as_string(hide_password=True).replace("=HIDDEN", f"={_HIDDEN}")


def _secrets(url: str) -> list[str]:
    """Every text of ``url`` that could carry its password, longest first: the URL itself, the
    password as written, parsed and percent-encoded, and its pieces between '@'s."""
    passwords = set()
    credentials = _CREDENTIALS.match(url)
    if credentials:
        passwords.add(credentials.group(1))
    # as its author meant it: the password runs to the last '@' before the host
    authority = url.split("://", 1)[-1].rsplit("@", 1)
    if len(authority) == 2 and ":" in authority[0]:
        passwords.add(authority[0].split(":", 1)[1])
    urls = {url}
    try:
        parsed = sa.make_url(url)
    except (ValueError, sa.exc.ArgumentError):
        parsed = None
    if parsed is not None:
        urls.add(parsed.render_as_string(hide_password=False))
        passwords |= {parsed.password or ""} | {
            value for key, value in parsed.query.items()
            if "pass" in key.lower() and isinstance(value, str)}
        passwords |= {quote(password, safe="") for password in passwords}
    # pieces shorter than 4 characters would garble the message and carry little of a secret
    pieces = {piece for password in passwords for piece in password.split("@") if len(piece) >= 4}
    return sorted((text for text in urls | passwords | pieces if text), key=len, reverse=True)


def _reason(exc: BaseException, url: str) -> str:
    """One line of what went wrong, from the driver's own message, without the URL or any part
    of its password."""
    cause = getattr(exc, "orig", None) or exc  # a DBAPIError's driver error, without SQL
    lines = [line.strip() for line in str(cause).splitlines()]
    text = "; ".join(line for line in lines if line and not line.startswith("(Background on"))
    for secret in _secrets(url):
        text = text.replace(secret, _HIDDEN)
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


@cache
def _engine(url: str) -> sa.Engine:
    """The engine of ``url``, its tables created: a bad URL or a failed first connection raises
    an error that shows the URL only as :func:`redact_url` renders it."""
    parsed = _parse_url(url)
    engine, problem = None, None
    try:
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed)
        METADATA.create_all(engine, checkfirst=True)
    except Exception as exc:  # re-raised below, as a message that cannot hold the password
        problem = _reason(exc, url)
    if problem is None:
        return engine
    if engine is not None:
        engine.dispose()
    # raised outside the except clause: the driver's exception, whose text may hold the URL or
    # pieces of the password, is neither the cause nor the context of this one
    raise WarehouseConnectionError(f"cannot open the warehouse at {redact_url(url)}: {problem}")


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The schema's types on a frame read back from SQL (drivers differ in what they return)."""
    out = pd.DataFrame(index=frame.index)
    for column, kind in COLUMNS.items():
        values = frame[column]
        if kind == "date":
            out[column] = pd.to_datetime(values).dt.date
        elif kind == "int":
            out[column] = pd.to_numeric(values).astype("Int64")
        else:
            out[column] = pd.to_numeric(values).astype("float64")
    return out


def _records(frame: pd.DataFrame) -> list[dict]:
    columns = frame[list(COLUMNS)].astype(object)
    return columns.where(columns.notna(), None).to_dict("records")


def _csv_chunks(frame: pd.DataFrame, rows: int):
    """The schema's columns as CSV text for COPY, ``rows`` rows at a time; a missing value is an
    empty unquoted field, which COPY's CSV format reads as NULL."""
    columns = frame[list(COLUMNS)]
    for start in range(0, len(columns), rows):
        buffer = io.StringIO()
        columns.iloc[start:start + rows].to_csv(buffer, header=False, index=False, na_rep="")
        yield buffer.getvalue()


def _copy(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame, rows: int) -> None:
    """COPY ``frame`` into ``table`` on the DBAPI connection of ``conn``'s transaction, so the
    caller's delete and this load commit or roll back together."""
    preparer = conn.dialect.identifier_preparer
    statement = (f"COPY {preparer.format_table(table)} "
                 f"({', '.join(preparer.quote(c) for c in COLUMNS)}) FROM STDIN (FORMAT csv)")
    dbapi = conn.dialect.loaded_dbapi
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor:
            if conn.dialect.driver == "psycopg2":
                for chunk in _csv_chunks(frame, rows):
                    cursor.copy_expert(statement, io.StringIO(chunk))
            else:  # psycopg 3
                with cursor.copy(statement) as copy:
                    for chunk in _csv_chunks(frame, rows):
                        copy.write(chunk)
    except dbapi.Error as exc:
        # The same exception classes as the SQLAlchemy path (IntegrityError, DataError, …).
        raise sa.exc.DBAPIError.instance(statement, None, exc, dbapi.Error,
                                         dialect=conn.dialect) from exc


@dataclass(frozen=True)
class _Address:
    """The warehouse URL on its way to a Dask worker, as a task argument. Dask shows task
    arguments (workers before 2025 logged a failed task's arguments; debuggers and the
    dashboard show them); this one shows the password hidden."""

    url: str = field(repr=False)

    def __repr__(self) -> str:
        return f"_Address({redact_url(self.url)!r})"


def _read_days(address: _Address, chunk_rows: int, table: str, first: dt.date, last: dt.date
               ) -> pd.DataFrame:
    """The rows of ``table`` from ``first`` to ``last`` (a partition of :meth:`dask_window`)."""
    source = METADATA.tables[table]
    day = source.c[DATE_COLUMN]
    query = sa.select(source).where(day >= first, day <= last).order_by(day, source.c.instant)
    return Warehouse(url=address.url, chunk_rows=chunk_rows)._read(query)


class Warehouse(ConfigurableResource):
    """Reference and monthly current data in a SQL database."""

    url: str = Field(description="SQLAlchemy URL, e.g. sqlite:///data/warehouse.db or postgresql://…")
    chunk_rows: int = Field(
        default=50_000, description="PostgreSQL: rows per COPY write and per streamed read"
    )

    def __repr_args__(self):
        # pydantic's repr and str of the resource: the URL with its password hidden
        for name, value in super().__repr_args__():
            if name == "url" and isinstance(value, str) and not isinstance(value, EnvVar):
                value = redact_url(value)
            yield name, value

    @property
    def resolved_url(self) -> str:
        # Outside a Dagster run (CLI, tests) an EnvVar field is still the variable's name.
        return self.url.get_value() if isinstance(self.url, EnvVar) else self.url

    @property
    def engine(self) -> sa.Engine:
        return _engine(self.resolved_url)

    def dispose(self) -> None:
        """Close pooled connections (tests drop their databases afterwards)."""
        self.engine.dispose()
        _engine.cache_clear()

    def _insert(self, conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        if conn.dialect.name == "postgresql" and conn.dialect.driver in ("psycopg", "psycopg2"):
            _copy(conn, table, frame, self.chunk_rows)
        else:
            conn.execute(table.insert(), _records(frame))

    def replace_reference(self, frame: pd.DataFrame) -> int:
        """Replace the whole reference table with ``frame``; returns the rows written."""
        with self.engine.begin() as conn:
            conn.execute(REFERENCE.delete())
            self._insert(conn, REFERENCE, frame)
        return len(frame)

    def replace_month(self, month: str | dt.date, frame: pd.DataFrame) -> int:
        """Replace one month of ``current`` with ``frame`` atomically; returns the rows written."""
        return self.replace_month_chunks(month, [frame])

    def replace_month_chunks(self, month: str | dt.date, chunks: Iterable[pd.DataFrame]) -> int:
        """Replace one month with the rows of ``chunks``, written (COPY on PostgreSQL) one chunk
        at a time in one transaction: a large month never sits in memory whole, and a chunk that
        fails, or a source that raises between chunks, leaves the month as it was."""
        first = month_start(month)
        rows = 0
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Two attempts at one month (a step re-run by Celery's late acknowledgement
                # while the first still writes) take turns: the second's delete then sees the
                # first's rows, so the month is replaced, never doubled. Released at commit.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(
                    sa.func.hashtext(f"drift_assets current {first:%Y-%m}"))))
            conn.execute(CURRENT.delete().where(self._in_month(CURRENT, first)))
            for frame in chunks:
                days = frame[DATE_COLUMN]
                if len(frame) and not ((days >= first) & (days < next_month(first))).all():
                    raise ValueError(f"rows outside {first:%Y-%m} given for that month")
                self._insert(conn, CURRENT, frame)
                rows += len(frame)
        return rows

    @staticmethod
    def _in_month(table: sa.Table, first: dt.date):
        day = table.c[DATE_COLUMN]
        return sa.and_(day >= first, day < next_month(first))

    def _read(self, query) -> pd.DataFrame:
        return typed(self._read_raw(query))

    def read_reference(self) -> pd.DataFrame:
        query = sa.select(REFERENCE)
        return self._read(query.order_by(REFERENCE.c[DATE_COLUMN], REFERENCE.c.instant))

    def read_month(self, month: str | dt.date) -> pd.DataFrame:
        first = month_start(month)
        query = sa.select(CURRENT).where(self._in_month(CURRENT, first))
        return self._read(query.order_by(CURRENT.c[DATE_COLUMN], CURRENT.c.instant))

    def read_current(self, until: str | dt.date | None = None) -> pd.DataFrame:
        """All current rows, or those of the months up to and including ``until``."""
        query = sa.select(CURRENT)
        if until is not None:
            query = query.where(CURRENT.c[DATE_COLUMN] < next_month(month_start(until)))
        return self._read(query.order_by(CURRENT.c[DATE_COLUMN], CURRENT.c.instant))

    def read_window(self, months: list[str] | None) -> pd.DataFrame:
        """The reference table (``months`` None), or those months of ``current`` in order."""
        if months is None:
            return self.read_reference()
        return pd.concat([self.read_month(m) for m in months], ignore_index=True)

    def dask_window(self, months: list[str] | None, partition_rows: int = 1_000_000):
        """:meth:`read_window` as a Dask frame, and its row count: consecutive days packed into
        partitions of about ``partition_rows`` rows, each read from the database by the worker
        that computes it, so the window never passes through this process whole."""
        import dask
        import dask.dataframe as dd

        table = REFERENCE if months is None else CURRENT
        day = table.c[DATE_COLUMN]
        query = sa.select(day, sa.func.count()).group_by(day).order_by(day)
        if months is not None:
            query = query.where(sa.or_(*(self._in_month(table, month_start(m)) for m in months)))
        with self.engine.connect() as conn:
            counts = [(pd.Timestamp(d).date(), int(n)) for d, n in conn.execute(query)]
        spans: list[list] = []
        for first, rows in counts:
            if spans and spans[-1][2] + rows <= partition_rows:
                spans[-1][1:] = [first, spans[-1][2] + rows]
            else:
                spans.append([first, first, rows])
        # The URL goes to the workers inside the task, never into a key (keys are hashes), and
        # the task's argument shows it with the password hidden.
        address = _Address(self.resolved_url)
        meta = typed(pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS}))
        parts = [dask.delayed(_read_days)(address, self.chunk_rows, table.name, first, last)
                 for first, last, _ in spans]
        frame = dd.from_delayed(parts, meta=meta) if parts else dd.from_pandas(meta, npartitions=1)
        return frame, sum(rows for *_, rows in spans)

    def month_counts(self) -> dict[str, int]:
        """Rows of ``current`` per month, 'YYYY-MM' -> rows, counted by the database."""
        day = CURRENT.c[DATE_COLUMN]
        month = (sa.func.to_char(day, "YYYY-MM") if self.engine.dialect.name == "postgresql"
                 else sa.func.strftime("%Y-%m", day))
        query = sa.select(month, sa.func.count()).group_by(month).order_by(month)
        with self.engine.connect() as conn:
            return {str(m): int(n) for m, n in conn.execute(query)}

    def _read_raw(self, query) -> pd.DataFrame:
        with self.engine.connect() as conn:
            if conn.dialect.name != "postgresql":
                return pd.read_sql(query, conn)
            # A server-side cursor: the database sends chunk_rows rows at a time, not the whole
            # result at once, and each chunk becomes a frame.
            streamed = conn.execution_options(stream_results=True, max_row_buffer=self.chunk_rows)
            chunks = list(pd.read_sql(query, streamed, chunksize=self.chunk_rows))
            return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
