"""Declared datasets: every key checked with the file, the dataset and the key named; `init`
writes a declaration that `config check` accepts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from drift_assets.cli import main
from drift_assets.lib.declaration import DeclarationError, load_declarations
from drift_assets.lib.generator import generate_month

# the project's own declaration, which holds the bike example (docs/examples/ is gone)
EXAMPLE = Path(__file__).resolve().parents[1] / "drift_assets.yaml"

GOOD = """
datasets:
  seattle_weather:
    source: weather.csv
    timestamp: date
    timestamp_format: "%Y/%m/%d"
    start: 2012-01
    id: row_id
    labels: [weather]
    features: [precipitation, temp_max, temp_min, wind]
    reference: seasonal
    thresholds: calibrated
    drift_share: 0.5
    persistence: 1/1
    quality:
      missing_share: 0.1
      columns:
        precipitation: {missing_share: 0.3, min: 0, max: 500}
        weather: {allowed: [drizzle, rain, sun, snow, fog]}
    model:
      target: weather
      task: classification
      estimator: sklearn.linear_model.LogisticRegression
      params: {C: [0.1, 1, 10]}
      metric: roc_auc
    notify:
      slack_channel: "#weather-model"
"""


def _write(tmp_path, text: str, name: str = "datasets.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def _weather_csv(tmp_path) -> Path:
    path = tmp_path / "weather.csv"
    path.write_text("row_id,date,precipitation,temp_max,temp_min,wind,weather\n"
                    "1,2012/01/01,0.0,12.8,5.0,4.7,drizzle\n2,2012/01/02,10.9,10.6,2.8,4.5,rain\n")
    return path


def test_the_issue_example_and_the_bike_example_are_accepted(tmp_path, capsys):
    _weather_csv(tmp_path)
    declared = load_declarations(_write(tmp_path, GOOD))["seattle_weather"]
    assert declared.model.task == "classification" and declared.model.params == {
        "C": (0.1, 1, 10)}
    assert declared.columns["precipitation"].max == 500
    assert declared.local_source() == tmp_path / "weather.csv"  # beside the declaring file
    assert main(["config", "check", str(tmp_path / "datasets.yaml")]) == 0
    assert "ok: seattle_weather (classification model of weather; columns checked" in (
        capsys.readouterr().out)
    assert main(["config", "check", str(EXAMPLE)]) == 0
    assert "ok: bike_sharing (regression model of cnt" in capsys.readouterr().out


def _replace(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


@pytest.mark.parametrize(("text", "key", "problem"), [
    (_replace("    thresholds: calibrated\n", "    threshold: calibrated\n"), "threshold",
     "unknown key 'threshold'"),
    (_replace("      missing_share: 0.1\n", "      missing: 0.1\n"), "quality.missing",
     "unknown key 'missing'"),
    (_replace("      metric: roc_auc\n", "      metric: roc_auc\n      alpha: 1\n"),
     "model.alpha", "unknown key 'alpha'"),
    (_replace("drift_share: 0.5", "drift_share: 7"), "drift_share", "7 is out of range"),
    (_replace("drift_share: 0.5", "drift_share: .nan"), "drift_share", "expected a number"),
    (_replace("persistence: 1/1", "persistence: 3/2"), "persistence", "expected k/n"),
    (_replace("reference: seasonal", "reference: yearly"), "reference",
     "expected fixed:YYYY-MM"),
    (_replace("thresholds: calibrated", "thresholds: strict"), "thresholds",
     "expected calibrated or evidently"),
    (_replace("start: 2012-01", "start: 2012/01"), "start", "expected a month YYYY-MM"),
    (_replace("metric: roc_auc", "metric: rmsle"), "model.metric",
     "'rmsle' is not a classification metric"),
    (_replace("      metric: roc_auc\n", "      metric: roc_auc\n      target_transform: log1p\n"),
     "model.target_transform", "for regression only"),
    (_replace("estimator: sklearn.linear_model.LogisticRegression", "estimator: logistic"),
     "model.estimator", "not an import path"),
    (_replace("task: classification", "task: ranking"), "model.task",
     "expected regression or classification"),
    (_replace("features: [precipitation,", "features: [weather, precipitation,"),
     "model.target", "'weather' is the target and also a feature"),
    (_replace("features: [precipitation,", "features: [date, precipitation,"), "features",
     "'date' is the timestamp, not a feature"),
    (_replace("max: 500}", "max: -1}"), "quality.columns.precipitation.min",
     "min 0 is above max -1"),
    (_replace("    timestamp: date\n", ""), "timestamp", "required key 'timestamp' is missing"),
])
def test_a_bad_key_is_named_with_its_file_and_dataset(tmp_path, capsys, text, key, problem):
    path = _write(tmp_path, text)
    with pytest.raises(DeclarationError) as raised:
        load_declarations(path)
    assert (raised.value.file, raised.value.dataset, raised.value.key) == (
        str(path), "seattle_weather", key)
    assert problem in raised.value.problem
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err  # one line
    assert err.startswith(f"drift-assets config check: {path}, dataset 'seattle_weather', "
                          f"key {key!r}: ")


def test_a_column_the_source_does_not_have_is_named(tmp_path, capsys):
    _weather_csv(tmp_path)
    path = _write(tmp_path, _replace("temp_min, wind]", "temp_min, gust]"))
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "dataset 'seattle_weather', key 'features': the source has no column 'gust'" in err
    path = _write(tmp_path, _replace("source: weather.csv", "source: nowhere.csv"))
    assert main(["config", "check", str(path)]) == 2
    assert "key 'source': no such file" in capsys.readouterr().err


def test_files_of_a_folder_and_what_is_not_a_declaration(tmp_path, capsys):
    folder = tmp_path / "declared"
    folder.mkdir()
    _write(folder, GOOD, "a.yaml")
    _write(folder, GOOD, "b.yml")
    with pytest.raises(DeclarationError, match="declared twice"):
        load_declarations(folder)
    _write(folder, GOOD.replace("seattle_weather", "other"), "b.yml")
    assert set(load_declarations(folder)) == {"seattle_weather", "other"}
    for text, problem in [("datasets: [1, 2]", "must map at least one name"),
                          ("tables: {}", "one top-level key, 'datasets'"),
                          ("datasets: {a: [", "not readable YAML"),
                          ("datasets:\n  Bad-Name: {timestamp: t, start: 2011-01}",
                           "must match [a-z][a-z0-9_]*")]:
        path = _write(tmp_path, text, "one.yaml")
        assert main(["config", "check", str(path)]) == 2
        assert problem in capsys.readouterr().err
    assert main(["config", "check", str(tmp_path / "missing.yaml")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_init_writes_a_declaration_that_config_check_accepts(tmp_path, capsys, suffix):
    frame = generate_month("2011-03")
    table = tmp_path / f"bike.{suffix}"
    frame.to_csv(table, index=False) if suffix == "csv" else frame.to_parquet(table)
    assert main(["init", str(table), "--name", "bike"]) == 0
    text = capsys.readouterr().out
    assert '    timestamp: "dteday"' in text and "    start: 2011-03" in text
    assert '    id: "instant"' in text and '      - "temp"  # num' in text
    assert '      - "weathersit"  # cat' in text
    declared = _write(tmp_path, text)
    assert main(["config", "check", str(declared)]) == 0
    assert "ok: bike (monitored only; columns checked against the source)" in (
        capsys.readouterr().out)
    assert main(["init", str(table), "--name", "bike", "--timestamp", "when"]) == 2
    assert "no column 'when'" in capsys.readouterr().err
    assert main(["init", str(table), "--name", "Bike"]) == 2
    assert "must match" in capsys.readouterr().err
