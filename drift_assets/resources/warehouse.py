"""The warehouse: per dataset, tables ``reference`` and ``current`` and the dataset's records,
behind one SQLAlchemy URL.

SQLite (a file in the local data folder) is the embedded default; PostgreSQL is the production
choice. Each dataset lives in a namespace of its own, so two datasets share no table by
accident: a PostgreSQL schema ``drift_<dataset>``, or on SQLite a database file beside the main
one (``warehouse.<dataset>.db``) attached under that name. Everything the project keeps of a
dataset (its rows, month history, profiles, cursors, outbox, registry) is written through the
engine of :meth:`Warehouse.dataset`, whose unqualified tables SQLAlchemy places in that
namespace (``schema_translate_map``). The columns of ``reference`` and ``current`` are those of
the dataset's :class:`~drift_assets.lib.schema.Schema`.

Writing a month deletes that month's rows and inserts the new ones in one transaction, so a
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
import json
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd
import sqlalchemy as sa
from dagster import ConfigurableResource, EnvVar
from pydantic import Field

from drift_assets.lib.months import month_start, next_month
from drift_assets.lib.namespaces import PREFIX, namespace, namespace_of
from drift_assets.lib.schema import Schema
from drift_assets.lib.tables import create_tables

_TYPES = {"int": sa.BigInteger, "float": sa.Float, "date": sa.Date, "datetime": sa.DateTime,
          "text": sa.Text}


@cache
def data_tables(schema: Schema) -> tuple[sa.MetaData, sa.Table, sa.Table]:
    """The ``reference`` and ``current`` tables of a schema (unqualified: the engine of a
    dataset places them in its namespace)."""
    metadata = sa.MetaData()

    def table(name: str) -> sa.Table:
        columns = [sa.Column(c, _TYPES[k](), nullable=c not in (schema.key, schema.timestamp))
                   for c, k in schema.columns]
        return sa.Table(name, metadata, *columns,
                        sa.Index(f"ix_{name}_{schema.timestamp}", schema.timestamp))

    return metadata, table("reference"), table("current")


# The schema a dataset's tables were made with, so that a declared table whose kinds were
# inferred from its reference holds every later month to them.
SCHEMA_METADATA = sa.MetaData()
SCHEMA_TABLE = sa.Table(
    "table_schema", SCHEMA_METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("schema", sa.Text, nullable=False),  # JSON: columns, timestamp, key, labels, format
)


# One row per loaded month of ``current`` (and one, month '', for ``reference``): its row count
# and a token that every write of it replaces, in the write's own transaction. The months
# loaded are read from here rather than counted over the whole table, and a frame read once is
# reused while its token stands (see _FRAMES).
LOADS_METADATA = sa.MetaData()
LOADS_TABLE = sa.Table(
    "table_loads", LOADS_METADATA,
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("month", sa.Text, primary_key=True),  # 'YYYY-MM'; '' for the reference
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("token", sa.Text, nullable=False),
)
# The row saying that the months loaded before this table existed have been counted into it.
_COUNTED = ("current", "*")


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


_LOCK = threading.Lock()
_ENGINES: dict[str, sa.Engine] = {}
_SCOPED: dict[tuple[str, str], sa.Engine] = {}
_READY: set[tuple[str, str, Schema]] = set()


def _opened(url: str, make) -> sa.Engine:
    """``make()``'s engine, or an error that shows the URL only as :func:`redact_url` renders
    it (the driver's exception, whose text may hold the URL or pieces of the password, is
    neither the cause nor the context of the one raised)."""
    engine, problem = None, None
    try:
        engine = make()
    except Exception as exc:  # re-raised below, as a message that cannot hold the password
        problem = _reason(exc, url)
    if problem is None:
        return engine
    raise WarehouseConnectionError(f"cannot open the warehouse at {redact_url(url)}: {problem}")


def _engine(url: str) -> sa.Engine:
    """The engine of ``url``, connected once: a bad URL or a failed first connection raises an
    error that shows the URL only as :func:`redact_url` renders it."""
    with _LOCK:
        if url in _ENGINES:
            return _ENGINES[url]
        parsed = _parse_url(url)

        def make() -> sa.Engine:
            if parsed.get_backend_name() == "sqlite" and \
                    parsed.database not in (None, "", ":memory:"):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(parsed)
            try:
                with engine.connect():
                    pass
            except Exception:
                engine.dispose()
                raise
            return engine

        _ENGINES[url] = _opened(url, make)
        return _ENGINES[url]


def _attached_file(database: str | None, namespace: str) -> str:
    """The SQLite file of a namespace: ``warehouse.<dataset>.db`` beside ``warehouse.db``."""
    if not database or database == ":memory:":
        return ":memory:"
    path = Path(database)
    return str(path.with_name(f"{path.stem}.{namespace.removeprefix(PREFIX)}"
                              f"{path.suffix or '.db'}"))


def _scoped(url: str, namespace: str) -> sa.Engine:
    """An engine whose unqualified tables live in ``namespace``: a PostgreSQL schema (created
    once), or a SQLite database file attached to every connection under that name."""
    base = _engine(url)
    with _LOCK:
        if (url, namespace) in _SCOPED:
            return _SCOPED[url, namespace]

        def make() -> sa.Engine:
            if base.dialect.name == "sqlite":
                # a pool of its own, so that every connection in it has the file attached
                engine = sa.create_engine(base.url)
                attached = _attached_file(base.url.database, namespace)

                @sa.event.listens_for(engine, "connect")
                def _attach(dbapi_connection, _record):
                    # the namespace is [a-z][a-z0-9_]* (a checked dataset name): safe to quote
                    dbapi_connection.execute(f'ATTACH DATABASE ? AS "{namespace}"', (attached,))
            else:
                engine = base
                with engine.begin() as conn:
                    conn.execute(sa.schema.CreateSchema(namespace, if_not_exists=True))
            return engine.execution_options(schema_translate_map={None: namespace})

        _SCOPED[url, namespace] = _opened(url, make)
        return _SCOPED[url, namespace]


# Frames read from the warehouse, kept while the token of their month (or reference) in
# ``table_loads`` stands: the steps of one run in one process (the quality report, the
# reference profile, the drift report, the model's performance) read the month and the
# reference once instead of once each. A write elsewhere changes the token, and the next read
# goes to the database. Bounded by rows; the least recently used frame goes first.
_FRAMES: OrderedDict[tuple[str, str, str, str], tuple[str, pd.DataFrame]] = OrderedDict()
FRAMES_MAX_ROWS = 4_000_000


def _keep_frame(key: tuple[str, str, str, str], token: str, frame: pd.DataFrame) -> None:
    if len(frame) > FRAMES_MAX_ROWS:
        return
    with _LOCK:
        _FRAMES[key] = (token, frame)
        _FRAMES.move_to_end(key)
        while sum(len(f) for _, f in _FRAMES.values()) > FRAMES_MAX_ROWS:
            _FRAMES.popitem(last=False)


def _kept_frame(key: tuple[str, str, str, str], token: str) -> pd.DataFrame | None:
    with _LOCK:
        kept = _FRAMES.get(key)
        if kept is None or kept[0] != token:
            return None
        _FRAMES.move_to_end(key)
    return kept[1].copy()  # the caller may change its frame; the kept one stays as read


def dispose_all() -> None:
    """Close every pooled connection of every warehouse (tests drop their databases after)."""
    with _LOCK:
        for engine in [*_SCOPED.values(), *_ENGINES.values()]:
            engine.dispose()
        _SCOPED.clear()
        _ENGINES.clear()
        _READY.clear()
        _FRAMES.clear()


def typed(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The schema's types on a frame read back from SQL (drivers differ in what they return)."""
    out = pd.DataFrame(index=frame.index)
    for column, kind in schema.columns:
        values = frame[column]
        if kind == "date":
            out[column] = pd.to_datetime(values).dt.date
        elif kind == "datetime":
            out[column] = pd.to_datetime(values)
        elif kind == "int":
            out[column] = pd.to_numeric(values).astype("Int64")
        elif kind == "float":
            out[column] = pd.to_numeric(values).astype("float64")
        else:
            out[column] = values.astype("string")
    return out


