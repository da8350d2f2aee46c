"""What a table is made of: its columns and their kinds, the timestamp that places a row in a
month, the row key and the columns that may arrive late; and the bike-sharing example's.

A :class:`Schema` is what the source conforms rows to and what the warehouse makes its tables
from. An example dataset (the generated ones) knows its schema; a team's own table has its
kinds inferred from the reference when it is first loaded (:func:`infer_schema`), and every
later month is held to them.
"""

from __future__ import annotations

from dataclasses import dataclass

# The kinds of column: "int" an integer, "float" a real number, "date" a calendar day,
# "datetime" an instant (UTC, without zone), "text" anything else (categories, codes, words).
KINDS = ("int", "float", "date", "datetime", "text")
TIME_KINDS = ("date", "datetime")


@dataclass(frozen=True)
class Schema:
    """The columns of a table in order, ``(name, kind)``, and the roles of some of them.

    ``columns`` may be empty: the kinds are not known yet and are inferred from the first rows
    read (a declared table before its reference is loaded)."""

    columns: tuple[tuple[str, str], ...]
    timestamp: str
    key: str | None = None
    labels: tuple[str, ...] = ()  # may be absent from a month whose labels have not arrived
    timestamp_format: str | None = None  # strptime format; None: recognised as written

    @property
    def kinds(self) -> dict[str, str]:
        return dict(self.columns)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def known(self) -> bool:
        return bool(self.columns)

    @property
    def required(self) -> list[str]:
        """The columns every file must have: all but the labels."""
        return [name for name in self.names if name not in self.labels]

    @property
    def order(self) -> list[str]:
        """The columns rows are sorted by: the timestamp, then the key."""
        return [self.timestamp] + ([self.key] if self.key else [])

    def with_columns(self, columns: dict[str, str]) -> Schema:
        """This schema with the given kinds (in the given order)."""
        return Schema(tuple(columns.items()), self.timestamp, self.key, self.labels,
                      self.timestamp_format)


# --- The bike-sharing daily table ---

# Column -> kind. "date" is a calendar day, "int" an integer count or code, "float" a measurement.
COLUMNS: dict[str, str] = {
    "instant": "int",
    "dteday": "date",
    "season": "int",
    "yr": "int",
    "mnth": "int",
    "holiday": "int",
    "weekday": "int",
    "workingday": "int",
    "weathersit": "int",
    "temp": "float",
    "atemp": "float",
    "hum": "float",
    "windspeed": "float",
    "casual": "int",
    "registered": "int",
    "cnt": "int",
}

DATE_COLUMN = "dteday"
KEY_COLUMN = "instant"
TARGET = "cnt"
# Columns the model never sees: identifiers, the target and the target's two parts.
NON_FEATURES = ("cnt", "registered", "casual", "dteday", "instant")
CATEGORICAL_FEATURES = ("season", "yr", "mnth", "holiday", "weekday", "workingday", "weathersit")
NUMERIC_FEATURES = ("temp", "atemp", "hum", "windspeed")
# The features the well-known pipeline checks for drift.
DEFAULT_DRIFT_FEATURES = ("weathersit", "temp", "atemp", "hum", "windspeed")
# Label columns may be missing for a month whose labels have not arrived yet.
LABEL_COLUMNS = ("casual", "registered", "cnt")

BIKE = Schema(tuple(COLUMNS.items()), DATE_COLUMN, KEY_COLUMN, LABEL_COLUMNS)


# --- Kinds told from the values: a declared table's first rows ---
# pandas and numpy are imported inside the functions, so that the edits to this module stay here.

# A time of day followed by a time zone: Z, +05, +0530 or +05:30 (to be matched ignoring case).
TIME_ZONE = r"\d:\d\d(?::\d\d(?:[.,]\d*)?)?\s*(?P<zone>Z|[+-]\d\d(?::?\d\d)?)\s*$"
MISSING_TEXT = ("", "na", "nan", "null", "none")  # missing values written out (lowercased)
_INT64 = 2**63
_EXACT_FLOAT = 2**53  # from here on a float64 no longer holds every integer


class SchemaError(ValueError):
    """A column whose kind cannot be told: the column, the problem and, where one value is to
    blame, its position in the frame (0 = the first row) and the value."""

    def __init__(self, column: str, problem: str, position: int | None = None, value=None):
        self.column, self.problem, self.position, self.value = column, problem, position, value
        where = "" if position is None else f": row {position} of the frame has {value!r}"
        super().__init__(f"column {column!r}: {problem}{where}")


def missing_text(values):
    """A column as stripped text (pandas "string"), a blank cell or a written-out NA missing."""
    text = values.astype("string").str.strip()
    return text.mask(text.str.lower().isin(MISSING_TEXT))


def read_times(text, fmt: str | None = None, utc: bool = False):
    """Date-times from stripped text (missing as NA): with ``fmt`` that strptime format, else ISO
    8601 and, for the values that are not, the layout pandas infers from the first of them; NaT
    where a value cannot be read. ``utc``: zones applied, values without one taken as UTC."""
    import warnings

    import pandas as pd

    if fmt is not None:
        return pd.to_datetime(text, format=fmt, errors="coerce", utc=utc)
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc)
    rest = (parsed.isna() & text.notna()).to_numpy(dtype=bool)
    if rest.any():
        with warnings.catch_warnings():  # "could not infer format": each value read on its own
            warnings.simplefilter("ignore", UserWarning)
            again = pd.to_datetime(text[rest], errors="coerce", utc=utc)
        if again.dtype == parsed.dtype:  # else a mix pandas cannot hold: left unread
            parsed[rest] = again
    return parsed


