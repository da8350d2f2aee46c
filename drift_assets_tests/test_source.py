"""The loader: good files load with the schema's types; a bad file names file, column, problem."""

from __future__ import annotations

import functools
import http.server
import threading

import numpy as np
import pandas as pd
import pytest

from drift_assets.lib.generator import generate, generate_month
from drift_assets.lib.source import SourceError, conform, load_month, read_table


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "day.csv"
    generate("2011-01", "2011-03").to_csv(path, index=False)
    return path


def _error(location, month="2011-02", **kwargs) -> SourceError:
    with pytest.raises(SourceError) as caught:
        load_month(str(location), month, **kwargs)
    return caught.value


def test_csv_and_parquet_load_the_same_month(table, tmp_path):
    parquet = tmp_path / "day.parquet"
    generate("2011-01", "2011-03").to_parquet(parquet)
    from_csv = load_month(str(table), "2011-02")
    from_parquet = load_month(str(parquet), "2011-02")
    assert len(from_csv) == 28
    assert str(from_csv["dteday"].min()) == "2011-02-01"
    pd.testing.assert_frame_equal(from_csv, from_parquet, check_exact=False)
    assert str(from_csv["cnt"].dtype) == "Int64" and from_csv["temp"].dtype == np.float64


def test_one_file_a_month(tmp_path):
    generate_month("2011-05").to_csv(tmp_path / "2011-05.csv", index=False)
    frame = load_month(str(tmp_path / "{month}.csv"), "2011-05")
    assert len(frame) == 31


def test_loads_from_a_url(table):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(table.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{table.name}"
        assert len(load_month(url, "2011-03")) == 31
        assert "cannot be downloaded" in str(_error(url + ".missing"))
    finally:
        server.shutdown()


def test_labels_may_arrive_later(tmp_path):
    path = tmp_path / "unlabelled.csv"
    unlabelled = generate_month("2011-04").drop(columns=["casual", "registered", "cnt"])
    unlabelled.to_csv(path, index=False)
    frame = load_month(str(path), "2011-04")
    assert frame["cnt"].isna().all() and len(frame) == 30


def _rewrite(table, tmp_path, change) -> str:
    frame = pd.read_csv(table, dtype=str)
    changed = change(frame)
    path = tmp_path / "bad.csv"
    changed.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(
    ("change", "column", "problem"),
    [
        (lambda f: f.drop(columns=["hum"]), None, "missing required column(s): hum"),
        (lambda f: f.assign(colour="red"), None, "unknown column(s): colour"),
        (lambda f: f.assign(temp=f["temp"].where(f.index != 40, "warm")), "temp",
         "not a number: row 42 has 'warm'"),
        (lambda f: f.assign(hum=f["hum"].where(f.index != 35, "inf")), "hum", "infinite value"),
        (lambda f: f.assign(weathersit=f["weathersit"].where(f.index != 33, "1.5")), "weathersit",
         "not an integer"),
        (lambda f: f.assign(dteday=f["dteday"].where(f.index != 34, "31/02/2011")), "dteday",
         "not a date"),
        (lambda f: pd.concat([f, f.iloc[[40]].assign(instant="9999")]), "dteday",
         "duplicate value"),
        (lambda f: pd.concat([f, f.iloc[[40]]]), "instant", "duplicate value"),
    ],
)
def test_bad_cells_name_file_column_and_problem(table, tmp_path, change, column, problem):
    path = _rewrite(table, tmp_path, change)
    error = _error(path)
    assert error.source == path
    assert error.column == column
    assert problem in error.problem
    assert path in str(error) and problem in str(error)


def test_missing_values_are_data_not_errors(table, tmp_path):
    path = _rewrite(table, tmp_path, lambda f: f.assign(hum=f["hum"].where(f.index % 2 == 0, "")))
    frame = load_month(path, "2011-02")
    assert frame["hum"].isna().mean() == pytest.approx(0.5, abs=0.05)


def test_whole_files_that_cannot_be_used(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "the file is empty" in str(_error(empty))
    header = tmp_path / "header.csv"
    header.write_text(",".join(generate_month("2011-01").columns) + "\n")
    assert "header but no rows" in str(_error(header))
    latin = tmp_path / "latin.csv"
    latin.write_bytes(generate_month("2011-02").to_csv(index=False).encode() + "caf\xe9".encode(
        "latin-1"))
    assert "not UTF-8" in str(_error(latin))
    truncated = tmp_path / "cut.parquet"
    generate_month("2011-02").to_parquet(truncated)
    truncated.write_bytes(truncated.read_bytes()[:300])
    assert "not a readable Parquet file" in str(_error(truncated))
    assert "no such file" in str(_error(tmp_path / "nowhere.csv"))


def test_month_without_rows_and_dates_outside_the_month(table, tmp_path):
    error = _error(table, month="2011-07")
    assert error.column == "dteday" and "no rows for the month 2011-07" in error.problem
    generate("2011-05", "2011-06").to_csv(tmp_path / "2011-05.csv", index=False)
    error = _error(tmp_path / "{month}.csv", month="2011-05")
    assert "outside the month 2011-05" in error.problem and error.column == "dteday"


def test_conform_accepts_many_rows_a_day_when_told():
    frame = generate_month("2011-02", rows_per_day=3)
    with pytest.raises(SourceError, match="duplicate value"):
        conform(frame, "stations.csv")
    assert len(conform(frame, "stations.csv", unique_days=False)) == 84


def test_read_table_typed_for_detect(table):
    assert read_table(str(table), as_text=False)["temp"].dtype == np.float64


def test_a_large_parquet_file_is_read_in_batches(tmp_path):
    """One Parquet file of many rows a day comes in batches of the asked size, equal together to
    the file read whole; a bad value in a later batch names the file and the batch's rows."""
    from drift_assets.lib.source import iter_month

    frame = generate("2011-02", "2011-02", rows_per_day=50)
    frame.to_parquet(tmp_path / "big.parquet", index=False, row_group_size=300)
    path = str(tmp_path / "big.parquet")
    batches = list(iter_month(path, "2011-02", unique_days=False, batch_rows=500))
    assert len(frame) == 1400 and [len(b) for b in batches] == [500, 500, 400]
    whole = load_month(path, "2011-02", unique_days=False)
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True)
                                  .sort_values(["dteday", "instant"]).reset_index(drop=True),
                                  whole)
    frame["hum"] = frame["hum"].astype(str).where(frame.index != 1200, "wet")
    frame.to_parquet(path, index=False)
    with pytest.raises(SourceError) as caught:
        list(iter_month(path, "2011-02", unique_days=False, batch_rows=500))
    assert caught.value.source == f"{path} (rows 1001-1400)"
    assert caught.value.column == "hum" and "not a number" in caught.value.problem