def _insert_many(conn: sa.Connection, table: sa.Table, schema: Schema,
                 frame: pd.DataFrame) -> None:
    """INSERT ``frame``'s rows (SQLite) with the driver's own executemany, each value as
    SQLAlchemy's type would bind it (so a date or a time is stored as the SQLAlchemy path
    stores it), without a dict per row."""
    preparer = conn.dialect.identifier_preparer
    namespace = namespace_of(conn)
    target = f"{preparer.quote_schema(namespace)}.{preparer.quote(table.name)}" \
        if namespace else preparer.quote(table.name)
    marks = ", ".join(["?"] * len(schema.names))
    statement = (f"INSERT INTO {target} ({', '.join(preparer.quote(c) for c in schema.names)}) "
                 f"VALUES ({marks})")
    columns = []
    for name in schema.names:
        values = frame[name].astype(object)
        values = values.where(values.notna(), None).tolist()
        bind = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        columns.append(values if bind is None else
                       [None if v is None else bind(v) for v in values])
    conn.exec_driver_sql(statement, list(zip(*columns, strict=True)))


def _csv_chunks(frame: pd.DataFrame, schema: Schema, rows: int):
    """The schema's columns as CSV text for COPY, ``rows`` rows at a time; a missing value is an
    empty unquoted field, which COPY's CSV format reads as NULL.

    Arrow writes the text (a column at a time, in C: pandas' ``to_csv`` took most of a month's
    load); its floats are the shortest text that reads back as the same number, its strings
    quoted. A chunk Arrow cannot take as it is (a text column holding other objects) is
    written by pandas."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    columns = frame[schema.names]
    for start in range(0, len(columns), rows):
        part = columns.iloc[start:start + rows]
        buffer = io.BytesIO()
        try:
            table = pa.Table.from_pandas(part, preserve_index=False)
            pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
        except (pa.ArrowException, TypeError, ValueError):
            text = io.StringIO()
            part.to_csv(text, header=False, index=False, na_rep="")
            yield text.getvalue()
            continue
        yield buffer.getvalue().decode()


def _copy(conn: sa.Connection, table: sa.Table, schema: Schema, frame: pd.DataFrame,
          rows: int) -> None:
    """COPY ``frame`` into ``table`` on the DBAPI connection of ``conn``'s transaction, so the
    caller's delete and this load commit or roll back together."""
    preparer = conn.dialect.identifier_preparer
    target = f"{preparer.quote_schema(namespace_of(conn))}.{preparer.quote(table.name)}" \
        if namespace_of(conn) else preparer.format_table(table)
    statement = (f"COPY {target} ({', '.join(preparer.quote(c) for c in schema.names)}) "
                 "FROM STDIN (FORMAT csv)")
    dbapi = conn.dialect.loaded_dbapi
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor:
            if conn.dialect.driver == "psycopg2":
                for chunk in _csv_chunks(frame, schema, rows):
                    cursor.copy_expert(statement, io.StringIO(chunk))
            else:  # psycopg 3
                with cursor.copy(statement) as copy:
                    for chunk in _csv_chunks(frame, schema, rows):
                        copy.write(chunk)
    except dbapi.Error as exc:
        # The same exception classes as the SQLAlchemy path (IntegrityError, DataError, …).
        raise sa.exc.DBAPIError.instance(statement, None, exc, dbapi.Error,
                                         dialect=conn.dialect) from exc


