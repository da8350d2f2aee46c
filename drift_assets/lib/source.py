"""Loading a real bike-sharing table from a path or URL, CSV or Parquet, checked column by column.

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
blank line is skipped; gzip holds CSV only (Parquet compresses its own columns).
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
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from drift_assets.lib.months import month_label, month_start, next_month
from drift_assets.lib.schema import (
    COLUMNS,
    DATE_COLUMN,
    KEY_COLUMN,
    LABEL_COLUMNS,
)

DOWNLOAD_DEADLINE = 300.0  # seconds a whole download (URL) may take
READ_TIMEOUT = 60.0  # seconds a connection may stay silent
CSV_CHUNK_ROWS = 100_000  # rows of a CSV file read, checked and written at a time

_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"
_BLOCK = 1 << 20  # bytes read at a time
_SPOOL = 64 << 20  # a download larger than this goes to a temporary file
_BLANKS = ["", "na", "nan", "null", "none"]  # missing values, as text (compared lowercased)
_EXACT_FLOAT = 2**53  # from here on a float64 no longer holds every integer
_INT64 = 2**63
# a time of day followed by a time zone: Z, +05, +0530 or +05:30
_ZONE = re.compile(r"\d:\d\d(?::\d\d(?:[.,]\d*)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)\s*$", re.IGNORECASE)


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
        blank = (text.isna() | text.str.lower().isin(_BLANKS)).to_numpy(dtype=bool)
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


def _to_day(source: str, column: str, values: pd.Series, rows, earlier: _Earlier | None
            ) -> pd.Series:
    """Calendar days. Time zones must agree (with the file's first row, across chunks too): a
    day written with one offset is that day; mixed offsets, or some rows with one and some
    without, are refused."""
    text = values.astype("string").str.strip() if _is_text(values) else None
    present = None if text is None else text.fillna("").ne("").to_numpy()
    if present is not None and present.any():  # blank cells are "not a date" below
        if (text.str.len() > 10).any():  # longer than YYYY-MM-DD: maybe a time and a time zone
            zones = text.str.extract(_ZONE, expand=False).map(_zone).fillna("")
        else:
            zones = pd.Series("", index=values.index)
        first = earlier.zone if earlier is not None and earlier.zone else (
            zones.iloc[int(np.argmax(present))],
            _first_bad(values, np.arange(len(values)) == np.argmax(present), rows))
        if earlier is not None:
            earlier.zone = first
        differ = (zones != first[0]).to_numpy() & present
        if differ.any():
            raise SourceError(source, f"mixed time zones ({first[1]}): "
                                      f"{_first_bad(values, differ, rows)}", column)
    parsed = pd.to_datetime(values, errors="coerce")
    if not pd.api.types.is_datetime64_any_dtype(parsed):  # pandas could not make one column
        raise SourceError(source, f"not a date: {_first_bad(values, values.notna(), rows)}",
                          column)
    bad = parsed.isna().to_numpy()
    if bad.any():
        raise SourceError(source, f"not a date: {_first_bad(values, bad, rows)}", column)
    return parsed.dt.date


class _Earlier:
    """What the earlier chunks of one file held, so that a later chunk is checked as if the file
    were read whole: its keys (sorted, 8 bytes a row), its days, and its first row's time zone."""

    def __init__(self, unique_days: bool):
        self.keys = np.empty(0, dtype=np.int64)
        self.days: set | None = set() if unique_days else None
        self.zone: tuple[str, str] | None = None  # (zone or "", "row N has '...'") of row one

    def repeats(self, column: str, values: pd.Series) -> np.ndarray:
        if column != KEY_COLUMN:
            return values.isin(self.days).to_numpy()
        keys = values.to_numpy(dtype=np.int64)
        if not len(self.keys):
            return np.zeros(len(keys), dtype=bool)
        where = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return self.keys[where] == keys

    def add(self, out: pd.DataFrame) -> None:
        keys = np.sort(out[KEY_COLUMN].to_numpy(dtype=np.int64))
        self.keys = np.sort(np.concatenate([self.keys, keys]), kind="stable")  # merges two runs
        if self.days is not None:
            self.days.update(out[DATE_COLUMN])


def _conform_column(source: str, column: str, kind: str, values: pd.Series, rows,
                    earlier: _Earlier | None) -> pd.Series:
    if kind == "date":
        return _to_day(source, column, values, rows, earlier)
    numbers = _to_number(source, column, kind, values, rows)
    if kind == "float":
        return numbers.astype("float64")
    return _to_integer(source, column, values, numbers, rows)


def conform(frame: pd.DataFrame, source: str, unique_days: bool = True,
            rows: np.ndarray | None = None) -> pd.DataFrame:
    """Check a raw table against the schema and return it with the schema's types.

    Label columns (casual, registered, cnt) may be absent: labels arrive late, and the month is
    still monitored for drift. ``unique_days`` is off for sources with many rows a day. ``rows``
    are the file lines of the frame's rows, for messages (default: the header on line 1, then one
    line a row).
    """
    return _conform(frame, source, unique_days, rows, None)


def _conform(frame: pd.DataFrame, source: str, unique_days: bool, rows: np.ndarray | None,
             earlier: _Earlier | None) -> pd.DataFrame:
    columns = [str(c).strip() for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    if len(frame) == 0:
        raise SourceError(source, "the file has a header but no rows")
    required = [c for c in COLUMNS if c not in LABEL_COLUMNS]
    missing = [c for c in required if c not in columns]
    if missing:
        raise SourceError(source, f"missing required column(s): {', '.join(missing)}")
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise SourceError(source, f"unknown column(s): {', '.join(unknown)}")
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise SourceError(source, f"column(s) given twice: {', '.join(duplicated)}")
    frame = frame.reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    for column, kind in COLUMNS.items():
        if column in frame:
            out[column] = _conform_column(source, column, kind, frame[column], rows, earlier)
        else:
            out[column] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    if out[KEY_COLUMN].isna().any():
        raise SourceError(source, "missing value: " + _first_bad(
            frame[KEY_COLUMN], out[KEY_COLUMN].isna(), rows), KEY_COLUMN)
    for column in [KEY_COLUMN] + ([DATE_COLUMN] if unique_days else []):
        repeated = out[column].duplicated().to_numpy()
        if earlier is not None:
            repeated |= earlier.repeats(column, out[column])
        if repeated.any():
            raise SourceError(source, "duplicate value: "
                                      f"{_first_bad(frame[column], repeated, rows)}", column)
    if earlier is not None:
        earlier.add(out)
    return out.sort_values([DATE_COLUMN, KEY_COLUMN], kind="stable").reset_index(drop=True)


# --- Months ---


def select_month(
    frame: pd.DataFrame, month: str | dt.date, source: str, whole_file: bool = False,
    allow_empty: bool = False,
) -> pd.DataFrame:
    """The rows of one month. ``whole_file`` says the file is meant to hold that month only;
    ``allow_empty`` lets one file of several hold none of its rows."""
    first = month_start(month)
    days = frame[DATE_COLUMN]
    inside = (days >= first) & (days < next_month(first))
    if whole_file and not inside.all():
        outside = frame.loc[~inside, DATE_COLUMN].iloc[0]
        raise SourceError(
            source, f"date {outside} is outside the month {month_label(first)}", DATE_COLUMN
        )
    rows = frame.loc[inside].reset_index(drop=True)
    if rows.empty and not allow_empty:
        raise SourceError(source, f"no rows for the month {month_label(first)}", DATE_COLUMN)
    return rows


def load_month(location: str, month: str | dt.date, unique_days: bool = True,
               deadline: float | None = None) -> pd.DataFrame:
    """One month from a table at ``location``: a whole table, or one file a month ('{month}'),
    in date and key order."""
    frames = list(iter_month(location, month, unique_days, deadline=deadline))
    whole = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return whole.sort_values([DATE_COLUMN, KEY_COLUMN], kind="stable").reset_index(drop=True)


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


def _conformed(file: str, unique_days: bool, batch_rows: int, csv_rows: int,
               deadline: float | None) -> Iterator[tuple[pd.DataFrame, str]]:
    """``(conformed frame, name)`` pieces of one file: Parquet batches, or CSV chunks checked
    together as one file (a key or day repeated across chunks, mixed time zones)."""
    with _opened(file, deadline) as raw:
        kind, stream, compressed = _content(raw, file)
        if kind == "parquet":
            for table, name in _parquet_batches(stream, file, batch_rows):
                yield conform(table, name, unique_days), name
            return
        earlier = _Earlier(unique_days)
        for text, rows in _csv_chunks(stream, file, csv_rows, compressed):
            yield _conform(text, file, unique_days, rows, earlier), file


def iter_month(location: str, month: str | dt.date, unique_days: bool = True,
               batch_rows: int = 1_000_000, csv_rows: int = CSV_CHUNK_ROWS,
               deadline: float | None = None) -> Iterator[pd.DataFrame]:
    """One month, piece by piece: a folder or glob gives one piece per Parquet file, a Parquet
    file of more than ``batch_rows`` rows one per batch, a CSV file one per ``csv_rows`` rows, so
    a month larger than memory can be written chunk by chunk. Every piece is conformed on its
    own; a day repeated across pieces is an error as within one. ``deadline``: seconds a download
    may take (default ``DOWNLOAD_DEADLINE``)."""
    per_month = "{month}" in location
    path = month_location(location, month)
    seen: set = set()
    rows = 0
    for file in pieces(path):
        for table, name in _conformed(file, unique_days, batch_rows, csv_rows, deadline):
            frame = select_month(table, month, name, whole_file=per_month, allow_empty=True)
            del table
            if unique_days:
                days = set(frame[DATE_COLUMN])
                again = days & seen
                if again:
                    raise SourceError(name, f"day {min(again)} is also in an earlier piece of "
                                      f"{path}", DATE_COLUMN)
                seen |= days
            rows += len(frame)
            if len(frame):
                yield frame
            del frame
    if not rows:
        raise SourceError(path, f"no rows for the month {month_label(month)}", DATE_COLUMN)