def wall_clock(values, fmt: str | None = None):
    """The date-times of a column as written, a time zone dropped rather than applied (naive
    datetime64); NaT where a value is missing or cannot be read."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_localize(None) if values.dt.tz is not None else values
    text = missing_text(values).str.replace(
        TIME_ZONE, lambda m: m.group(0)[: m.start("zone") - m.start()].rstrip(), case=False,
        regex=True)
    if fmt is not None and fmt.rstrip().endswith(("%z", "%Z")):  # the zone was cut off above
        fmt = fmt.rstrip()[:-2].rstrip()
    parsed = read_times(text, fmt)
    if not pd.api.types.is_datetime64_any_dtype(parsed):  # zones elsewhere than at the end
        parsed = read_times(text, fmt, utc=True)
    return parsed.dt.tz_localize(None) if parsed.dt.tz is not None else parsed


def _time_kind(name: str, values, fmt: str | None) -> str:
    """"date" when no value has a time of day other than midnight, else "datetime"."""
    import numpy as np

    if not len(values):
        raise SchemaError(name, "no rows to tell the kind of the timestamp from")
    wall = wall_clock(values, fmt)
    bad = wall.isna().to_numpy()
    if bad.any():
        position = int(np.argmax(bad))
        missing = missing_text(values.iloc[[position]]).isna().item()
        problem = "missing value" if missing else "not a date or time" + (
            f" in the format {fmt!r}" if fmt else "")
        raise SchemaError(name, problem, position, values.iloc[position])
    return "datetime" if (wall != wall.dt.normalize()).any() else "date"


def _integral(floats, text=None) -> bool:
    """Every number a whole one within 64 bits; one beyond a float's 53 bits judged by its text."""
    import numpy as np

    whole = np.isfinite(floats) & (np.abs(floats) < _INT64)
    whole[whole] = floats[whole] == np.round(floats[whole])
    if not whole.all():
        return False
    if text is not None:
        from decimal import Decimal, InvalidOperation

        for position in np.flatnonzero(np.abs(floats) >= _EXACT_FLOAT):
            try:
                exact = Decimal(text[position])
            except (InvalidOperation, ValueError):
                return False
            if exact != exact.to_integral_value() or not -_INT64 <= exact < _INT64:
                return False
    return True


def _value_kind(values) -> str | None:
    """"int", "float" or "text" for a column's values; None when every value is missing."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if pd.api.types.is_numeric_dtype(values):  # booleans too: whole numbers
        numbers = values.dropna()
        if not len(numbers):
            return None
        if pd.api.types.is_unsigned_integer_dtype(numbers):
            return "int" if numbers.max() < _INT64 else "float"
        if pd.api.types.is_integer_dtype(numbers):
            return "int"
        return "int" if _integral(numbers.to_numpy(dtype="float64")) else "float"
    if not pd.api.types.is_object_dtype(values) and not pd.api.types.is_string_dtype(values):
        return "text"  # a date, a time span: kept as written
    text = missing_text(values).dropna().to_numpy(dtype=object)
    if not len(text):
        return None
    with_arrow = pa.array(text, type=pa.string())
    try:
        pc.cast(with_arrow, pa.int64())
        return "int"  # integers as written, all within 64 bits
    except pa.ArrowInvalid:
        pass
    numbers = pd.to_numeric(pd.Series(text), errors="coerce").to_numpy(dtype="float64")
    if np.isnan(numbers).any():
        return "text"
    return "int" if _integral(numbers, text) else "float"


def infer_schema(frame, hint: Schema) -> Schema:
    """``hint``'s roles with the kinds of ``frame``'s columns (in the frame's order), told from
    the values, raw text or typed: the timestamp "date" if no value has a time of day other than
    midnight, else "datetime"; another column "int" if every value is a whole number within 64
    bits (booleans too), "float" if a number, else "text"; a column of only missing values
    "float" (the key: an error). A key of numbers that are not whole is text. ``hint`` as it is
    when its columns are known. Raises :class:`SchemaError`."""
    if hint.known:
        return hint
    names = [str(column).strip() for column in frame.columns]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise SchemaError(twice[0], "given twice")
    frame = frame.set_axis(names, axis=1)
    roles = [("timestamp", hint.timestamp)] + ([("key", hint.key)] if hint.key else []) + [
        ("label", label) for label in hint.labels]
    for role, name in roles:
        if name not in names:  # a label too: its kind cannot be told from nothing
            raise SchemaError(name, f"the {role} column is not in the table")
    kinds = {}
    for name in names:
        if name == hint.timestamp:
            kinds[name] = _time_kind(name, frame[name], hint.timestamp_format)
            continue
        kind = _value_kind(frame[name])
        if name == hint.key:
            if kind is None:
                raise SchemaError(name, "the key has no values")
            kind = "int" if kind == "int" else "text"
        kinds[name] = kind or "float"
    return hint.with_columns(kinds)