# The Arrow type a column of each kind is read as from PostgreSQL's CSV, and the pandas type
# it becomes (an integer column keeps its missing values without passing through float).
_ARROW_KINDS = {"int": "int64", "float": "float64", "date": "date32", "datetime": "timestamp",
                "text": "string"}


def _copy_out(conn: sa.Connection, query, namespace: str, schema: Schema) -> pd.DataFrame:
    """The rows of ``query`` (columns of ``schema``) by ``COPY (query) TO STDOUT``: the server
    sends CSV in large blocks, which Arrow parses column by column, instead of a Python tuple
    a row through the driver. In the caller's transaction; the query's unqualified tables are
    found in ``namespace`` (its search path, for this transaction only)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [c.name for c in query.selected_columns]
    kinds = schema.kinds
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    statement = f"COPY ({sql}) TO STDOUT (FORMAT csv)"
    preparer = conn.dialect.identifier_preparer
    buffer = io.BytesIO()
    with conn.begin():
        conn.exec_driver_sql(f"SET LOCAL search_path TO {preparer.quote_schema(namespace)}")
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            if conn.dialect.driver == "psycopg2":
                cursor.copy_expert(statement, buffer)
            else:  # psycopg 3
                with cursor.copy(statement) as copy:
                    for block in copy:
                        buffer.write(block)
    types = {n: getattr(pa, _ARROW_KINDS[kinds[n]])() if kinds[n] != "datetime"
             else pa.timestamp("us") for n in names}
    if not buffer.getbuffer().nbytes:  # no rows: Arrow reads no columns from an empty text
        return pa.schema(types).empty_table().to_pandas(
            types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    table = pacsv.read_csv(
        pa.py_buffer(buffer.getbuffer()),
        read_options=pacsv.ReadOptions(column_names=names),
        # COPY writes NULL as an empty field and an empty text as ""
        convert_options=pacsv.ConvertOptions(column_types=types, null_values=[""],
                                             strings_can_be_null=True,
                                             quoted_strings_can_be_null=False))
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get,
                           coerce_temporal_nanoseconds=True)


def _sqlite_rows(conn: sa.Connection, query, schema: Schema) -> pd.DataFrame:
    """The rows of ``query`` (columns of ``schema``) as SQLite holds them, taken from the
    driver's cursor without SQLAlchemy's conversion of each value (dates and times stay the
    text SQLite stores, which :func:`typed` parses a column at once), and made into one array
    a column."""
    names = [c.name for c in query.selected_columns]
    kinds = schema.kinds
    rows = conn.execute(query).cursor.fetchall()
    columns = zip(*rows, strict=True) if rows else ([] for _ in names)
    data = {}
    for name, values in zip(names, columns, strict=True):
        if kinds[name] == "int":  # exact, missing values included (never through a float)
            data[name] = pd.array(values, dtype="Int64")
        elif kinds[name] == "float":
            data[name] = np.array(values, dtype=np.float64)  # None is NaN
        else:
            data[name] = np.array(values, dtype=object)
    return pd.DataFrame(data, columns=names)


@dataclass(frozen=True)
class _Address:
    """The warehouse URL on its way to a Dask worker, as a task argument. Dask shows task
    arguments (workers before 2025 logged a failed task's arguments; debuggers and the
    dashboard show them); this one shows the password hidden."""

    url: str = field(repr=False)

    def __repr__(self) -> str:
        return f"_Address({redact_url(self.url)!r})"


def _read_days(address: _Address, chunk_rows: int, dataset: str, schema: Schema, table: str,
               first: dt.date, last: dt.date) -> pd.DataFrame:
    """The rows of ``table`` from ``first`` to ``last`` (a partition of :meth:`dask_window`)."""
    store = Warehouse(url=address.url, chunk_rows=chunk_rows).dataset(dataset, schema)
    source = store.table(table)
    time = source.c[schema.timestamp]
    query = sa.select(source).where(*store.between(time, first, last + dt.timedelta(days=1)))
    return store.read(query.order_by(*store.order(source)))


def _schema_json(schema: Schema) -> str:
    return json.dumps({"columns": [list(c) for c in schema.columns],
                       "timestamp": schema.timestamp, "key": schema.key,
                       "labels": list(schema.labels),
                       "timestamp_format": schema.timestamp_format})


def _schema_from_json(text: str) -> Schema:
    data = json.loads(text)
    return Schema(tuple(tuple(c) for c in data["columns"]), data["timestamp"], data["key"],
                  tuple(data["labels"]), data["timestamp_format"])


class Warehouse(ConfigurableResource):
    """Every dataset's reference and monthly current data, and its records, in a SQL
    database; :meth:`dataset` gives one dataset's part of it."""

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
        """The bare database, outside every dataset's namespace."""
        return _engine(self.resolved_url)

    def dataset(self, name: str, schema: Schema | None = None) -> DatasetWarehouse:
        """The part of the warehouse that holds dataset ``name``; ``schema`` is its tables'
        columns (None: the schema stored when its reference was loaded)."""
        return DatasetWarehouse(self, name, schema)

    def dispose(self) -> None:
        """Close pooled connections (tests drop their databases afterwards)."""
        dispose_all()


