"""Loading a real bike-sharing table from a path or URL, CSV or Parquet, checked column by column.

Every problem is a :class:`SourceError` that names the file, the column and the problem, so a person
can fix the file without reading a stack trace. Missing values in feature and label columns are not
errors here: they are data, and the quality report measures them.
"""

from __future__ import annotations

import datetime as dt
import glob
import io
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

from drift_assets.lib.months import month_label, month_start, next_month
from drift_assets.lib.schema import (
    COLUMNS,
    DATE_COLUMN,
    KEY_COLUMN,
    LABEL_COLUMNS,
)

_PARQUET_MAGIC = b"PAR1"


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


def _read_s3(location: str) -> bytes:
    """An ``s3://bucket/key`` object, through boto3 configured from its environment variables
    (credentials, region, ``AWS_ENDPOINT_URL``)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = location[len("s3://"):].partition("/")
    if not bucket or not key:
        raise SourceError(location, "not an S3 object location (expected s3://bucket/key)")
    try:
        return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") in ("NoSuchKey", "404"):
            raise SourceError(location, "no such object in the bucket") from exc
        raise SourceError(location, f"cannot be read from S3: {error.get('Code')} "
                                    f"{error.get('Message', '')}".rstrip()) from exc
    except BotoCoreError as exc:
        raise SourceError(location, f"cannot be read from S3: {exc}") from exc


def _read_bytes(location: str) -> bytes:
    if location.startswith("s3://"):
        return _read_s3(location)
    if location.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(location, timeout=60) as response:
                return response.read()
        except OSError as exc:
            raise SourceError(location, f"cannot be downloaded: {exc}") from exc
    path = Path(location).expanduser()
    if not path.is_file():
        raise SourceError(location, "no such file")
    return path.read_bytes()


def read_table(location: str, as_text: bool = True) -> pd.DataFrame:
    """Read a CSV or Parquet file (chosen by its content, not its name) without conforming it.

    CSV cells stay text by default, so that :func:`conform` can name a bad cell exactly.
    """
    raw = _read_bytes(location)
    if not raw.strip():
        raise SourceError(location, "the file is empty")
    if raw[:4] == _PARQUET_MAGIC or location.lower().endswith((".parquet", ".pq")):
        try:
            return pd.read_parquet(io.BytesIO(raw))
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise SourceError(location, f"not a readable Parquet file ({exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            location, f"not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start})"
        ) from exc
    try:
        if as_text:
            return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        return pd.read_csv(io.StringIO(text))
    except pd.errors.ParserError as exc:
        raise SourceError(location, f"not a readable CSV file ({exc})") from exc


def _first_bad(values: pd.Series, bad: pd.Series) -> str:
    index = bad[bad].index[0]
    return f"row {index + 2} has {values.loc[index]!r}"  # +2: header line and 1-based lines


def _to_number(source: str, column: str, values: pd.Series) -> pd.Series:
    if values.dtype == object:
        text = values.astype("string").str.strip()
        blank = text.isna() | text.str.lower().isin(["", "na", "nan", "null", "none"])
        numbers = pd.to_numeric(text.mask(blank), errors="coerce")
        bad = numbers.isna() & ~blank
        if bad.any():
            raise SourceError(source, f"not a number: {_first_bad(values, bad)}", column)
    else:
        numbers = pd.to_numeric(values, errors="coerce")
    floats = numbers.astype("float64")
    infinite = pd.Series(np.isinf(floats.to_numpy()), index=values.index)
    if infinite.any():
        raise SourceError(source, f"infinite value: {_first_bad(values, infinite)}", column)
    return floats


def _conform_column(source: str, column: str, kind: str, values: pd.Series) -> pd.Series:
    if kind == "date":
        parsed = pd.to_datetime(values, errors="coerce")
        bad = parsed.isna()
        if bad.any():
            raise SourceError(source, f"not a date: {_first_bad(values, bad)}", column)
        return parsed.dt.date
    floats = _to_number(source, column, values)
    if kind == "float":
        return floats
    fractional = floats.notna() & (floats != np.round(floats))
    if fractional.any():
        raise SourceError(source, f"not an integer: {_first_bad(values, fractional)}", column)
    return floats.astype("Int64")


def conform(frame: pd.DataFrame, source: str, unique_days: bool = True) -> pd.DataFrame:
    """Check a raw table against the schema and return it with the schema's types.

    Label columns (casual, registered, cnt) may be absent: labels arrive late, and the month is
    still monitored for drift. ``unique_days`` is off for sources with many rows a day.
    """
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
            out[column] = _conform_column(source, column, kind, frame[column])
        else:
            out[column] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    if out[KEY_COLUMN].isna().any():
        raise SourceError(source, "missing value: " + _first_bad(frame[KEY_COLUMN],
                                                                  out[KEY_COLUMN].isna()),
                          KEY_COLUMN)
    for column in [KEY_COLUMN] + ([DATE_COLUMN] if unique_days else []):
        repeated = out[column].duplicated()
        if repeated.any():
            raise SourceError(source, f"duplicate value: {_first_bad(frame[column], repeated)}",
                              column)
    return out.sort_values([DATE_COLUMN, KEY_COLUMN], kind="stable").reset_index(drop=True)


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


def load_month(location: str, month: str | dt.date, unique_days: bool = True) -> pd.DataFrame:
    """One month from a table at ``location``: a whole table, or one file a month ('{month}')."""
    return pd.concat(list(iter_month(location, month, unique_days)), ignore_index=True)


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


def _batches(file: str, rows: int):
    """``(frame, name)`` pieces of one file: a local Parquet file of more than ``rows`` rows in
    batches of ``rows`` read in turn (named by their row range), any other file whole."""
    path = Path(file).expanduser()
    if "://" not in file and path.is_file():
        with path.open("rb") as handle:
            parquet = handle.read(4) == _PARQUET_MAGIC
        if parquet:
            import pyarrow.parquet as pq

            try:
                reader = pq.ParquetFile(path)
            except Exception as exc:  # pyarrow raises several types for damaged files
                raise SourceError(file, f"not a readable Parquet file ({exc})") from exc
            if reader.metadata.num_rows > rows:
                start = 0
                for batch in reader.iter_batches(batch_size=rows):
                    yield batch.to_pandas(), f"{file} (rows {start + 1}-{start + batch.num_rows})"
                    start += batch.num_rows
                return
    yield read_table(file), file


def iter_month(location: str, month: str | dt.date, unique_days: bool = True,
               batch_rows: int = 1_000_000):
    """One month, piece by piece: a folder or glob gives one piece per Parquet file, a Parquet
    file of more than ``batch_rows`` rows one per batch, so a month larger than memory can be
    written chunk by chunk. Every piece is conformed on its own; a day repeated across pieces is
    an error as within one."""
    per_month = "{month}" in location
    path = month_location(location, month)
    seen: set = set()
    rows = 0
    for file in pieces(path):
        for table, name in _batches(file, batch_rows):
            frame = select_month(conform(table, name, unique_days), month, name,
                                 whole_file=per_month, allow_empty=True)
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
    if not rows:
        raise SourceError(path, f"no rows for the month {month_label(month)}", DATE_COLUMN)
