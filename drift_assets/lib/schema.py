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
