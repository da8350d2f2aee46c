"""Kinds told from the values: a raw (text) or typed frame gives the schema a loader holds to."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest

from drift_assets.lib.generator import generate
from drift_assets.lib.schema import BIKE, Schema, SchemaError, infer_schema

HINT = Schema((), "at", "id", ("label",))


def _text(**columns) -> pd.DataFrame:
    """A frame of text cells, as the CSV reader gives it."""
    return pd.DataFrame(columns, dtype=object)


def test_kinds_from_text_in_the_frames_order():
    frame = _text(
        count=["1", " 2", "-3", ""],
        whole=["1.0", "2e3", "NA", "4"],  # written as reals, all whole: int
        real=["1.5", "2", "nan", "3"],
        word=["a", "b", "1", "c"],
        at=["2024-02-01", "2024-02-02", "2024-02-03", "2024-02-04"],
        id=["x1", "x2", "x3", "x4"],
        label=["0", "1", "", "1"],
        empty=["", " ", "NA", "null"],
    )
    schema = infer_schema(frame, HINT)
    assert schema.columns == (("count", "int"), ("whole", "int"), ("real", "float"),
                              ("word", "text"), ("at", "date"), ("id", "text"),
                              ("label", "int"), ("empty", "float"))
    assert (schema.timestamp, schema.key, schema.labels) == ("at", "id", ("label",))


def test_integers_beyond_64_bits_or_floats_are_told_exactly():
    frame = _text(at=["2024-02-01"] * 3, id=["1", "2", "3"], label=["1"] * 3,
                  big=["9007199254740993", "1", "2"],  # beyond a float's 53 bits: an int
                  huge=["99999999999999999999", "1", "2"],  # beyond 64 bits: a number
                  half=["9007199254740993.5", "1", "2"])  # a float rounds it to a whole one
    kinds = infer_schema(frame, HINT).kinds
    assert (kinds["big"], kinds["huge"], kinds["half"]) == ("int", "float", "float")


def test_kinds_from_typed_columns():
    frame = pd.DataFrame({
        "at": pd.to_datetime(["2024-02-01 10:30", "2024-02-02 00:00"]).tz_localize("Europe/Paris"),
        "id": [1.0, 2.0],  # a key of whole numbers read as floats
        "label": [True, False],
        "counts": [np.nan, 3.0],
        "ratio": [0.5, np.inf],
        "category": pd.Categorical(["a", "b"]),
        "size": np.array([1, 2], dtype=np.uint64),
        "nothing": [None, None],
    })
    assert infer_schema(frame, HINT).columns == (
        ("at", "datetime"), ("id", "int"), ("label", "int"), ("counts", "int"),
        ("ratio", "float"), ("category", "text"), ("size", "int"), ("nothing", "float"))


def test_the_timestamp_is_a_date_unless_some_value_has_a_time_of_day():
    def kind(values, fmt=None) -> str:
        frame = _text(at=values, id=[str(i) for i in range(len(values))], label=["1"] * len(values))
        hint = Schema((), "at", "id", ("label",), fmt)
        return infer_schema(frame, hint).kinds["at"]

    assert kind(["2024-02-01", "2024-02-02"]) == "date"
    assert kind(["2024-02-01T00:00:00+05:00", "2024-02-02T00:00:00+05:00"]) == "date"  # as written
    assert kind(["2024-02-01T00:00:00", "2024-02-01T00:00:01"]) == "datetime"
    assert kind(["2024-02-01T10:00:00+05:00", "2024-02-02T00:00:00Z"]) == "datetime"
    assert kind(["01/02/2024", "02/02/2024"], "%d/%m/%Y") == "date"
    assert kind(["01/02/2024 10:00+0100", "02/02/2024 00:00+0100"], "%d/%m/%Y %H:%M%z") == (
        "datetime")
    frame = pd.DataFrame({"at": [dt.date(2024, 2, 1), dt.date(2024, 2, 2)], "id": [1, 2],
                          "label": [1, 2]})
    assert infer_schema(frame, HINT).kinds["at"] == "date"


def test_a_timestamp_that_cannot_be_read_is_named():
    frame = _text(at=["2024-02-01", "soon", "2024-02-03"], id=["1", "2", "3"], label=["1"] * 3)
    with pytest.raises(SchemaError) as caught:
        infer_schema(frame, HINT)
    assert (caught.value.column, caught.value.problem, caught.value.position,
            caught.value.value) == ("at", "not a date or time", 1, "soon")
    assert "column 'at'" in str(caught.value) and "'soon'" in str(caught.value)
    with pytest.raises(SchemaError, match="not a date or time in the format '%d/%m/%Y'"):
        infer_schema(frame.assign(at=["01/02/2024", "2024-02-02", "03/02/2024"]),
                     Schema((), "at", "id", ("label",), "%d/%m/%Y"))
    with pytest.raises(SchemaError, match="missing value"):
        infer_schema(frame.assign(at=["2024-02-01", "", "2024-02-03"]), HINT)


def test_roles_that_cannot_be_told():
    frame = _text(at=["2024-02-01", "2024-02-02"], id=["", "NA"], label=["1", "2"])
    with pytest.raises(SchemaError) as caught:
        infer_schema(frame, HINT)
    assert (caught.value.column, caught.value.problem) == ("id", "the key has no values")
    assert infer_schema(frame.assign(id=["1.5", "2.5"]), HINT).kinds["id"] == "text"
    for role, name in (("timestamp", "at"), ("key", "id"), ("label", "label")):
        with pytest.raises(SchemaError) as caught:
            infer_schema(frame.drop(columns=[name]), HINT)
        assert caught.value.problem == f"the {role} column is not in the table"
    twice = pd.DataFrame([["2024-02-01", "1", "1", "2"]], columns=["at", "id", "label", "id "])
    with pytest.raises(SchemaError, match="given twice"):
        infer_schema(twice, HINT)


def test_known_kinds_are_kept_and_the_bike_table_is_inferred():
    assert infer_schema(_text(anything=["x"]), BIKE) is BIKE
    hint = Schema((), BIKE.timestamp, BIKE.key, BIKE.labels)
    typed = generate("2011-01", "2011-02")
    assert infer_schema(typed, hint) == BIKE
    as_text = pd.read_csv(io.StringIO(typed.to_csv(index=False)), dtype=str)
    assert infer_schema(as_text, hint) == BIKE
