"""The bike-sharing daily table: its columns, their types and the roles they play."""

from __future__ import annotations

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

