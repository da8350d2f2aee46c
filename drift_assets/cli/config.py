"""``drift-assets config check`` and ``drift-assets init``: declare a table to watch, and check a
declaration before anything runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from drift_assets.lib.declaration import (
    NAME,
    DeclarationError,
    check_columns,
    load_declarations,
)
from drift_assets.lib.examples import EXAMPLES

SAMPLE_ROWS = 10_000
# Column names that say "this is when the row happened", in the order init prefers them.
TIME_NAMES = ("timestamp", "datetime", "date", "dteday", "day", "time", "ts", "created_at")


def read_sample(location: str, rows: int = SAMPLE_ROWS) -> pd.DataFrame:
    """The first ``rows`` rows of a CSV or Parquet file (chosen by its content)."""
    path = Path(location).expanduser()
    if not path.is_file():
        raise DeclarationError(location, "no such file")
    with path.open("rb") as handle:
        head = handle.read(4)
    if not head.strip():
        raise DeclarationError(location, "the file is empty")
    try:
        if head == b"PAR1":
            import pyarrow.parquet as pq

            batch = next(pq.ParquetFile(path).iter_batches(batch_size=rows), None)
            return batch.to_pandas() if batch is not None else pd.DataFrame()
        return pd.read_csv(path, nrows=rows, encoding="utf-8-sig")
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DeclarationError(location, f"not a readable CSV or Parquet file "
                               f"({str(exc).splitlines()[0]})") from None


def _timestamp_candidates(sample: pd.DataFrame, timestamp_format: str | None = None
                          ) -> list[str]:
    """Columns whose every value in the sample is a date or a datetime, named ones first."""
    found = []
    for column in sample.columns:
        values = sample[column].dropna()
        if values.empty or pd.api.types.is_numeric_dtype(values):
            continue
        if pd.api.types.is_datetime64_any_dtype(values):
            found.append(column)
            continue
        parsed = pd.to_datetime(values.astype(str), format=timestamp_format or "mixed",
                                errors="coerce")
        if parsed.notna().all():
            found.append(column)
    rank = {name: i for i, name in enumerate(TIME_NAMES)}
    return sorted(found, key=lambda c: rank.get(str(c).lower(), len(rank)))


def _kind(values: pd.Series) -> str:
    """What init writes beside a column: Evidently's type for it (num, cat, text, …)."""
    from drift_assets.engine.profile import evidently_column_type

    return evidently_column_type(values)


def _identifier(sample: pd.DataFrame, exclude: str) -> str | None:
    """The first column that names rows rather than describes them: integers all different and
    rising (a row number), or text all different and never missing (a ticket or order id)."""
    for column in sample.columns:
        values = sample[column]
        if column == exclude or len(values) < 2 or not values.is_unique:
            continue
        if pd.api.types.is_integer_dtype(values) and values.is_monotonic_increasing:
            return str(column)
        if (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)) \
                and values.notna().all():
            return str(column)
    return None


def _months(location: str, timestamp: str, timestamp_format: str | None = None
            ) -> tuple[str, str] | None:
    """The first and last month of the whole file's timestamp column (that column alone is
    read), or None when it cannot be read so."""
    path = Path(location).expanduser()
    try:
        with path.open("rb") as handle:
            parquet = handle.read(4) == b"PAR1"
        if parquet:
            import pyarrow.parquet as pq

            values = pq.read_table(path, columns=[timestamp]).column(0).to_pandas()
        else:
            values = pd.read_csv(path, usecols=[timestamp], encoding="utf-8-sig")[timestamp]
    except (OSError, ValueError, KeyError, pd.errors.ParserError):
        return None
    times = pd.to_datetime(values.astype(str), format=timestamp_format or "mixed",
                           errors="coerce", utc=True).dropna()
    if times.empty:
        return None
    return f"{times.min():%Y-%m}", f"{times.max():%Y-%m}"


