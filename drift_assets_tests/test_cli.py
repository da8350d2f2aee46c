"""The command line: the stand-alone drift check and the backfill that the README runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from drift_assets.cli import main
from drift_assets.lib.generator import generate_month


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, month, seed in [("jan", "2011-01", 0), ("jan2", "2011-01", 5), ("jul", "2011-07", 0)]:
        paths[name] = tmp_path / f"{name}.csv"
        generate_month(month, seed=seed).to_csv(paths[name], index=False)
    generate_month("2011-07").to_parquet(tmp_path / "jul.parquet")
    paths["jul_parquet"] = tmp_path / "jul.parquet"
    return paths


def test_detect_exit_status_follows_the_verdict(files, capsys):
    assert main(["detect", str(files["jan"]), str(files["jan2"])]) == 0
    assert "no drift" in capsys.readouterr().out
    assert main(["detect", str(files["jan"]), str(files["jul_parquet"])]) == 1
    out = capsys.readouterr().out
    assert "DRIFT:" in out and "temp" in out and "ks" in out


def test_detect_json_and_html(files, tmp_path, capsys):
    html = tmp_path / "report.html"
    code = main(["detect", str(files["jan"]), str(files["jul"]), "--json", "--html", str(html)])
    result = json.loads(capsys.readouterr().out)
    assert code == 1 and result["dataset_drift"] is True
    assert {c["column"] for c in result["columns"]} == {"weathersit", "temp", "atemp", "hum",
                                                        "windspeed"}
    assert html.stat().st_size > 10_000


def test_detect_shows_progress_when_asked(files, capsys):
    assert main(["detect", str(files["jan"]), str(files["jul_parquet"]), "--progress"]) == 1
    err = capsys.readouterr().err
    steps = ["reading", "profiling the reference", "testing the columns", "done"]
    assert all(step in err for step in steps)
    assert main(["detect", str(files["jan"]), str(files["jan2"]), "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


def test_detect_errors_exit_2_naming_the_problem(files, tmp_path, capsys):
    assert main(["detect", str(files["jan"]), str(tmp_path / "none.csv")]) == 2
    assert "none.csv: no such file" in capsys.readouterr().err
    assert main(["detect", str(files["jan"]), str(files["jul"]), "--columns", "colour"]) == 2
    assert "colour" in capsys.readouterr().err


def test_the_installed_command_runs(files):
    done = subprocess.run(
        [sys.executable, "-m", "drift_assets.cli", "detect", str(files["jan"]), str(files["jul"])],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 1, done.stderr


def _run(tmp_path, *args) -> str:
    env = {**os.environ, "DRIFT_DATA_DIR": str(tmp_path / "data"),
           "DAGSTER_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-m", "drift_assets.cli", *args],
                          capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _backfill(tmp_path, first, last) -> str:
    return _run(tmp_path, "backfill", "--from", first, "--to", last)


@pytest.mark.slow
def test_backfill_prints_the_summary_and_retrains_on_drift(tmp_path):
    out = _backfill(tmp_path, "2011-01", "2011-08")
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("2011-")}
    assert sorted(lines) == [f"2011-0{m}" for m in range(1, 9)]
    assert " no " in lines["2011-01"]  # the reference month against itself
    assert "DRIFT" in lines["2011-07"] and "retrained v1" in lines["2011-07"]
    assert lines["2011-02"].split()[1] == "28"
    assert "reports:" in out and "instance: DAGSTER_HOME=" in out
    data = tmp_path / "data"
    assert (data / "reports" / "drift_2011-07.html").is_file()
    assert (data / "models" / "bike_demand_ridge" / "v0001" / "model.joblib").is_file()
    outbox = (data / "notifications.jsonl").read_text().splitlines()
    assert len(outbox) == 1 and "2011-07" in json.loads(outbox[0])["title"]
    # A re-run replaces the months; their crossings were alerted already: no second retrain.
    again = _backfill(tmp_path, "2011-01", "2011-08")
    assert "retrained" not in again and "since the alert for 2011-02, 2011-07" in again
    assert len((data / "notifications.jsonl").read_text().splitlines()) == 1
    assert not (data / "models" / "bike_demand_ridge" / "v0002").exists()
    history = json.loads(_run(tmp_path, "history", "--json"))
    july = next(r for r in history if r["month"] == "2011-07")
    assert july["reference"] == "fixed:2011-01" and july["verdict"] == "DRIFT"
    assert july["alerts"].startswith("drift alert, retrain run")
    assert "temp" in july["drifted"] and july["quality"] == "ok"
    assert next(r for r in history if r["month"] == "2011-03")["alerts"].startswith("none")