class DatasetWarehouse:
    """One dataset's tables and records, in its own namespace of the warehouse."""

    def __init__(self, warehouse: Warehouse, name: str, schema: Schema | None = None):
        self.warehouse, self.name = warehouse, name
        self.namespace = namespace(name)
        self.engine = _scoped(warehouse.resolved_url, self.namespace)
        self.chunk_rows = warehouse.chunk_rows
        self._schema = schema

    # --- the schema ---

    def stored_schema(self) -> Schema | None:
        """The schema the dataset's tables were made with, if any."""
        create_tables(SCHEMA_METADATA, self.engine)
        with self.engine.connect() as conn:
            text = conn.execute(sa.select(SCHEMA_TABLE.c.schema)).scalar()
        return None if text is None else _schema_from_json(text)

    @property
    def schema(self) -> Schema:
        if self._schema is None:
            self._schema = self.stored_schema()
        if self._schema is None:
            raise ValueError(f"dataset {self.name!r} has no tables yet: materialize its "
                             "reference_table first")
        return self._schema

    def save_schema(self, schema: Schema) -> None:
        """Make the tables of ``schema`` the dataset's. The same schema again changes nothing;
        another one replaces the tables only while no month is loaded (the months loaded hold
        the old kinds), and is refused naming the change otherwise."""
        stored = self.stored_schema()
        if stored == schema:
            self._schema = schema
            return
        if stored is not None:
            _, _, current = data_tables(stored)
            with self.engine.connect() as conn:
                loaded = conn.execute(sa.select(sa.func.count()).select_from(current)).scalar()
            if loaded:
                raise ValueError(f"dataset {self.name!r}: the reference's columns are not "
                                 f"those of the {loaded} rows already loaded "
                                 f"({_difference(stored, schema)}); load the months again "
                                 "after clearing them, or keep the reference's columns")
            metadata, _, _ = data_tables(stored)
            metadata.drop_all(self.engine, checkfirst=True)
            _READY.discard((self.warehouse.resolved_url, self.namespace, stored))
        create_tables(LOADS_METADATA, self.engine)
        with self.engine.begin() as conn:
            conn.execute(LOADS_TABLE.delete())  # the tables are new: nothing of them is loaded
            conn.execute(SCHEMA_TABLE.delete())
            conn.execute(SCHEMA_TABLE.insert().values(id=1, schema=_schema_json(schema)))
        self._schema = schema

    def table(self, name: str) -> sa.Table:
        """``reference`` or ``current``, created in the namespace on first use."""
        schema = self.schema
        metadata, reference, current = data_tables(schema)
        ready = (self.warehouse.resolved_url, self.namespace, schema)
        if ready not in _READY:
            create_tables(metadata, self.engine)
            create_tables(LOADS_METADATA, self.engine)
            _READY.add(ready)
        return reference if name == "reference" else current

    def order(self, table: sa.Table) -> list:
        return [table.c[c] for c in self.schema.order]

    def _bound(self, day: dt.date):
        """A day as the timestamp column compares: a date, or midnight of it."""
        if self.schema.kinds[self.schema.timestamp] == "datetime":
            return dt.datetime(day.year, day.month, day.day)
        return day

    def between(self, time, first: dt.date, end: dt.date) -> list:
        """Conditions: ``time`` from the day ``first`` up to the day ``end`` (excluded)."""
        return [time >= self._bound(first), time < self._bound(end)]

    def _in_month(self, table: sa.Table, first: dt.date):
        return sa.and_(*self.between(table.c[self.schema.timestamp], first, next_month(first)))

    # --- writing ---

    def _loaded(self, conn: sa.Connection, table: str, month: str, rows: int) -> str:
        """Record a write of ``month`` of ``table`` ('' for the reference) with a new token, in
        the write's transaction; returns the token."""
        loads = LOADS_TABLE
        token = uuid.uuid4().hex
        conn.execute(loads.delete().where(loads.c.table_name == table, loads.c.month == month))
        conn.execute(loads.insert().values(table_name=table, month=month, rows=rows,
                                           token=token))
        return token

    def _keep_written(self, table: str, month: str, token: str,
                      frames: list[pd.DataFrame] | None) -> None:
        """Keep the rows just written (and committed) as a read would return them, so that
        the steps after the write read nothing back. Only where that frame is certain: the
        rows have a key (one order), and no time finer than the microsecond the databases
        keep."""
        schema = self.schema
        if not frames or schema.key is None:
            return
        frame = pd.concat(frames, ignore_index=True) if len(frames) != 1 else frames[0]
        for column, kind in schema.columns:
            if kind == "datetime" and (pd.to_datetime(frame[column]).dt.nanosecond != 0).any():
                return
        frame = typed(frame, schema).sort_values(schema.order, kind="stable")
        _keep_frame((self.warehouse.resolved_url, self.namespace, table, month), token,
                    frame.reset_index(drop=True))

    def _insert(self, conn: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        if conn.dialect.name == "postgresql" and conn.dialect.driver in ("psycopg", "psycopg2"):
            _copy(conn, table, self.schema, frame, self.chunk_rows)
        elif conn.dialect.name == "sqlite":
            _insert_many(conn, table, self.schema, frame)
        else:
            records = frame[self.schema.names].astype(object)
            conn.execute(table.insert(), records.where(records.notna(), None).to_dict("records"))

    def replace_reference(self, frame: pd.DataFrame) -> int:
        """Replace the whole reference table with ``frame``; returns the rows written."""
        table = self.table("reference")
        with self.engine.begin() as conn:
            conn.execute(table.delete())
            self._insert(conn, table, frame)
            token = self._loaded(conn, "reference", "", len(frame))
        self._keep_written("reference", "", token, [frame])
        return len(frame)

    def replace_month(self, month: str | dt.date, frame: pd.DataFrame) -> int:
        """Replace one month of ``current`` with ``frame`` atomically; returns the rows written."""
        return self.replace_month_chunks(month, [frame])

    def replace_month_chunks(self, month: str | dt.date, chunks: Iterable[pd.DataFrame]) -> int:
        """Replace one month with the rows of ``chunks``, written (COPY on PostgreSQL) one chunk
        at a time in one transaction: a large month never sits in memory whole, and a chunk that
        fails, or a source that raises between chunks, leaves the month as it was."""
        first = month_start(month)
        table = self.table("current")
        time = self.schema.timestamp
        rows, written = 0, []
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Two attempts at one month (a step re-run by Celery's late acknowledgement
                # while the first still writes) take turns: the second's delete then sees the
                # first's rows, so the month is replaced, never doubled. Released at commit.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(
                    sa.func.hashtext(f"drift_assets {self.namespace} current {first:%Y-%m}"))))
            conn.execute(table.delete().where(self._in_month(table, first)))
            low, high = self._bound(first), self._bound(next_month(first))
            for frame in chunks:
                times = frame[time]
                if len(frame) and not ((times >= low) & (times < high)).all():
                    raise ValueError(f"rows outside {first:%Y-%m} given for that month")
                self._insert(conn, table, frame)
                rows += len(frame)
                # kept for the steps that read the month next, unless it is too large to keep
                written = written if written is not None and rows <= FRAMES_MAX_ROWS else None
                if written is not None:
                    written.append(frame)
            token = self._loaded(conn, "current", f"{first:%Y-%m}", rows)
        self._keep_written("current", f"{first:%Y-%m}", token, written)
        return rows

    # --- reading ---

    def read(self, query) -> pd.DataFrame:
        return typed(self._read_raw(query), self.schema)

    def read_reference(self) -> pd.DataFrame:
        """The reference table, in the schema's order."""
        table = self.table("reference")
        return self._read_kept("reference", "",
                               sa.select(table).order_by(*self.order(table)))

    def read_month(self, month: str | dt.date) -> pd.DataFrame:
        """One month of ``current``, in the schema's order."""
        table = self.table("current")
        first = month_start(month)
        query = sa.select(table).where(self._in_month(table, first))
        return self._read_kept("current", f"{first:%Y-%m}",
                               query.order_by(*self.order(table)))

    def _read_kept(self, table: str, month: str, query) -> pd.DataFrame:
        """``query``'s rows, or the frame kept from an earlier read of the same load. The
        token is read before the rows: a write in between leaves a frame kept under the old
        token, which no later read takes."""
        loads = LOADS_TABLE
        with self.engine.connect() as conn:
            token = conn.execute(sa.select(loads.c.token).where(
                loads.c.table_name == table, loads.c.month == month)).scalar()
        key = (self.warehouse.resolved_url, self.namespace, table, month)
        if token is not None:
            kept = _kept_frame(key, token)
            if kept is not None:
                return kept
        frame = self.read(query)
        if token is None:  # written before tokens were kept: nothing tells a later write
            return frame
        _keep_frame(key, token, frame)
        return frame.copy()

    def read_current(self, until: str | dt.date | None = None) -> pd.DataFrame:
        """All current rows, or those of the months up to and including ``until``."""
        table = self.table("current")
        query = sa.select(table)
        if until is not None:
            end = self._bound(next_month(month_start(until)))
            query = query.where(table.c[self.schema.timestamp] < end)
        return self.read(query.order_by(*self.order(table)))

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

        table = self.table("reference" if months is None else "current")
        day = sa.func.date(table.c[self.schema.timestamp])
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
        address = _Address(self.warehouse.resolved_url)
        meta = typed(pd.DataFrame({c: pd.Series(dtype=object) for c in self.schema.names}),
                     self.schema)
        parts = [dask.delayed(_read_days)(address, self.chunk_rows, self.name, self.schema,
                                          table.name, first, last)
                 for first, last, _ in spans]
        frame = dd.from_delayed(parts, meta=meta) if parts else dd.from_pandas(meta, npartitions=1)
        return frame, sum(rows for *_, rows in spans)

    def month_counts(self) -> dict[str, int]:
        """Rows of ``current`` per month, 'YYYY-MM' -> rows, as each month's write recorded
        them: one small table read, however many months are loaded. Months loaded before
        writes were recorded are counted by the database once, on the first call."""
        if self._schema is None and self.stored_schema() is None:
            return {}
        self.table("current")
        loads = LOADS_TABLE
        query = sa.select(loads.c.month, loads.c.rows).where(
            loads.c.table_name == "current").order_by(loads.c.month)
        with self.engine.connect() as conn:
            recorded = {str(m): int(n) for m, n in conn.execute(query)}
        if "*" not in recorded:
            return self._count_months(recorded)
        return {m: n for m, n in recorded.items() if m != "*" and n}

    def _count_months(self, recorded: dict[str, int]) -> dict[str, int]:
        """Count the rows of every month by the database and record the months not
        ``recorded`` yet (a warehouse loaded before ``table_loads`` existed), with the row
        saying it was done; the months already recorded keep their row and token."""
        table = self.table("current")
        time = table.c[self.schema.timestamp]
        month = (sa.func.to_char(time, "YYYY-MM") if self.engine.dialect.name == "postgresql"
                 else sa.func.strftime("%Y-%m", time))
        query = sa.select(month, sa.func.count()).group_by(month).order_by(month)
        loads = LOADS_TABLE
        try:
            with self.engine.begin() as conn:
                counts = {str(m): int(n) for m, n in conn.execute(query)}
                rows = [{"table_name": "current", "month": m, "rows": n,
                         "token": uuid.uuid4().hex} for m, n in counts.items()
                        if m not in recorded]
                conn.execute(loads.insert(), [*rows, {"table_name": _COUNTED[0],
                                                      "month": _COUNTED[1], "rows": 0,
                                                      "token": ""}])
        except sa.exc.IntegrityError:
            # a month written at the same moment recorded itself first: counted next time
            with self.engine.connect() as conn:
                counts = {str(m): int(n) for m, n in conn.execute(query)}
        return counts

    def _read_raw(self, query) -> pd.DataFrame:
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql" and \
                    conn.dialect.driver in ("psycopg", "psycopg2") and \
                    {c.name for c in query.selected_columns} <= set(self.schema.names):
                return _copy_out(conn, query, self.namespace, self.schema)
            if conn.dialect.name == "sqlite" and \
                    {c.name for c in query.selected_columns} <= set(self.schema.names):
                return _sqlite_rows(conn, query, self.schema)
            return pd.read_sql(query, conn)


def _difference(old: Schema, new: Schema) -> str:
    """The first change between two schemas, in words."""
    old_kinds, new_kinds = old.kinds, new.kinds
    for column in old_kinds:
        if column not in new_kinds:
            return f"column {column!r} is gone"
        if old_kinds[column] != new_kinds[column]:
            return f"column {column!r} was {old_kinds[column]}, now {new_kinds[column]}"
    for column in new_kinds:
        if column not in old_kinds:
            return f"column {column!r} is new"
    return "the timestamp, key or labels changed"
