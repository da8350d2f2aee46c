"""The loader: good files load with the schema's types; a bad file names file, column, problem."""

from __future__ import annotations

import functools
import gzip
import http.server
import threading
import time

import numpy as np
import pandas as pd
import pytest

from drift_assets.lib.generator import generate, generate_month
from drift_assets.lib.schema import BIKE, Schema
from drift_assets.lib.source import (
    SourceError,
    conform,
    iter_month,
    load_inferred,
    load_month,
    read_table,
)
from drift_assets.resources.source import FileSource, GeneratedSource


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "day.csv"
    generate("2011-01", "2011-03").to_csv(path, index=False)
    return path


def _error(location, month="2011-02", **kwargs) -> SourceError:
    with pytest.raises(SourceError) as caught:
        load_month(str(location), month, BIKE, **kwargs)
    return caught.value


def test_csv_and_parquet_load_the_same_month(table, tmp_path):
    parquet = tmp_path / "day.parquet"
    generate("2011-01", "2011-03").to_parquet(parquet)
    from_csv = load_month(str(table), "2011-02", BIKE)
    from_parquet = load_month(str(parquet), "2011-02", BIKE)
    assert len(from_csv) == 28
    assert str(from_csv["dteday"].min()) == "2011-02-01"
    pd.testing.assert_frame_equal(from_csv, from_parquet, check_exact=False)
    assert str(from_csv["cnt"].dtype) == "Int64" and from_csv["temp"].dtype == np.float64


def test_one_file_a_month(tmp_path):
    generate_month("2011-05").to_csv(tmp_path / "2011-05.csv", index=False)
    frame = load_month(str(tmp_path / "{month}.csv"), "2011-05", BIKE)
    assert len(frame) == 31


def test_loads_from_a_url(table):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(table.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{table.name}"
        assert len(load_month(url, "2011-03", BIKE)) == 31
        assert "cannot be downloaded" in str(_error(url + ".missing"))
    finally:
        server.shutdown()


def test_labels_may_arrive_later(tmp_path):
    path = tmp_path / "unlabelled.csv"
    unlabelled = generate_month("2011-04").drop(columns=["casual", "registered", "cnt"])
    unlabelled.to_csv(path, index=False)
    frame = load_month(str(path), "2011-04", BIKE)
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
    frame = load_month(path, "2011-02", BIKE)
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
        conform(frame, "stations.csv", BIKE)
    assert len(conform(frame, "stations.csv", BIKE, unique_days=False)) == 84


def test_read_table_typed_for_detect(table):
    assert read_table(str(table), as_text=False)["temp"].dtype == np.float64


def test_a_large_parquet_file_is_read_in_batches(tmp_path):
    """One Parquet file of many rows a day comes in batches of the asked size, equal together to
    the file read whole; a bad value in a later batch names the file and the batch's rows."""
    frame = generate("2011-02", "2011-02", rows_per_day=50)
    frame.to_parquet(tmp_path / "big.parquet", index=False, row_group_size=300)
    path = str(tmp_path / "big.parquet")
    batches = list(iter_month(path, "2011-02", BIKE, unique_days=False, batch_rows=500))
    assert len(frame) == 1400 and [len(b) for b in batches] == [500, 500, 400]
    whole = load_month(path, "2011-02", BIKE, unique_days=False)
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True)
                                  .sort_values(["dteday", "instant"]).reset_index(drop=True),
                                  whole)
    frame["hum"] = frame["hum"].astype(str).where(frame.index != 1200, "wet")
    frame.to_parquet(path, index=False)
    with pytest.raises(SourceError) as caught:
        list(iter_month(path, "2011-02", BIKE, unique_days=False, batch_rows=500))
    assert caught.value.source == f"{path} (rows 1001-1400)"
    assert caught.value.column == "hum" and "not a number" in caught.value.problem


# --- Sources that misbehave (issue 18, class 7) ---


