"""The command line on bad input and at its edges (issues 18 and 19): a check that cannot be made
is exit 2 naming the file, the column and the reason; ``--columns`` before the files; the
backfill's exit status, progress and month arguments; output into a closed pipe; the history
table within 120 columns."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from drift_assets.cli import main
from drift_assets.lib.generator import generate, generate_month

# The console script of the venv (what a user runs), for the tests through a real pipe.
COMMAND = str(Path(sys.executable).with_name("drift-assets"))


@pytest.fixture
def jan(tmp_path) -> Path:
    path = tmp_path / "jan.csv"
    generate_month("2011-01", seed=0).to_csv(path, index=False)
    return path


def _current(tmp_path, name: str, change=None, suffix: str = ".csv") -> Path:
    """Another January, changed by ``change`` (a function of the frame), as CSV or Parquet."""
    frame = generate_month("2011-01", seed=5)
    frame = change(frame) if change else frame
    path = tmp_path / f"{name}{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def _text_in_hum(frame):
    frame["hum"] = frame["hum"].astype(object)
    frame.loc[3, "hum"] = "humid"
    return frame


def _hum_missing(frame):
    frame["hum"] = None
    return frame


def _header_only(frame):
    return frame.iloc[:0]


# --- 1. a check that cannot be made is exit 2, naming the file, the column and the reason ---

@pytest.mark.parametrize("change, columns, expected", [
    (_text_in_hum, ["--columns", "hum"], "column 'hum': cannot summarise as 'num'"),
    (_hum_missing, ["--columns", "hum"], "column 'hum': all values missing in current"),
    (_header_only, ["--columns", "hum"], "no rows to compare"),
    # without --columns, a default column that cannot be tested is named, not dropped
    (_text_in_hum, [], "column 'hum': cannot summarise as 'num'"),
    (_hum_missing, [], "column 'hum': all values missing in current"),
    (_header_only, [], "no rows to compare"),
], ids=["text-requested", "missing-requested", "no-rows-requested", "text-default",
        "missing-default", "no-rows-default"])
def test_detect_that_cannot_compare_is_exit_2_naming_file_and_column(
        jan, tmp_path, capsys, change, columns, expected):
    current = _current(tmp_path, "cur", change)
    assert main(["detect", str(jan), str(current), *columns]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no verdict at all, least of all "no drift"
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"drift-assets detect: {current}: ")
    assert expected in lines[0]


def test_a_broken_reference_column_names_the_reference_file(jan, tmp_path, capsys):
    broken = _current(tmp_path, "ref_missing", _hum_missing)
    assert main(["detect", str(broken), str(jan), "--columns", "temp,hum"]) == 2
    err = capsys.readouterr().err
    assert err == (f"drift-assets detect: {broken}: column 'hum': all values missing in "
                   "reference\n")


def test_detect_on_a_cluster_applies_the_same_rule(jan, tmp_path, capsys):
    from distributed import LocalCluster

    reference = tmp_path / "jan.parquet"
    generate_month("2011-01", seed=0).to_parquet(reference, index=False)
    current = _current(tmp_path, "cur", _hum_missing, suffix=".parquet")
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=None) as cluster:
        code = main(["detect", str(reference), str(current), "--scheduler",
                     cluster.scheduler_address])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err == (f"drift-assets detect: {current}: column 'hum': all values missing "
                            "in current (the default columns; choose others with --columns)\n")


# --- 2. --columns before the files ---

def test_columns_before_the_files_leaves_the_files_alone(jan, tmp_path, capsys):
    july = tmp_path / "jul.csv"
    generate_month("2011-07", seed=0).to_csv(july, index=False)
    assert main(["detect", "--columns", "temp", "hum", str(jan), str(july), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert [c["column"] for c in result["columns"]] == ["temp", "hum"]
    # the same, comma-separated and repeated, before and after the files
    for argv in (["--columns", "temp,hum", str(jan), str(july)],
                 [str(jan), str(july), "--columns", "temp", "--columns", "hum"]):
        assert main(["detect", *argv, "--json"]) == 1
        assert [c["column"] for c in json.loads(capsys.readouterr().out)["columns"]] == \
            ["temp", "hum"]
    assert main(["detect", "--columns", str(jan), str(july)]) == 2  # no column left
    assert "required: reference, current" in capsys.readouterr().err


# --- 3. backfill: exit status, progress, month arguments ---

@pytest.fixture(scope="module")
def backfilled(tmp_path_factory):
    """A backfill of the bike-sharing dataset's 2011-02..2011-03 from a file that holds 2011-01
    and 2011-02 only: the reference and 2011-02 run, 2011-03 fails. Returns (status, stdout,
    stderr, environment)."""
    root = tmp_path_factory.mktemp("backfill")
    source = root / "source.csv"
    generate("2011-01", "2011-02", seed=0).to_csv(source, index=False)
    env = {"DRIFT_DATA_DIR": str(root / "data"), "DAGSTER_HOME": str(root / "home"),
           "DRIFT_SOURCE": str(source)}
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(["backfill", "--from", "2011-02", "--to", "2011-03",
                           "--dataset", "bike_sharing"])
    return status, out.getvalue(), err.getvalue(), env


@pytest.mark.slow  # the backfill takes 10-20 s; the tests that read its folder share it
def test_backfill_exits_1_when_a_month_failed_and_shows_each_month(backfilled):
    status, out, err, env = backfilled
    assert status == 1
    summary = {line.split()[0]: line for line in out.splitlines() if line.startswith("2011-")}
    assert sorted(summary) == ["2011-02", "2011-03"]  # the summary is still printed
    assert "failed: " in summary["2011-03"] and "no rows for the month 2011-03" in out
    progress = [line for line in err.splitlines()
                if line.startswith("backfill: bike_sharing 2011-")]
    assert [line.split()[2] for line in progress] == ["2011-02", "2011-03"]
    assert "(1/2, " in progress[0] and "quality" in progress[0]
    assert "(2/2, " in progress[1] and "FAILED: " in progress[1]
    assert "bike_sharing: 1 of 2 month(s) failed: 2011-03" in err
    assert Path(env["DRIFT_DATA_DIR"], "warehouse.db").is_file()  # the test's own folder
    # the dataset's namespace, a file of its own on SQLite
    assert Path(env["DRIFT_DATA_DIR"], "warehouse.bike_sharing.db").is_file()


@pytest.mark.parametrize("months, problem", [
    (["--from", "2011/01"], "--from '2011/01' is not a month: use YYYY-MM"),
    (["--from", "2011-05", "--to", "2011-03"], "--from 2011-05 is after --to 2011-03"),
    (["--from", "2010-12", "--to", "2011-02"],
     "--from 2010-12 is before the first partition of bike_sharing, 2011-01"),
    (["--from", "2012-11", "--to", "2013-01"],
     "--to 2013-01 is after the last month of the generated source of bike_sharing, 2012-12"),
], ids=["not-a-month", "from-after-to", "before-partitions", "after-source"])
def test_backfill_bad_month_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, months,
                                                   problem):
    monkeypatch.setenv("DRIFT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DRIFT_SOURCE", raising=False)
    # the bike dataset alone, and every dataset (none of which has these months)
    for dataset in (["--dataset", "bike_sharing"], []):
        assert main(["backfill", *months, *dataset]) == 2
        captured = capsys.readouterr()
        assert captured.err == f"drift-assets backfill: {problem}\n" and captured.out == ""
        assert not (tmp_path / "data").exists()  # nothing was run


# --- 4. output into a closed pipe; the history table within 120 columns ---

def _into_closed_pipe(args: list[str], env: dict[str, str]) -> int:
    """Run the command with its stdout a pipe whose reader has gone before the first line (as
    `| head -1` does once it has its line); check that it ends quietly. Returns the exit
    status."""
    process = subprocess.Popen([COMMAND, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={**os.environ, **env})
    process.stdout.close()
    err = process.stderr.read().decode()
    process.stderr.close()
    status = process.wait(timeout=300)
    for noise in ("Traceback", "BrokenPipeError", "Exception ignored"):
        assert noise not in err, err
    return status


@pytest.mark.slow  # with the backfill it shares
def test_history_into_a_closed_pipe_ends_quietly(backfilled):
    for args in (["history", "--json"], ["history"]):
        assert _into_closed_pipe(args, backfilled[3]) == 0, args


def test_detect_json_into_a_closed_pipe_ends_quietly(jan, tmp_path):
    july = tmp_path / "jul.csv"
    generate_month("2011-07", seed=0).to_csv(july, index=False)
    env = {"DRIFT_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path / "home")}
    # the verdict's status (1: drift), though nobody read it
    assert _into_closed_pipe(["detect", str(jan), str(july), "--json"], env) == 1


@pytest.mark.slow  # with the backfill it shares
def test_history_fits_120_columns(backfilled, monkeypatch, capsys):
    for name, value in backfilled[3].items():
        monkeypatch.setenv(name, value)
    assert main(["history", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    february = next(r for r in rows if r["month"] == "2011-02")
    assert february["dataset"] == "bike_sharing"
    assert main(["history"]) == 0  # every dataset, each under its name
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 120, "\n".join(lines)
    assert "bike_sharing" in lines and "support_tickets" in lines
    assert main(["history", "--dataset", "bike_sharing"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 120, "\n".join(lines)
    assert lines[0].split() == ["month", "reference", "drift", "share", "causes", "quality",
                                "model", "alerts"]
    line = next(line for line in lines if line.startswith("2011-02"))
    verdict = "DRIFT" if february["drift"] else "no"
    assert f"  {verdict}  " in line and f"{february['drift_share']:.2f}" in line
    for cause in february["drifted"]:
        assert cause["column"] in line
    assert february["quality_failed"] or "  ok  " in line
    alert = {"drift": f"drift alert {(february['alert_run'] or '')[:8]}",
             "continuing": "none (alerted before)", "none": "none"}[february["alert"]]
    assert line.endswith(f"  {alert}"), line


def test_history_cuts_long_cells_and_keeps_them_in_json(tmp_path, monkeypatch, capsys):
    from drift_assets.cli import history

    monkeypatch.setenv("DRIFT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    window = "rolling: " + ", ".join(f"2011-{m:02d}" for m in range(1, 13))
    drifted = [{"column": c, "category": None, "method": "ks", "score": 1.234567e-12,
                "threshold": 0.05} for c in ("weathersit", "temp", "atemp", "hum", "windspeed")]
    quality = [{"check": "missing_values", "column": "hum",
                "message": "hum: 50% missing, more than the 5% allowed"},
               {"check": "stuck_values", "column": "atemp",
                "message": "atemp: one value on 31 of 31 days"}]
    row = {"month": "2012-06", "reference": window, "drift_share": 1.0, "drift": True,
           "drifted": drifted, "broken_relations": ["temp", "atemp"], "quality_failed": quality,
           "metric": "rmsle", "estimated": 0.2345, "realized": 0.3456, "alert": "quality",
           "alert_run": None, "alerts": "quality alert; drift and model alerts suppressed"}
    monkeypatch.setattr(history, "history_rows", lambda *args: [row])
    assert main(["history", "--dataset", "bike_sharing"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and max(map(len, lines)) <= 120, "\n".join(lines)
    line = lines[1]
    assert line.startswith("2012-06  rolling") and "  DRIFT  1.00  " in line
    assert "weathersit, temp" in line and "…" in line  # causes by name, then cut
    assert "hum: 50% missing" in line and "rmsle 0.23/0.35" in line
    assert line.endswith("quality alert")
    assert main(["history", "--json", "--dataset", "bike_sharing"]) == 0
    # everything, in full, with the dataset named
    assert json.loads(capsys.readouterr().out) == [{"dataset": "bike_sharing", **row}]
