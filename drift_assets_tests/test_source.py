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
from drift_assets.lib.source import SourceError, conform, iter_month, load_month, read_table
from drift_assets.resources.source import FileSource


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
                list(FileSource(location=url, download_deadline=1).iter_month("2011-02"))
            error = caught.value
        assert time.monotonic() - started < 4
        assert error.source == url and error.problem == "download did not finish within 1 s"
        assert len(load_month(url, "2011-02", deadline=30)) == 28  # in time: the whole file
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
    plain = load_month(str(table), "2011-02")
    for name in ("day.csv.gz", "day-gzipped.csv"):
        path = tmp_path / name
        path.write_bytes(gzip.compress(table.read_bytes()))
        pd.testing.assert_frame_equal(load_month(str(path), "2011-02"), plain)
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
    frame = load_month(path, "2011-02")
    assert frame["cnt"].isna().sum() == 1 and len(frame) == 28


def test_integers_beyond_floats_are_kept_exactly(table, tmp_path):
    path = _edit_line(table, tmp_path, 42, _cells({CNT: "9007199254740993"}))
    frame = load_month(path, "2011-02")
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
    loaded = load_month(str(path), "2011-02")
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
    batches = list(iter_month(str(path), "2011-02", unique_days=False, csv_rows=500))
    assert [len(b) for b in batches] == [500, 500, 400]
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True)
                                  .sort_values(["dteday", "instant"]).reset_index(drop=True),
                                  load_month(str(path), "2011-02", unique_days=False))

    lines = path.read_text().splitlines(keepends=True)

    def error_with(changed: dict[int, str], **kwargs) -> SourceError:
        edited = [changed.get(number, line) for number, line in enumerate(lines, start=1)]
        path.write_text("".join(edited))
        with pytest.raises(SourceError) as caught:
            list(iter_month(str(path), "2011-02", csv_rows=500, **kwargs))
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
        list(iter_month(str(path), "2011-02", csv_rows=10))
    assert (caught.value.column, caught.value.problem) == (
        "dteday", "duplicate value: row 30 has '2011-02-03'")