class _Trickle(http.server.BaseHTTPRequestHandler):
    """Sends a small CSV a byte every 0.05 s for about two seconds, then the rest at once; with
    ``in_headers`` the status line and headers come that way too."""

    body = generate_month("2011-02").to_csv(index=False).encode()
    in_headers = False

    def do_GET(self):  # noqa: N802 (http.server's name)
        head = (f"HTTP/1.0 200 OK\r\nContent-Length: {len(self.body)}\r\n\r\n").encode()
        slow, fast = (head + self.body[:5], self.body[5:]) if self.in_headers else (
            self.body[:40], self.body[40:])
        if not self.in_headers:
            self.wfile.write(head)
        try:
            for byte in slow:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(fast)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: what the deadline is for

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("in_headers", [False, True])
def test_a_download_that_trickles_stops_at_its_deadline(in_headers):
    handler = type("Handler", (_Trickle,), {"in_headers": in_headers})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/day.csv"
    try:
        started = time.monotonic()
        if in_headers:
            error = _error(url, deadline=1)
        else:
            with pytest.raises(SourceError) as caught:
                list(FileSource(location=url, download_deadline=1).iter_month("2011-02", BIKE))
            error = caught.value
        assert time.monotonic() - started < 4
        assert error.source == url and error.problem == "download did not finish within 1 s"
        assert len(load_month(url, "2011-02", BIKE, deadline=30)) == 28  # in time: the whole file
    finally:
        server.shutdown()
        server.server_close()


