"""Loading a table from a path or URL, CSV or Parquet, checked column by column against its
:class:`~drift_assets.lib.schema.Schema`, or against the kinds inferred from its first months
(:func:`load_inferred`).

Every problem is a :class:`SourceError` that names the file, the row or column and the problem, so
a person can fix the file without reading a stack trace; nothing is read as something else. Missing
values in feature and label columns are not errors here: they are data (an empty cell, ``NA``), and
the quality report measures them. A missing *cell* is an error: a row with fewer (or more) fields
than the header, whose values would otherwise shift into the wrong columns or be lost.

A CSV file is read as it streams: ``CSV_CHUNK_ROWS`` rows at a time, each chunk checked and
conformed on its own, so memory is bounded by a chunk, not by the file; row numbers in messages
are lines of the file, and a key or day repeated in a later chunk is found as in one piece. A gzip
file (by its content, whatever its name) is decompressed on the way. A download is spooled to disk
once large and must finish within ``DOWNLOAD_DEADLINE`` seconds.

Numbers are read exactly as written: plain numbers by Arrow's correctly rounded parser, integers
as 64-bit integers (one too large for that is refused, naming its row, and one beyond a float's
53 bits is taken from its text, not rounded).

Decisions: a repeated header line (two files joined) is refused, naming its row; a day column
with time zones is read as the calendar day written if every row has the same offset, and refused
naming the first row whose offset differs otherwise (a day is a calendar day, not an instant); a
date-time column is an instant: one with a zone is made UTC, one without is taken as UTC, and a
column with some of each is refused naming the first row that differs; a blank line is skipped;
gzip holds CSV only (Parquet compresses its own columns).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import functools
import glob
import gzip
import http.client
import io
import itertools
import re
import socket
import tempfile
import threading
import urllib.request
import zlib
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from drift_assets.engine.profile import strings_are_categories
from drift_assets.lib.months import month_label, month_start, next_month
from drift_assets.lib.schema import (
    KINDS,
    MISSING_TEXT,
    TIME_KINDS,
    TIME_ZONE,
    Schema,
    SchemaError,
    infer_schema,
    missing_text,
    read_times,
    wall_clock,
)

DOWNLOAD_DEADLINE = 300.0  # seconds a whole download (URL) may take
READ_TIMEOUT = 60.0  # seconds a connection may stay silent
CSV_CHUNK_ROWS = 100_000  # rows of a CSV file read, checked and written at a time
PARQUET_BATCH_ROWS = 1_000_000  # rows of a large Parquet file read at a time

_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"
_BLOCK = 1 << 20  # bytes read at a time
_SPOOL = 64 << 20  # a download larger than this goes to a temporary file
_EXACT_FLOAT = 2**53  # from here on a float64 no longer holds every integer
_INT64 = 2**63
_ZONE = re.compile(TIME_ZONE, re.IGNORECASE)


class SourceError(ValueError):
    """A source file that cannot be used, with the file, column and problem named."""

    def __init__(self, source: str, problem: str, column: str | None = None):
        self.source = source
        self.column = column
        self.problem = problem
        where = f"column {column!r}: " if column else ""
        super().__init__(f"{source}: {where}{problem}")


def month_location(location: str, month: str | dt.date) -> str:
    """Expand a per-month location such as ``incoming/{month}.parquet`` ('{month}' = YYYY-MM)."""
    return location.replace("{month}", month_label(month))


# --- Getting the bytes: a local file, an S3 object, a download with a deadline ---


class _Deadline:
    """Cuts the connections of one download when its time is up. A per-read timeout never trips
    on a server that sends a byte every few seconds, so the whole download needs its own."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                self._cut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                self._cut(sock)

    @staticmethod
    def _cut(sock: socket.socket) -> None:
        # the plain socket's shutdown, also under TLS: a blocked read returns at once
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watched:
    """A connection that hands its socket to a deadline as soon as it is connected."""

    def __init__(self, *args, deadline: _Deadline, **kwargs):
        super().__init__(*args, **kwargs)
        self.deadline = deadline

    def connect(self) -> None:
        super().connect()
        self.deadline.watch(self.sock)


class _WatchedHTTP(_Watched, http.client.HTTPConnection):
    pass


class _WatchedHTTPS(_Watched, http.client.HTTPSConnection):
    pass


class _DeadlineHandler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """urllib's HTTP and HTTPS handlers, every connection (redirects too) watched by a deadline."""

    def __init__(self, deadline: _Deadline):
        super().__init__()
        self.deadline = deadline

    def do_open(self, http_class, req, **kwargs):
        watched = _WatchedHTTPS if issubclass(http_class, http.client.HTTPSConnection) else (
            _WatchedHTTP)
        return super().do_open(functools.partial(watched, deadline=self.deadline), req, **kwargs)


def _download(url: str, into: BinaryIO, seconds: float) -> None:
    """``url`` written to ``into``, all of it within ``seconds``; a body shorter than announced
    is refused, not taken for the file."""
    opener = urllib.request.build_opener(_DeadlineHandler(deadline := _Deadline(seconds)))
    late = SourceError(url, f"download did not finish within {seconds:g} s")
    try:
        with deadline, opener.open(url, timeout=min(READ_TIMEOUT, seconds)) as response:
            while block := response.read1(_BLOCK):
                into.write(block)
            missing = response.length  # bytes announced and not received; None: not announced
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if deadline.expired:
            raise late from exc
        raise SourceError(url, f"cannot be downloaded: {exc}") from exc
    if deadline.expired:  # a cut connection may look like the end of a body of unknown length
        raise late
    if missing:
        raise SourceError(url, f"cannot be downloaded: the connection closed {missing} bytes "
                               "before the end of the file")