def declaration(location: str, name: str, timestamp: str | None = None) -> str:
    """A declaration of the table at ``location`` that ``config check`` accepts as it is."""
    if not NAME.match(name):
        raise DeclarationError(location, f"dataset name {name!r} must match [a-z][a-z0-9_]*, "
                               "at most 48 characters")
    sample = read_sample(location)
    if sample.empty:
        raise DeclarationError(location, "the file has a header but no rows")
    if timestamp is None:
        candidates = _timestamp_candidates(sample)
        if not candidates:
            raise DeclarationError(location, "no column holds dates or datetimes in every "
                                   "row: name the timestamp column with --timestamp")
        timestamp = candidates[0]
    elif timestamp not in sample.columns:
        raise DeclarationError(location, f"no column {timestamp!r} (it has "
                               f"{', '.join(map(str, sample.columns))})")
    times = pd.to_datetime(sample[timestamp].astype(str), format="mixed", errors="coerce",
                           utc=True)
    if times.isna().all():
        raise DeclarationError(location, f"column {timestamp!r} holds no dates")
    span = _months(location, timestamp) or (f"{times.min():%Y-%m}", None)
    identifier = _identifier(sample, exclude=timestamp)
    kinds = {str(c): _kind(sample[c]) for c in sample.columns if c not in (timestamp, identifier)}
    features = [c for c, k in kinds.items() if k in ("num", "cat")]
    categorical = [c for c in features if kinds[c] == "cat"]
    other = {c: k for c, k in kinds.items() if c not in features}
    lines = [
        "# Written by `drift-assets init` from the first "
        f"{min(len(sample), SAMPLE_ROWS):,} rows of {location}.",
        "# Check it with `drift-assets config check FILE`; every key is described in README.md.",
        "datasets:",
        f"  {name}:",
        f"    source: {_quote(location)}",
        f"    timestamp: {_quote(timestamp)}",
        f"    start: {span[0]}",
        *([f"    end: {span[1]}  # the file's last month: its partitions end there"]
          if span[1] else []),
        *([f"    id: {_quote(identifier)}"] if identifier else []),
        "    features:",
        *[f"      - {_quote(c)}  # {kinds[c]}" for c in features],
    ]
    if categorical:
        lines += ["    categorical:", *[f"      - {_quote(c)}" for c in categorical]]
    if other:
        lines.append("    # not monitored (Evidently cannot test these kinds): "
                     + ", ".join(f"{c} ({k})" for c, k in other.items()))
    lines += ["    reference: seasonal", "    thresholds: calibrated"]
    return "\n".join(lines) + "\n"


def _quote(value: str) -> str:
    import json

    return json.dumps(str(value))  # a JSON string is a YAML string


def run_init(args) -> int:
    try:
        text = declaration(args.file, args.name, args.timestamp)
    except DeclarationError as exc:
        print(f"drift-assets init: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


def check(path: str) -> list[str]:
    """One line per dataset of the declaration at ``path``, after every check: the keys, and
    the columns of each file source against a sample of it."""
    lines = []
    for name, dataset in load_declarations(path).items():
        local = dataset.local_source()
        example = EXAMPLES.get(name) if dataset.generated else None
        if example is not None:
            check_columns(dataset, example.schema.names)
            columns = "columns checked against the generated table"
        elif local is not None and local.is_file():
            check_columns(dataset, [str(c) for c in read_sample(str(local), 1).columns])
            columns = "columns checked against the source"
        elif local is not None and not local.is_dir() and not any(c in str(local) for c in "*?["):
            raise DeclarationError(dataset.file, f"no such file: {local}", name, "source")
        else:
            columns = "columns not checked (the source is generated, remote or per month)"
        model = f"{dataset.model.task} model of {dataset.model.target}" if dataset.model \
            else "monitored only"
        lines.append(f"ok: {name} ({model}; {columns})")
    return lines


def run_config(args) -> int:
    from drift_assets.settings import load_settings

    path = args.file or str(load_settings().config_path)
    try:
        lines = check(path)
    except DeclarationError as exc:
        print(f"drift-assets config check: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0
