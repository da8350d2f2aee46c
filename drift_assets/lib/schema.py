"""The bike-sharing daily table: its columns, their types and the roles they play."""

from __future__ import annotations

import datetime as dt

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


def month_start(value: str | dt.date) -> dt.date:
    """The first day of the month named by '2011-03', '2011-03-01' or a date."""
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:7] + "-01")
    except ValueError as exc:
        raise ValueError(f"not a month: {value!r} (expected YYYY-MM or YYYY-MM-DD)") from exc


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after the one holding ``day``."""
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_label(value: str | dt.date) -> str:
    """'2011-03' for any way of naming March 2011."""
    return month_start(value).strftime("%Y-%m")