def _download_s3(location: str, into: BinaryIO) -> None:
    """An ``s3://bucket/key`` object, through boto3 configured from its environment variables
    (credentials, region, ``AWS_ENDPOINT_URL``)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = location[len("s3://"):].partition("/")
    if not bucket or not key:
        raise SourceError(location, "not an S3 object location (expected s3://bucket/key)")
    try:
        body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
        while block := body.read(_BLOCK):
            into.write(block)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") in ("NoSuchKey", "404"):
            raise SourceError(location, "no such object in the bucket") from exc
        raise SourceError(location, f"cannot be read from S3: {error.get('Code')} "
                                    f"{error.get('Message', '')}".rstrip()) from exc
    except BotoCoreError as exc:
        raise SourceError(location, f"cannot be read from S3: {exc}") from exc


@contextlib.contextmanager
def _opened(location: str, deadline: float | None) -> Iterator[BinaryIO]:
    """The bytes of a local file, an ``s3://`` object or a URL as a seekable stream; a remote file
    is spooled (in memory while small, then in a temporary file)."""
    if location.startswith(("s3://", "http://", "https://")):
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool:
            if location.startswith("s3://"):
                _download_s3(location, spool)
            else:
                _download(location, spool, DOWNLOAD_DEADLINE if deadline is None else deadline)
            spool.seek(0)
            yield spool
        return
    path = Path(location).expanduser()
    if not path.is_file():
        raise SourceError(location, "no such file")
    with path.open("rb") as handle:
        yield handle


def _content(stream: BinaryIO, location: str) -> tuple[str, BinaryIO, bool]:
    """What ``stream`` holds, told by its first bytes (a Parquet file also by its name):
    ``("parquet" or "csv", the stream to read it from, gzip-compressed)``."""
    head = stream.read(4)
    stream.seek(0)
    if not head:
        raise SourceError(location, "the file is empty")
    if head[:2] != _GZIP_MAGIC:
        parquet = head == _PARQUET_MAGIC or location.lower().endswith((".parquet", ".pq"))
        return ("parquet" if parquet else "csv"), stream, False
    unpacked = gzip.GzipFile(fileobj=stream, mode="rb")
    try:
        head = unpacked.read(4)
        unpacked.seek(0)
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceError(location, f"not a readable gzip file ({exc})") from exc
    if head == _PARQUET_MAGIC:
        raise SourceError(location, "a gzip-compressed Parquet file: Parquet compresses its "
                                    "own columns; give the Parquet file itself")
    return "csv", unpacked, True


# --- CSV as text, a chunk at a time ---


class _Lines:
    """The lines of a CSV byte stream, a block at a time, decoded as UTF-8 (a byte-order mark
    dropped); the first byte that is not UTF-8 is named by its offset, and a NUL byte is noted so
    that the cell holding it can be named."""

    def __init__(self, stream: BinaryIO, source: str, compressed: bool):
        self.stream, self.source, self.compressed = stream, source, compressed
        self.nul_seen = False

    def __iter__(self) -> Iterator[str]:
        return itertools.chain.from_iterable(self._blocks())

    def _read(self) -> bytes:
        try:
            return self.stream.read(_BLOCK)
        except (OSError, EOFError, zlib.error) as exc:
            what = "a readable gzip file" if self.compressed else "readable"
            raise SourceError(self.source, f"not {what} ({exc})") from exc

    def _blocks(self) -> Iterator[list[str]]:
        data = self._read()
        while 0 < len(data) < len(codecs.BOM_UTF8) and (more := self._read()):
            data += more
        offset = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        data, pending, tail = data[offset:], b"", ""
        while True:
            self.nul_seen = self.nul_seen or b"\x00" in data
            block = pending + data
            try:
                text, used = codecs.utf_8_decode(block, "strict", not data)
            except UnicodeDecodeError as exc:
                raise SourceError(self.source, f"not UTF-8 text (byte {block[exc.start]:#04x} "
                                               f"at offset {offset + exc.start})") from exc
            pending, offset = block[used:], offset + used
            lines = io.StringIO(tail + text).readlines()
            if not data:
                yield lines
                return
            tail = lines.pop() if lines and not lines[-1].endswith("\n") else ""
            yield lines
            data = self._read()


def _blank(record: list[str]) -> bool:
    """An empty line, or one of only spaces: skipped, as pandas does."""
    return not record or (len(record) == 1 and not record[0].strip())


def _record_lines(records: list[list[str]], after: int) -> np.ndarray:
    """The file line each record starts on: one line a record, plus the line breaks inside its
    quoted cells."""
    spans = np.fromiter((1 + sum(cell.count("\n") for cell in r) for r in records),
                        dtype=np.int64, count=len(records))
    return after + 1 + np.concatenate([[0], np.cumsum(spans[:-1])]).astype(np.int64)


def _csv_chunks(stream: BinaryIO, source: str, rows: int, compressed: bool = False
                ) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
    """``(cells as text, the file line of each row)``, ``rows`` rows at a time. A row with more
    or fewer fields than the header, a NUL byte in a cell, or the header line again is refused,
    naming its row; blank lines are skipped. A header without rows gives one empty frame."""
    lines = _Lines(stream, source, compressed)
    reader = csv.reader(lines, strict=True)

    def read(count: int | None) -> list[list[str]]:
        try:
            return list(itertools.islice(reader, count))
        except csv.Error as exc:
            raise SourceError(source, f"not a readable CSV file (line {reader.line_num}: {exc})"
                              ) from exc

    header: list[str] = []
    while not header:
        first = read(1)
        if not first:
            raise SourceError(source, "the file is empty")
        header = [] if _blank(first[0]) else first[0]
    if lines.nul_seen and any("\x00" in name for name in header):
        raise SourceError(source, f"NUL byte in the header (line {reader.line_num})")
    names = [name if name.strip() else f"Unnamed: {i}" for i, name in enumerate(header)]
    width = len(header)
    headers_again = [header, ["\ufeff" + header[0], *header[1:]]]
    line = reader.line_num
    empty = True
    while records := read(rows):
        if reader.line_num - line == len(records) and set(map(len, records)) == {width}:
            starts = np.arange(line + 1, reader.line_num + 1, dtype=np.int64)  # one line a row
        else:
            starts = _record_lines(records, line)
            kept = [i for i, record in enumerate(records) if not _blank(record)]
            records, starts = [records[i] for i in kept], starts[kept]
        line = reader.line_num
        _check_records(records, starts, source, names, headers_again, lines.nul_seen)
        if not records:
            continue
        frame = pd.DataFrame(records, columns=names, dtype=object)
        del records
        empty = False
        yield frame, starts
        del frame
    if empty:
        yield pd.DataFrame(columns=names, dtype=object), np.empty(0, dtype=np.int64)


def _check_records(records: list[list[str]], starts: np.ndarray, source: str, names: list[str],
                   headers_again: list[list[str]], nul_seen: bool) -> None:
    """Refuse the first (in the file) row of ``records`` that is not a row of the table."""
    problems = []  # (index, problem, column)
    width = len(names)
    if nul_seen:
        found = next(((i, j) for i, record in enumerate(records)
                      for j, cell in enumerate(record) if "\x00" in cell), None)
        if found:
            i, j = found
            problems.append((i, f"NUL byte in a cell: row {starts[i]} has {records[i][j]!r}",
                             names[j]))
    if set(map(len, records)) - {width}:
        wrong = next(i for i, record in enumerate(records) if len(record) != width)
        problems.append((wrong, f"row {starts[wrong]} has {len(records[wrong])} fields but the "
                                f"header has {width}", None))
    again = [records.index(h) for h in headers_again if h in records]
    if again:
        problems.append((min(again), f"row {starts[min(again)]} repeats the header line "
                                     "(files joined?)", None))
    if problems:
        _, problem, column = min(problems, key=lambda p: p[0])
        raise SourceError(source, problem, column)


def _read_parquet(stream: BinaryIO, location: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(stream)
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise SourceError(location, f"not a readable Parquet file ({exc})") from exc


def read_table(location: str, as_text: bool = True, deadline: float | None = None
               ) -> pd.DataFrame:
    """Read a whole CSV (gzip-compressed or not) or Parquet file, told apart by its content, not
    its name, without conforming it.

    CSV cells stay text by default, checked line by line as :func:`iter_month` does, so that
    :func:`conform` can name a bad cell exactly; ``as_text=False`` lets pandas type them.
    """
    with _opened(location, deadline) as raw:
        kind, stream, compressed = _content(raw, location)
        if kind == "parquet":
            return _read_parquet(stream, location)
        if as_text:
            return pd.concat([frame for frame, _ in _csv_chunks(stream, location, CSV_CHUNK_ROWS,
                                                                compressed)], ignore_index=True)
        text = "".join(_Lines(stream, location, compressed))
    if not text.strip():
        raise SourceError(location, "the file is empty")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise SourceError(location, f"NUL byte in line {line}")
    try:
        return pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(location, f"not a readable CSV file ({exc})") from exc


# --- Conforming a table to the schema ---


def _first_bad(values: pd.Series, bad, rows: np.ndarray | None) -> str:
    """'row N has <value>' of the first bad row; N is a line of the file, the header line 1."""
    position = int(np.flatnonzero(np.asarray(bad, dtype=bool))[0])
    line = position + 2 if rows is None else int(rows[position])
    return f"row {line} has {values.iloc[position]!r}"


def _is_text(values: pd.Series) -> bool:
    return values.dtype == object or isinstance(values.dtype, pd.StringDtype)


def _plain_numbers(values: pd.Series, kind: str) -> pd.Series | None:
    """A text column of plain numbers or missing cells, parsed at C speed and correctly rounded by
    Arrow: as int64 where every cell of an int column is an integer (float64 with NaN if some are
    missing), else as float64; None when some cell is anything else (NA written out, spaced, a
    word), for the slower parse that names it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array(values.to_numpy(dtype=object, na_value=None), type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    for target in (pa.int64(), pa.float64()) if kind == "int" else (pa.float64(),):
        try:
            numbers = pc.cast(text, target).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            continue
        return pd.Series(numbers, index=values.index)
    return None


def _to_number(source: str, column: str, kind: str, values: pd.Series, rows) -> pd.Series:
    """The numbers of a column: text parsed, blank cells and NA markers missing, integers kept
    exact where they are read as such (int64)."""
    if not _is_text(values):
        numbers = pd.to_numeric(values, errors="coerce")
    elif (numbers := _plain_numbers(values, kind)) is None:
        text = values.astype("string").str.strip()
        blank = (text.isna() | text.str.lower().isin(MISSING_TEXT)).to_numpy(dtype=bool)
        text = text.mask(blank)
        if (numbers := _plain_numbers(text, kind)) is None:
            numbers = pd.to_numeric(text, errors="coerce")
            bad = numbers.isna().to_numpy() & ~blank
            if bad.any():
                raise SourceError(source, f"not a number: {_first_bad(values, bad, rows)}",
                                  column)
    if numbers.dtype.kind == "f":
        infinite = np.isinf(numbers.to_numpy())
        if infinite.any():
            raise SourceError(source, f"infinite value: {_first_bad(values, infinite, rows)}",
                              column)
    return numbers


def _to_integer(source: str, column: str, values: pd.Series, numbers: pd.Series, rows
                ) -> pd.Series:
    """Integers from numbers, exact: a value a float cannot hold exactly is read from its text,
    and one beyond 64 bits refused."""
    if numbers.dtype.kind in "iu":
        beyond = (numbers > np.uint64(_INT64 - 1)).fillna(False).to_numpy(dtype=bool) if (
            numbers.dtype.kind == "u") else np.zeros(len(numbers), dtype=bool)
        if beyond.any():
            raise SourceError(source, "out of range for a 64-bit integer: "
                                      f"{_first_bad(values, beyond, rows)}", column)
        return numbers.astype("Int64")
    floats = numbers.astype("float64").to_numpy()
    large = np.abs(np.nan_to_num(floats)) >= _EXACT_FLOAT
    fractional = ~np.isnan(floats) & ~large & (floats != np.round(floats))
    if fractional.any():
        raise SourceError(source, f"not an integer: {_first_bad(values, fractional, rows)}",
                          column)
    integers = pd.Series(np.where(large, np.nan, floats), index=values.index).astype("Int64")
    for position in np.flatnonzero(large):
        value = values.iloc[position]
        try:
            exact = Decimal(value.strip() if isinstance(value, str) else value)
        except (InvalidOperation, TypeError, ValueError):
            exact = Decimal(floats[position])
        one = np.zeros(len(values), dtype=bool)
        one[position] = True
        if exact != exact.to_integral_value():
            raise SourceError(source, f"not an integer: {_first_bad(values, one, rows)}", column)
        if not -_INT64 <= exact < _INT64:
            raise SourceError(source, "out of range for a 64-bit integer: "
                                      f"{_first_bad(values, one, rows)}", column)
        integers.iloc[position] = int(exact)
    return integers


def _zone(offset) -> str | None:
    """'+0500' for '+05', '+0500' and '+05:00'; '+0000' for 'Z'; None for no time zone."""
    if not isinstance(offset, str):
        return None
    if offset.upper() == "Z":
        return "+0000"
    digits = offset.replace(":", "")
    return digits + "00" if len(digits) == 3 else digits


def _check_zones(source: str, column: str, values: pd.Series, zones: pd.Series,
                 present: np.ndarray, rows, earlier: _Earlier | None) -> None:
    """Refuse the first present value whose zone differs from the first row's (the file's first
    row, across chunks too)."""
    first = earlier.zones.get(column) if earlier is not None else None
    if first is None:
        position = int(np.argmax(present))
        first = (zones.iloc[position],
                 _first_bad(values, np.arange(len(values)) == position, rows))
        if earlier is not None:
            earlier.zones[column] = first
    differ = (zones != first[0]).to_numpy() & present
    if differ.any():
        raise SourceError(source, f"mixed time zones ({first[1]}): "
                                  f"{_first_bad(values, differ, rows)}", column)


def _in_format(problem: str, fmt: str | None) -> str:
    return problem if fmt is None else f"{problem} in the format {fmt!r}"


def _to_day(source: str, column: str, values: pd.Series, rows, earlier: _Earlier | None,
            fmt: str | None = None, optional: bool = False) -> pd.Series:
    """Calendar days. Time zones must agree (with the file's first row, across chunks too): a
    day written with one offset is that day; mixed offsets, or some rows with one and some
    without, are refused. ``fmt``: the strptime format of the text; ``optional``: missing values
    are data (any date column but the timestamp)."""
    text = values.astype("string").str.strip() if _is_text(values) else None
    present = None if text is None else text.fillna("").ne("").to_numpy()
    if optional and text is not None:
        present = missing_text(values).notna().to_numpy()
    if present is not None and present.any():  # blank cells are "not a date" below
        if (text.str.len() > 10).any():  # longer than YYYY-MM-DD: maybe a time and a time zone
            zones = text.str.extract(_ZONE, expand=False).map(_zone).fillna("")
        else:
            zones = pd.Series("", index=values.index)
        _check_zones(source, column, values, zones, present, rows, earlier)
    if fmt is not None and text is not None:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    else:
        parsed = pd.to_datetime(values, errors="coerce")
    problem = _in_format("not a date", fmt)
    if not pd.api.types.is_datetime64_any_dtype(parsed):  # pandas could not make one column
        raise SourceError(source, f"{problem}: {_first_bad(values, values.notna(), rows)}",
                          column)
    bad = parsed.isna().to_numpy()
    if optional:  # a missing value is data, an unreadable one is not
        bad &= values.notna().to_numpy() if present is None else present
    if bad.any():
        raise SourceError(source, f"{problem}: {_first_bad(values, bad, rows)}", column)
    days = parsed.dt.date
    return days.where(parsed.notna(), None) if optional else days


def _to_instant(source: str, column: str, values: pd.Series, rows, earlier: _Earlier | None,
                fmt: str | None = None, optional: bool = False) -> pd.Series:
    """Instants as naive UTC: a value with a time zone made UTC, one without taken as UTC; some
    values with a zone and some without (in the file, across chunks too) are refused, for they
    cannot both be right. ``fmt`` and ``optional`` as for days."""
    text = None
    if pd.api.types.is_datetime64_any_dtype(values):  # typed (Parquet): its zone, or UTC
        parsed = values.dt.tz_convert("UTC").dt.tz_localize(None) if (
            values.dt.tz is not None) else values
        present = parsed.notna().to_numpy()
        problem = "missing value"
    else:
        text = missing_text(values)
        present = text.notna().to_numpy()
        problem = _in_format("not a date and time", fmt)
        parsed = read_times(text, fmt, utc=True)
        if not pd.api.types.is_datetime64_any_dtype(parsed):
            raise SourceError(source, f"{problem}: {_first_bad(values, present, rows)}", column)
        parsed = parsed.dt.tz_localize(None)
    bad = parsed.isna().to_numpy() & (present | (not optional))
    if bad.any():
        first = int(np.argmax(bad))
        what = problem if present[first] else "missing value"
        raise SourceError(source, f"{what}: {_first_bad(values, bad, rows)}", column)
    if text is not None and present.any():
        # after the values are read, so that a word is named as not a time, not as a zone
        zoned = text.str.extract(_ZONE, expand=False).notna().map(
            {True: "a time zone", False: ""})
        _check_zones(source, column, values, zoned, present, rows, earlier)
    try:
        return parsed.astype("datetime64[ns]")
    except (pd.errors.OutOfBoundsDatetime, OverflowError) as exc:
        outside = ((parsed < pd.Timestamp.min) | (parsed > pd.Timestamp.max)).to_numpy()
        raise SourceError(source, "out of range for a date and time: "
                                  f"{_first_bad(values, outside, rows)}", column) from exc


class _Earlier:
    """What the earlier chunks of one file held, so that a later chunk is checked as if the file
    were read whole: its keys, its days (one row a day), and each time column's first zone."""

    def __init__(self, schema: Schema, unique_days: bool):
        kinds = schema.kinds
        self.key, self.timestamp = schema.key, schema.timestamp
        # int keys sorted in an array (8 bytes a row); text keys in a set, exact for any text
        self.int_keys = self.key is not None and kinds[self.key] == "int"
        self.keys: np.ndarray | set = np.empty(0, dtype=np.int64) if self.int_keys else set()
        daily = unique_days and kinds[schema.timestamp] == "date"
        self.days: set | None = set() if daily else None
        self.zones: dict[str, tuple[str, str]] = {}  # column -> (zone or "", "row N has '...'")

    def repeats(self, column: str, values: pd.Series) -> np.ndarray:
        if column != self.key:  # days not kept (Parquet): checked across pieces by the month
            return values.isin(self.days or ()).to_numpy()
        if not self.int_keys:
            return np.fromiter((key in self.keys for key in values), dtype=bool,
                               count=len(values))
        keys = values.to_numpy(dtype=np.int64)
        if not len(self.keys):
            return np.zeros(len(keys), dtype=bool)
        where = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return self.keys[where] == keys

    def add(self, out: pd.DataFrame) -> None:
        if self.int_keys:
            keys = np.sort(out[self.key].to_numpy(dtype=np.int64))
            self.keys = np.sort(np.concatenate([self.keys, keys]), kind="stable")  # two runs
        elif self.key is not None:
            self.keys.update(out[self.key])
        if self.days is not None:
            self.days.update(out[self.timestamp])


def _absent(kind: str, index: pd.Index) -> pd.Series:
    """A column not in the file (labels not arrived yet): missing values of the kind's type."""
    dtype = {"int": "Int64", "float": "float64", "text": "string", "date": object,
             "datetime": "datetime64[ns]"}[kind]
    return pd.Series(None if kind == "date" else pd.NA, index=index, dtype=dtype)


def _conform_column(source: str, column: str, kind: str, values: pd.Series, rows,
                    earlier: _Earlier | None, fmt: str | None = None,
                    optional: bool = True) -> pd.Series:
    if kind == "date":
        return _to_day(source, column, values, rows, earlier, fmt, optional)
    if kind == "datetime":
        return _to_instant(source, column, values, rows, earlier, fmt, optional)
    if kind == "text":
        return missing_text(values)
    numbers = _to_number(source, column, kind, values, rows)
    if kind == "float":
        return numbers.astype("float64")
    return _to_integer(source, column, values, numbers, rows)


def _check_schema(schema: Schema) -> None:
    """A schema the loader can hold a table to (a mistake in the code, not in the file)."""
    if not schema.known:
        raise ValueError("the schema has no columns yet: infer them first (load_inferred)")
    kinds = schema.kinds
    wrong = [f"{name} ({kind})" for name, kind in schema.columns if kind not in KINDS]
    if wrong:
        raise ValueError(f"unknown kind(s) in the schema: {', '.join(wrong)}")
    if kinds.get(schema.timestamp) not in TIME_KINDS:
        raise ValueError(f"the timestamp {schema.timestamp!r} is not a date or datetime column "
                         "of the schema")
    if schema.key is not None and kinds.get(schema.key) not in ("int", "text"):
        raise ValueError(f"the key {schema.key!r} is not an int or text column of the schema")


def conform(frame: pd.DataFrame, source: str, schema: Schema, unique_days: bool = True,
            rows: np.ndarray | None = None) -> pd.DataFrame:
    """Check a raw table against ``schema`` and return it with the schema's types, its columns
    in the schema's order and its rows in timestamp and key order.

    Label columns may be absent: labels arrive late, and the month is still monitored for drift.
    ``unique_days`` (a timestamp of dates only) is off for sources with many rows a day. ``rows``
    are the file lines of the frame's rows, for messages (default: the header on line 1, then one
    line a row).
    """
    return _conform(frame, source, schema, unique_days, rows, None)


def _conform(frame: pd.DataFrame, source: str, schema: Schema, unique_days: bool,
             rows: np.ndarray | None, earlier: _Earlier | None) -> pd.DataFrame:
    _check_schema(schema)
    kinds = schema.kinds
    columns = [str(c).strip() for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    if len(frame) == 0:
        raise SourceError(source, "the file has a header but no rows")
    missing = [c for c in schema.required if c not in columns]
    if missing:
        raise SourceError(source, f"missing required column(s): {', '.join(missing)}")
    unknown = [c for c in columns if c not in kinds]
    if unknown:
        raise SourceError(source, f"unknown column(s): {', '.join(unknown)}")
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise SourceError(source, f"column(s) given twice: {', '.join(duplicated)}")
    frame = frame.reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    for column, kind in schema.columns:
        if column not in frame:
            out[column] = _absent(kind, frame.index)
            continue
        timestamp = column == schema.timestamp
        out[column] = _conform_column(
            source, column, kind, frame[column], rows, earlier,
            schema.timestamp_format if timestamp else None, optional=not timestamp)
    key = schema.key
    if key is not None and out[key].isna().any():
        raise SourceError(source, "missing value: " + _first_bad(
            frame[key], out[key].isna(), rows), key)
    daily = unique_days and kinds[schema.timestamp] == "date"
    for column in ([key] if key else []) + ([schema.timestamp] if daily else []):
        repeated = out[column].duplicated().to_numpy()
        if earlier is not None:
            repeated |= earlier.repeats(column, out[column])
        if repeated.any():
            raise SourceError(source, "duplicate value: "
                                      f"{_first_bad(frame[column], repeated, rows)}", column)
    if earlier is not None:
        earlier.add(out)
    return _in_order(out, schema)


def _in_order(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    return frame.sort_values(schema.order, kind="stable").reset_index(drop=True)


# --- Months ---


def select_month(
    frame: pd.DataFrame, month: str | dt.date, source: str, schema: Schema,
    whole_file: bool = False, allow_empty: bool = False,
) -> pd.DataFrame:
    """The rows of one month of a conformed frame, by its timestamp. ``whole_file`` says the file
    is meant to hold that month only; ``allow_empty`` lets one file of several hold none of its
    rows."""
    first = month_start(month)
    column = schema.timestamp
    start, end = first, next_month(first)
    if schema.kinds[column] == "datetime":
        start, end = pd.Timestamp(start), pd.Timestamp(end)
    stamps = frame[column]
    inside = (stamps >= start) & (stamps < end)
    if whole_file and not inside.all():
        outside = frame.loc[~inside, column].iloc[0]
        what = "date" if schema.kinds[column] == "date" else "time"
        raise SourceError(
            source, f"{what} {outside} is outside the month {month_label(first)}", column
        )
    rows = frame.loc[inside].reset_index(drop=True)
    if rows.empty and not allow_empty:
        raise SourceError(source, f"no rows for the month {month_label(first)}", column)
    return rows


def load_month(location: str, month: str | dt.date, schema: Schema, unique_days: bool = True,
               deadline: float | None = None) -> pd.DataFrame:
    """One month from a table at ``location``: a whole table, or one file a month ('{month}'),
    in timestamp and key order."""
    frames = list(iter_month(location, month, schema, unique_days, deadline=deadline))
    whole = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return _in_order(whole, schema)


def pieces(location: str) -> list[str]:
    """The Parquet files of a local folder or glob, in name order; ``[location]`` otherwise."""
    path = Path(location).expanduser()
    if path.is_dir():
        found = sorted(str(p) for p in path.iterdir() if p.suffix in (".parquet", ".pq"))
    elif any(ch in location for ch in "*?[") and "://" not in location:
        found = sorted(glob.glob(str(path)))
    else:
        return [location]
    if not found:
        raise SourceError(location, "no file matches: no Parquet file in this folder or glob")
    return found


def local_parquet(location: str) -> list[str] | None:
    """The local Parquet files ``location`` names (a file, or a folder or glob of them), or
    None when it is something else (a CSV file, a URL, a missing file), which is read whole."""
    files = pieces(location)
    if files != [location]:
        return files
    path = Path(location).expanduser()
    if "://" in location or not path.is_file():
        return None
    with open(path, "rb") as stream:
        return [str(path)] if stream.read(len(_PARQUET_MAGIC)) == _PARQUET_MAGIC else None


class ParquetColumns:
    """Local Parquet files read one column at a time, so that only the columns compared are
    read and a column is held only while it is used. Text columns come as pandas categories
    (Arrow dictionaries: codes, not a Python string per row) where that changes nothing of
    their meaning; every other column is what ``pd.read_parquet`` gives."""

    def __init__(self, location: str, files: list[str]):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.location = location
        self._readers, self.names, self.text, self.rows = [], [], set(), 0
        for file in files:
            try:
                reader = pq.ParquetFile(file)
            except Exception as exc:  # pyarrow raises several types for damaged files
                raise SourceError(file, f"not a readable Parquet file ({exc})") from exc
            schema = reader.schema_arrow
            text = [f.name for f in schema if pa.types.is_string(f.type)
                    or pa.types.is_large_string(f.type)]
            index = (schema.pandas_metadata or {}).get("index_columns", [])
            if not self._readers:
                self.names = [n for n in schema.names if n not in index]
                self.text = set(text)
            self._readers.append((file, text, set(schema.names)))
            self.rows += reader.metadata.num_rows

    def column(self, name: str, categories: bool | None = None) -> pd.Series:
        """Column ``name`` of every file. A text column comes as categories when
        ``categories`` is True, as strings when False, and when None as Evidently would type
        its strings: categories when at most half of its values are distinct, else strings."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        tables = []
        for file, text, names in self._readers:
            if name not in names:
                raise SourceError(file, f"no column {name!r}", name)
            try:
                # a reader of its own: columns are read from several threads at once, and
                # one ParquetFile is not safe to share between them
                reader = pq.ParquetFile(file, read_dictionary=text)
                tables.append(reader.read(columns=[name], use_threads=False))
            except Exception as exc:  # a damaged row group, or a file without the column
                raise SourceError(file, f"not a readable Parquet file ({exc})", name) from exc
        # one dictionary for every row group and file: its codes then name the same value
        table = pa.concat_tables(tables).unify_dictionaries()
        values = table.column(0)
        if pa.types.is_dictionary(values.type) and name in self.text:
            if categories is None:
                present = values.length() - values.null_count
                codes = pa.chunked_array([chunk.indices for chunk in values.chunks],
                                         type=values.type.index_type)
                distinct = pc.count_distinct(codes, mode="only_valid").as_py()
                categories = distinct > 0 and strings_are_categories(distinct, present)
            if not categories:
                table = table.set_column(0, name, values.cast(values.type.value_type))
        return table.to_pandas()[name]


def _parquet_batches(stream: BinaryIO, file: str, rows: int
                     ) -> Iterator[tuple[pd.DataFrame, str]]:
    """A Parquet file of more than ``rows`` rows in batches of ``rows`` read in turn (named by
    their row range), a smaller one whole."""
    import pyarrow.parquet as pq

    try:
        reader = pq.ParquetFile(stream)
        small = reader.metadata.num_rows <= rows
    except Exception as exc:  # pyarrow raises several types for damaged files
        raise SourceError(file, f"not a readable Parquet file ({exc})") from exc
    if small:
        stream.seek(0)
        yield _read_parquet(stream, file), file
        return
    batches, start = reader.iter_batches(batch_size=rows), 0
    while True:
        try:
            batch = next(batches, None)
        except Exception as exc:  # a damaged row group further in
            raise SourceError(file, f"not a readable Parquet file ({exc})") from exc
        if batch is None:
            return
        yield batch.to_pandas(), f"{file} (rows {start + 1}-{start + batch.num_rows})"
        start += batch.num_rows


_Raw = tuple[pd.DataFrame, str, np.ndarray | None]  # cells, piece name, file line of each row


def _raw(file: str, batch_rows: int, csv_rows: int, deadline: float | None) -> Iterator[_Raw]:
    """The pieces of one file as read, not conformed: Parquet batches typed (no line numbers),
    CSV chunks as text with the file line of each row."""
    with _opened(file, deadline) as raw:
        kind, stream, compressed = _content(raw, file)
        if kind == "parquet":
            for table, name in _parquet_batches(stream, file, batch_rows):
                yield table, name, None
            return
        for text, rows in _csv_chunks(stream, file, csv_rows, compressed):
            yield text, file, rows


def _conformed(raw: Iterable[_Raw], schema: Schema, unique_days: bool
               ) -> Iterator[tuple[pd.DataFrame, str]]:
    """``(conformed frame, name)`` pieces of one file, checked together as one file: a key
    repeated across pieces, mixed time zones, and for CSV chunks a repeated day (Parquet batches
    are named apart, so a day repeated across them is told as across pieces)."""
    earlier = None
    for frame, name, rows in raw:
        if earlier is None:
            earlier = _Earlier(schema, unique_days and rows is not None)
        yield _conform(frame, name, schema, unique_days, rows, earlier), name


def _month_pieces(conformed: Iterable[tuple[pd.DataFrame, str]], path: str,
                  month: str | dt.date, schema: Schema, unique_days: bool, per_month: bool
                  ) -> Iterator[pd.DataFrame]:
    """The rows of one month from conformed pieces; a day repeated across pieces is an error as
    within one."""
    daily = unique_days and schema.kinds[schema.timestamp] == "date"
    seen: set = set()
    rows = 0
    for table, name in conformed:
        frame = select_month(table, month, name, schema, whole_file=per_month, allow_empty=True)
        del table
        if daily:
            days = set(frame[schema.timestamp])
            again = days & seen
            if again:
                raise SourceError(name, f"day {min(again)} is also in an earlier piece of "
                                  f"{path}", schema.timestamp)
            seen |= days
        rows += len(frame)
        if len(frame):
            yield frame
        del frame
    if not rows:
        raise SourceError(path, f"no rows for the month {month_label(month)}", schema.timestamp)


def iter_month(location: str, month: str | dt.date, schema: Schema, unique_days: bool = True,
               batch_rows: int = PARQUET_BATCH_ROWS, csv_rows: int = CSV_CHUNK_ROWS,
               deadline: float | None = None) -> Iterator[pd.DataFrame]:
    """One month, piece by piece: a folder or glob gives one piece per Parquet file, a Parquet
    file of more than ``batch_rows`` rows one per batch, a CSV file one per ``csv_rows`` rows, so
    a month larger than memory can be written chunk by chunk. Every piece is conformed to
    ``schema`` on its own; a day repeated across pieces is an error as within one, a key
    repeated within one file too. ``deadline``: seconds a download may take (default
    ``DOWNLOAD_DEADLINE``)."""
    path = month_location(location, month)
    conformed = (piece for file in pieces(path)
                 for piece in _conformed(_raw(file, batch_rows, csv_rows, deadline), schema,
                                         unique_days))
    yield from _month_pieces(conformed, path, month, schema, unique_days,
                             per_month="{month}" in location)


# --- A table whose kinds are not known yet ---


def _month_index(month: str | dt.date) -> int:
    first = month_start(month)
    return first.year * 12 + first.month


def _named(frame: pd.DataFrame, name: str, hint: Schema) -> pd.DataFrame:
    """A raw piece with its column names stripped, refused as :func:`conform` would refuse it
    when it cannot be read at all: no rows, a column given twice, no timestamp."""
    columns = [str(c).strip() for c in frame.columns]
    if len(frame) == 0:
        raise SourceError(name, "the file has a header but no rows")
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise SourceError(name, f"column(s) given twice: {', '.join(duplicated)}")
    if hint.timestamp not in columns:
        raise SourceError(name, f"missing required column(s): {hint.timestamp}")
    return frame.set_axis(columns, axis=1).reset_index(drop=True)


def _inferred(raw: dict[str, list[_Raw]], months: list[str], hint: Schema, location: str
              ) -> Schema:
    """The kinds of the raw rows whose timestamp, as written, falls in one of ``months``."""
    wanted = {_month_index(m) for m in months}
    fmt = hint.timestamp_format
    parts, holding = [], []  # the rows of the months; the files that hold them
    for file, chunks in raw.items():
        for frame, name, lines in chunks:
            frame = _named(frame, name, hint)
            lines = np.arange(2, len(frame) + 2) if lines is None else lines
            stamps = frame[hint.timestamp]
            wall = wall_clock(stamps, fmt)
            bad = wall.isna().to_numpy()
            if bad.any():
                raise SourceError(name, _in_format("not a date or time", fmt) + ": "
                                  + _first_bad(stamps, bad, lines), hint.timestamp)
            inside = (wall.dt.year * 12 + wall.dt.month).isin(wanted).to_numpy()
            parts.append(frame.loc[inside])
            if inside.any() and file not in holding:
                holding.append(file)
    sample = pd.concat(parts, ignore_index=True)
    if not len(sample):
        raise SourceError(location, f"no rows for the month(s) {', '.join(months)}",
                          hint.timestamp)
    try:
        return infer_schema(sample, hint)
    except SchemaError as exc:  # a whole column (the timestamp was read above): name its file
        raise SourceError(holding[0] if len(holding) == 1 else location, exc.problem,
                          exc.column) from exc


def load_inferred(location: str, months: list[str], hint: Schema, unique_days: bool = True,
                  deadline: float | None = None) -> tuple[Schema, pd.DataFrame]:
    """Some months of a table whose kinds are not known yet, ``(schema, rows in order)``: every
    file read once as it is, the kinds inferred over the rows of all the months together
    (:func:`~drift_assets.lib.schema.infer_schema`, each row placed in a month by its timestamp
    as written), then every file conformed to them and the months taken as :func:`load_month`
    takes them. With ``hint``'s columns known, the months loaded with ``hint``."""
    if not months:
        raise ValueError("no months to load")
    if hint.known:
        frames = [load_month(location, m, hint, unique_days, deadline) for m in months]
        return hint, _in_order(pd.concat(frames, ignore_index=True), hint)
    paths = {month_label(m): month_location(location, m) for m in months}
    files = {label: pieces(path) for label, path in paths.items()}
    raw: dict[str, list[_Raw]] = {}
    for names in files.values():
        for file in names:
            if file not in raw:  # a whole table holds every month: read once
                raw[file] = list(_raw(file, PARQUET_BATCH_ROWS, CSV_CHUNK_ROWS, deadline))
    schema = _inferred(raw, list(paths), hint, location)
    conformed = {file: list(_conformed(chunks, schema, unique_days))
                 for file, chunks in raw.items()}
    del raw
    frames = []
    for label, path in paths.items():
        month = (piece for file in files[label] for piece in conformed[file])
        frames += _month_pieces(month, path, label, schema, unique_days,
                                per_month="{month}" in location)
    return schema, _in_order(pd.concat(frames, ignore_index=True), schema)