class _CutShort(http.server.BaseHTTPRequestHandler):
    """Announces a whole file and closes the connection after its first 100 bytes."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = _Trickle.body
        self.wfile.write(f"HTTP/1.0 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                         + body[:100])

    def log_message(self, *args):
        pass


def test_a_download_cut_short_is_refused():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CutShort)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/day.csv"
    try:
        error = _error(url)
        assert error.source == url and error.problem.startswith("cannot be downloaded")
    finally:
        server.shutdown()
        server.server_close()


def test_gzip_content_is_read_whatever_the_name(table, tmp_path):
    plain = load_month(str(table), "2011-02", BIKE)
    for name in ("day.csv.gz", "day-gzipped.csv"):
        path = tmp_path / name
        path.write_bytes(gzip.compress(table.read_bytes()))
        pd.testing.assert_frame_equal(load_month(str(path), "2011-02", BIKE), plain)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(gzip.compress(table.read_bytes())[:500])
    assert "not a readable gzip file" in str(_error(cut))


def _edit_line(table, tmp_path, number: int, edit) -> str:
    """The table with line ``number`` (1 = the header) changed by ``edit`` (text -> text)."""
    lines = table.read_text().splitlines(keepends=True)
    lines[number - 1] = edit(lines[number - 1].rstrip("\n")) + "\n"
    path = tmp_path / "edited.csv"
    path.write_text("".join(lines))
    return str(path)


def _cells(replace: dict[int, str]):
    def edit(line: str) -> str:
        cells = line.split(",")
        for index, value in replace.items():
            cells[index] = value
        return ",".join(cells)
    return edit


HUM, CNT = 11, 15  # positions of the columns in the generated table


@pytest.mark.parametrize(
    ("edit", "column", "problem"),
    [
        (_cells({HUM: "\x00"}), "hum", r"NUL byte in a cell: row 42 has '\x00'"),
        (_cells({HUM: "0.5\x00"}), "hum", r"NUL byte in a cell: row 42 has '0.5\x00'"),
        (lambda line: line.rsplit(",", 2)[0], None,
         "row 42 has 14 fields but the header has 16"),
        (lambda line: line + ",7", None, "row 42 has 17 fields but the header has 16"),
        (_cells({CNT: "1e20"}), "cnt", "out of range for a 64-bit integer: row 42 has '1e20'"),
        (_cells({CNT: "99999999999999999999"}), "cnt",
         "out of range for a 64-bit integer: row 42 has '99999999999999999999'"),
        (_cells({CNT: "-9223372036854775809"}), "cnt", "out of range for a 64-bit integer"),
        (_cells({CNT: "9007199254740993.5"}), "cnt", "not an integer: row 42 has"),
    ],
)
def test_a_broken_line_is_refused_naming_its_row(table, tmp_path, edit, column, problem):
    path = _edit_line(table, tmp_path, 42, edit)
    error = _error(path)
    assert (error.source, error.column) == (path, column)
    assert problem in error.problem


def test_a_short_first_row_and_a_long_first_row_are_refused(table, tmp_path):
    """pandas reads a first row one field longer than the header as an index, silently."""
    for edit, fields in ((lambda line: line + ",7", 17), (lambda line: line.rsplit(",", 1)[0], 15)):
        error = _error(_edit_line(table, tmp_path, 2, edit), month="2011-01")
        assert error.problem == f"row 2 has {fields} fields but the header has 16"


def test_empty_trailing_fields_are_missing_values_not_short_rows(table, tmp_path):
    path = _edit_line(table, tmp_path, 42, lambda line: line.rsplit(",", 1)[0] + ",")
    frame = load_month(path, "2011-02", BIKE)
    assert frame["cnt"].isna().sum() == 1 and len(frame) == 28


def test_integers_beyond_floats_are_kept_exactly(table, tmp_path):
    path = _edit_line(table, tmp_path, 42, _cells({CNT: "9007199254740993"}))
    frame = load_month(path, "2011-02", BIKE)
    assert frame.loc[frame["instant"] == 41, "cnt"].item() == 9007199254740993
    assert frame["cnt"].dtype == "Int64"


def test_two_files_joined_are_refused_at_the_second_header(tmp_path):
    january, february = generate_month("2011-01"), generate_month("2011-02")
    path = tmp_path / "joined.csv"
    path.write_text(january.to_csv(index=False) + february.to_csv(index=False))
    error = _error(path)
    assert error.problem == f"row {len(january) + 2} repeats the header line (files joined?)"
    bom = tmp_path / "joined-bom.csv"
    bom.write_bytes(january.to_csv(index=False).encode("utf-8-sig")
                    + february.to_csv(index=False).encode("utf-8-sig"))
    assert f"row {len(january) + 2} repeats the header" in _error(bom).problem


def _with_time_zones(frame: pd.DataFrame, zones) -> pd.DataFrame:
    days = frame["dteday"].astype(str)
    stamps = [f"{day}T00:00:00{zone}" for day, zone in zip(days, zones, strict=True)]
    return frame.assign(dteday=stamps)


def test_mixed_time_zones_are_refused_one_zone_is_the_day_as_written(tmp_path):
    frame = generate_month("2011-02")
    path = tmp_path / "zones.csv"
    _with_time_zones(frame, ["+00:00"] * 5 + ["+05:00"] * 23).to_csv(path, index=False)
    error = _error(path)
    assert error.column == "dteday"
    assert error.problem == ("mixed time zones (row 2 has '2011-02-01T00:00:00+00:00'): "
                             "row 7 has '2011-02-06T00:00:00+05:00'")
    _with_time_zones(frame, ["+05:00"] * 28).to_csv(path, index=False)
    loaded = load_month(str(path), "2011-02", BIKE)
    assert [str(d) for d in loaded["dteday"]] == [str(d) for d in frame["dteday"]]
    _with_time_zones(frame, [""] * 27 + ["Z"]).to_csv(path, index=False)
    assert "mixed time zones" in _error(path).problem


def test_a_file_of_only_a_byte_order_mark_is_empty(tmp_path):
    for content in (b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n \n"):
        path = tmp_path / "bom.csv"
        path.write_bytes(content)
        assert _error(path).problem == "the file is empty"


# --- Memory on a large file (issue 18, class 10) ---


def test_a_large_csv_file_streams_in_chunks_with_file_line_numbers(tmp_path):
    """A CSV file comes in chunks of the asked size, equal together to the file read whole; a bad
    cell, a repeated key or day in a later chunk is named by its line in the file, also after a
    blank line and a quoted cell that spans two lines."""
    frame = generate("2011-02", "2011-02", rows_per_day=50)
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    batches = list(iter_month(str(path), "2011-02", BIKE, unique_days=False, csv_rows=500))
    assert [len(b) for b in batches] == [500, 500, 400]
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True)
                                  .sort_values(["dteday", "instant"]).reset_index(drop=True),
                                  load_month(str(path), "2011-02", BIKE, unique_days=False))

    lines = path.read_text().splitlines(keepends=True)

    def error_with(changed: dict[int, str], **kwargs) -> SourceError:
        edited = [changed.get(number, line) for number, line in enumerate(lines, start=1)]
        path.write_text("".join(edited))
        with pytest.raises(SourceError) as caught:
            list(iter_month(str(path), "2011-02", BIKE, csv_rows=500, **kwargs))
        return caught.value

    bad = error_with({1202: _cells({HUM: "wet"})(lines[1201].rstrip("\n")) + "\n"},
                     unique_days=False)
    assert (bad.source, bad.column) == (str(path), "hum")
    assert bad.problem == "not a number: row 1202 has 'wet'"
    shifted = error_with({3: lines[2] + "\n",  # a blank line after line 3
                          5: _cells({1: '"2011-02-01"'})(lines[4].rstrip("\n")) + "\n",
                          6: lines[5].replace(",1,", ',"1\n",', 1),  # a cell over two lines
                          1202: _cells({HUM: "wet"})(lines[1201].rstrip("\n")) + "\n"},
                         unique_days=False)
    assert shifted.problem == "not a number: row 1204 has 'wet'"
    repeated_key = lines[9].split(",")[0]
    key = error_with({1203: _cells({0: repeated_key})(lines[1202])}, unique_days=False)
    assert (key.column, key.problem) == ("instant",
                                         f"duplicate value: row 1203 has '{repeated_key}'")
    daily = lines[:1] + lines[1::50]  # one row a day; then the third day again, as row 30
    daily.append(_cells({0: "99999"})(daily[3]))
    path.write_text("".join(daily))
    with pytest.raises(SourceError) as caught:
        list(iter_month(str(path), "2011-02", BIKE, csv_rows=10))
    assert (caught.value.column, caught.value.problem) == (
        "dteday", "duplicate value: row 30 has '2011-02-03'")


# --- A table that is not the bike table: orders, a text key, instants with a time zone ---

ORDERS = Schema(
    (("order_id", "text"), ("placed_at", "datetime"), ("store", "text"), ("amount", "float"),
     ("items", "int"), ("returned", "int")),
    timestamp="placed_at", key="order_id", labels=("returned",))
ORDERS_HINT = Schema((), "placed_at", "order_id", ("returned",))


def _orders(rows: int = 40, zone: str = "+02:00", first: str = "2024-01-31 01:00") -> pd.DataFrame:
    """An order every 6 hours from ``first`` (as written, in ``zone``), keys out of time order,
    store names padded and one in four written 'NA'."""
    stamps = pd.date_range(first, periods=rows, freq="6h")
    return pd.DataFrame({
        "order_id": [f"o-{i * 7 % rows:03d}" for i in range(rows)],
        "placed_at": [f"{t:%Y-%m-%dT%H:%M:%S}{zone}" for t in stamps],
        "store": [" north ", "south", "NA", "east"] * (rows // 4),
        "amount": np.round(np.linspace(5, 80, rows), 2),
        "items": np.arange(rows) % 5 + 1,
        "returned": np.arange(rows) % 2,
    })


def _orders_error(path, month="2024-02", schema=ORDERS, **kwargs) -> SourceError:
    with pytest.raises(SourceError) as caught:
        list(iter_month(str(path), month, schema, **kwargs))
    return caught.value


def test_orders_load_from_csv_and_parquet_as_utc_instants_and_text(tmp_path):
    """Times with a zone become naive UTC, and the month is the UTC one: 2024-02-01 01:00 at
    +02:00 is still January. Text is stripped, 'NA' missing; many rows a day are fine."""
    frame = _orders()
    frame.to_csv(tmp_path / "orders.csv", index=False)
    frame.to_parquet(tmp_path / "orders.parquet", index=False)
    typed = frame.assign(placed_at=pd.to_datetime(frame["placed_at"]))  # a zoned Parquet column
    typed.to_parquet(tmp_path / "typed.parquet", index=False)
    february = load_month(str(tmp_path / "orders.csv"), "2024-02", ORDERS)
    for name in ("orders.parquet", "typed.parquet"):
        pd.testing.assert_frame_equal(load_month(str(tmp_path / name), "2024-02", ORDERS),
                                      february)
    assert list(february.columns) == ORDERS.names
    assert [str(t) for t in february.dtypes] == ["string", "datetime64[ns]", "string", "float64",
                                                "Int64", "Int64"]
    assert len(february) == 35 and february["placed_at"].is_monotonic_increasing
    assert february["placed_at"].iloc[0] == pd.Timestamp("2024-02-01 05:00")
    january = load_month(str(tmp_path / "orders.csv"), "2024-01", ORDERS)
    assert january["placed_at"].iloc[-1] == pd.Timestamp("2024-01-31 23:00")
    assert set(february["store"].dropna()) == {"north", "south", "east"}
    assert february["store"].isna().sum() == frame["store"].eq("NA").sum() - 1  # one in January
    assert february.loc[0, "order_id"] == frame.loc[5, "order_id"]


def test_a_time_without_zone_is_utc_and_zones_may_differ(tmp_path):
    path = tmp_path / "orders.csv"
    _orders(zone="").to_csv(path, index=False)
    naive = load_month(str(path), "2024-02", ORDERS)
    assert naive["placed_at"].iloc[0] == pd.Timestamp("2024-02-01 01:00")
    frame = _orders()
    frame.loc[10, "placed_at"] = "2024-02-02T13:00:00Z"  # the same instant as 15:00+02:00
    frame.to_csv(path, index=False)
    loaded = load_month(str(path), "2024-02", ORDERS)
    assert loaded.loc[loaded["order_id"] == frame.loc[10, "order_id"], "placed_at"].item() == (
        pd.Timestamp("2024-02-02 13:00"))


def test_some_times_with_a_zone_and_some_without_are_refused_across_chunks(tmp_path):
    frame = _orders()
    frame.loc[25, "placed_at"] = frame.loc[25, "placed_at"][:-6]
    path = tmp_path / "orders.csv"
    frame.to_csv(path, index=False)
    error = _orders_error(path, csv_rows=10)
    assert (error.source, error.column) == (str(path), "placed_at")
    assert error.problem == ("mixed time zones (row 2 has '2024-01-31T01:00:00+02:00'): "
                             "row 27 has '2024-02-06T07:00:00'")


def test_a_text_key_must_be_present_and_unique_across_chunks(tmp_path):
    frame = _orders()
    path = tmp_path / "orders.csv"
    repeated = frame.loc[3, "order_id"]
    frame.assign(order_id=frame["order_id"].where(frame.index != 30, repeated)).to_csv(
        path, index=False)
    error = _orders_error(path, csv_rows=10)
    assert (error.source, error.column) == (str(path), "order_id")
    assert error.problem == f"duplicate value: row 32 has '{repeated}'"
    frame.assign(order_id=frame["order_id"].where(frame.index != 30, " ")).to_csv(
        path, index=False)
    assert _orders_error(path, csv_rows=10).problem == "missing value: row 32 has ' '"
    parquet = tmp_path / "orders.parquet"  # in batches too
    frame.assign(order_id=frame["order_id"].where(frame.index != 30, repeated)).to_parquet(
        parquet, index=False)
    error = _orders_error(parquet, batch_rows=16)
    assert error.source == f"{parquet} (rows 17-32)" and error.column == "order_id"
    assert error.problem.startswith("duplicate value")


@pytest.mark.parametrize(
    ("row", "column", "value", "problem"),
    [
        (35, "items", "many", "not a number: row 37 has 'many'"),
        (35, "items", "2.5", "not an integer: row 37 has '2.5'"),
        (35, "amount", "cheap", "not a number: row 37 has 'cheap'"),
        (35, "placed_at", "soon", "not a date and time: row 37 has 'soon'"),
        (35, "placed_at", "", "missing value: row 37 has ''"),
    ],
)
def test_a_later_chunk_that_breaks_a_kind_names_file_row_and_column(tmp_path, row, column,
                                                                      value, problem):
    frame = _orders().astype(str)
    frame.loc[row, column] = value
    path = tmp_path / "orders.csv"
    frame.to_csv(path, index=False)
    error = _orders_error(path, csv_rows=10)
    assert (error.source, error.column, error.problem) == (str(path), column, problem)


def test_a_later_parquet_file_that_breaks_a_kind_is_named(tmp_path):
    folder = tmp_path / "2024-02"
    folder.mkdir()
    frame = _orders()
    frame.iloc[5:20].to_parquet(folder / "a.parquet", index=False)  # February only
    frame.iloc[20:].astype({"amount": str}).assign(amount="lots").to_parquet(
        folder / "b.parquet", index=False)
    error = _orders_error(tmp_path / "{month}")
    assert (error.source, error.column) == (str(folder / "b.parquet"), "amount")
    assert error.problem == "not a number: row 2 has 'lots'"


def test_a_timestamp_format_reads_the_timestamp_and_names_a_value_that_does_not_match(tmp_path):
    written = Schema(ORDERS.columns, "placed_at", "order_id", ("returned",), "%d/%m/%Y %H:%M")
    frame = _orders(zone="")
    frame["placed_at"] = pd.to_datetime(frame["placed_at"]).dt.strftime("%d/%m/%Y %H:%M")
    path = tmp_path / "orders.csv"
    frame.to_csv(path, index=False)
    loaded = load_month(str(path), "2024-02", written)
    assert loaded["placed_at"].iloc[0] == pd.Timestamp("2024-02-01 01:00")
    assert loaded["placed_at"].iloc[1] == pd.Timestamp("2024-02-01 07:00")  # not 2 January
    frame.loc[12, "placed_at"] = "2024-02-03 01:00"
    frame.to_csv(path, index=False)
    error = _orders_error(path, schema=written)
    assert (error.source, error.column) == (str(path), "placed_at")
    assert error.problem == ("not a date and time in the format '%d/%m/%Y %H:%M': "
                             "row 14 has '2024-02-03 01:00'")
    days = Schema((("day", "date"), ("sales", "int")), "day", timestamp_format="%d.%m.%Y")
    path.write_text("day,sales\n01.02.2024,3\n02.02.2024,4\n2024-02-03,5\n")
    error = _orders_error(path, schema=days)
    assert error.problem == "not a date in the format '%d.%m.%Y': row 4 has '2024-02-03'"
    path.write_text("day,sales\n02.02.2024,4\n01.02.2024,3\n")
    assert [str(d) for d in load_month(str(path), "2024-02", days)["day"]] == [
        "2024-02-01", "2024-02-02"]


def test_conform_orders_rows_by_time_then_key_and_fills_absent_labels():
    raw = pd.DataFrame({"order_id": ["b", "a", "c"],
                        "placed_at": ["2024-02-01 10:00", "2024-02-01 10:00", "2024-02-01 09:00"],
                        "store": ["x", "y", "z"], "amount": ["1", "2", "3"], "items": ["1"] * 3})
    out = conform(raw, "orders", ORDERS)
    assert out["order_id"].tolist() == ["c", "a", "b"]
    assert out["returned"].isna().all() and str(out["returned"].dtype) == "Int64"
    labelled_text = Schema(ORDERS.columns + (("reason", "text"), ("returned_at", "datetime")),
                           "placed_at", "order_id", ("returned", "reason", "returned_at"))
    out = conform(raw, "orders", labelled_text)
    assert str(out["reason"].dtype) == "string" and out["reason"].isna().all()
    assert str(out["returned_at"].dtype) == "datetime64[ns]" and out["returned_at"].isna().all()
    with pytest.raises(ValueError, match="no columns yet"):
        conform(raw, "orders", ORDERS_HINT)


# --- Inferring the kinds of a table not seen before ---


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_load_inferred_tells_the_kinds_and_loads_as_load_month(tmp_path, suffix):
    frame = _orders()
    path = tmp_path / f"orders.{suffix}"
    getattr(frame, f"to_{suffix}")(path, index=False)
    schema, rows = load_inferred(str(path), ["2024-02"], ORDERS_HINT)
    assert schema == ORDERS
    pd.testing.assert_frame_equal(rows, load_month(str(path), "2024-02", ORDERS))
    schema, both = load_inferred(str(path), ["2024-01", "2024-02"], ORDERS_HINT)
    assert len(both) == 40 and both["placed_at"].is_monotonic_increasing
    known, again = load_inferred(str(path), ["2024-02"], ORDERS)  # kinds given: loaded with them
    assert known is ORDERS
    pd.testing.assert_frame_equal(again, rows)


def test_load_inferred_reads_the_months_together_and_holds_later_months_to_them(tmp_path):
    frame = _orders(rows=360, zone="Z", first="2024-01-01 01:00")  # January to March
    stamps = pd.to_datetime(frame["placed_at"].str[:19])
    for month in ("2024-01", "2024-02", "2024-03"):
        frame[stamps.dt.strftime("%Y-%m") == month].to_csv(tmp_path / f"{month}.csv",
                                                             index=False)
    location = str(tmp_path / "{month}.csv")
    march = pd.read_csv(tmp_path / "2024-03.csv", dtype=str)
    march.loc[3, "items"] = "2.5"
    march.to_csv(tmp_path / "2024-03.csv", index=False)
    schema, rows = load_inferred(location, ["2024-01", "2024-02"], ORDERS_HINT)
    assert schema.kinds["items"] == "int" and len(rows) == len(frame) - len(march)
    with pytest.raises(SourceError) as caught:
        load_month(location, "2024-03", schema)
    assert (caught.value.column, caught.value.problem) == ("items",
                                                           "not an integer: row 5 has '2.5'")
    schema, _ = load_inferred(location, ["2024-02", "2024-03"], ORDERS_HINT)
    assert schema.kinds["items"] == "float"


def test_load_inferred_infers_from_the_months_and_holds_the_whole_file_to_it(tmp_path):
    """A whole table is checked whole, as load_month checks it: a kind told from January only is
    broken by a February value, named by its row."""
    frame = _orders(zone="Z").astype(str)
    frame.loc[30, "items"] = "2.5"
    path = tmp_path / "orders.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(SourceError) as caught:
        load_inferred(str(path), ["2024-01"], ORDERS_HINT)
    assert (caught.value.source, caught.value.column, caught.value.problem) == (
        str(path), "items", "not an integer: row 32 has '2.5'")
    schema, rows = load_inferred(str(path), ["2024-01", "2024-02"], ORDERS_HINT)
    assert schema.kinds["items"] == "float" and rows["items"].tolist()[30] == 2.5


def test_load_inferred_tells_days_from_instants_and_uses_the_timestamp_format(tmp_path):
    path = tmp_path / "days.csv"
    path.write_text("day,shop,sales\n2024-02-01T00:00:00+05:00,a,3\n"
                    "2024-02-02T00:00:00+05:00,b,4\n")
    schema, rows = load_inferred(str(path), ["2024-02"], Schema((), "day"))
    assert schema.columns == (("day", "date"), ("shop", "text"), ("sales", "int"))
    assert [str(d) for d in rows["day"]] == ["2024-02-01", "2024-02-02"]  # the days as written
    path.write_text("day,shop,sales\n01/02/2024 10:30,a,3\n02/02/2024 00:00,b,4\n")
    schema, rows = load_inferred(str(path), ["2024-02"], Schema((), "day",
                                                                timestamp_format="%d/%m/%Y %H:%M"))
    assert schema.kinds["day"] == "datetime"
    assert rows["day"].tolist() == [pd.Timestamp("2024-02-01 10:30"),
                                    pd.Timestamp("2024-02-02")]


def test_load_inferred_names_file_column_and_problem(tmp_path):
    path = tmp_path / "orders.csv"
    frame = _orders().astype(str)
    frame.loc[20, "placed_at"] = "soon"
    frame.to_csv(path, index=False)
    with pytest.raises(SourceError) as caught:
        load_inferred(str(path), ["2024-02"], ORDERS_HINT)
    assert (caught.value.source, caught.value.column, caught.value.problem) == (
        str(path), "placed_at", "not a date or time: row 22 has 'soon'")
    _orders().assign(order_id="").to_csv(path, index=False)
    with pytest.raises(SourceError) as caught:
        load_inferred(str(path), ["2024-02"], ORDERS_HINT)
    assert (caught.value.source, caught.value.column, caught.value.problem) == (
        str(path), "order_id", "the key has no values")
    _orders().drop(columns=["returned"]).to_parquet(tmp_path / "orders.parquet")
    with pytest.raises(SourceError) as caught:
        load_inferred(str(tmp_path / "orders.parquet"), ["2024-02"], ORDERS_HINT)
    assert (caught.value.column, caught.value.problem) == (
        "returned", "the label column is not in the table")
    with pytest.raises(SourceError, match="no rows for the month"):
        load_inferred(str(path), ["2023-05"], ORDERS_HINT)


def test_the_sources_infer_the_bike_table(table, tmp_path):
    hint = Schema((), BIKE.timestamp, BIKE.key, BIKE.labels)
    months = ["2011-01", "2011-02"]
    generated = GeneratedSource(seed=3)
    schema, rows = generated.load_inferred(months, hint)
    assert schema == BIKE and len(rows) == 59
    pd.testing.assert_frame_equal(rows.iloc[31:].reset_index(drop=True),
                                  generated.load_month("2011-02", BIKE))
    schema, rows = FileSource(location=str(table)).load_inferred(months, hint)
    assert schema == BIKE
    pd.testing.assert_frame_equal(rows.iloc[31:].reset_index(drop=True),
                                  load_month(str(table), "2011-02", BIKE))
