"""The graph materialized on a temporary instance with the embedded defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import materialize

from drift_assets.lib.history import MonthHistory
from drift_assets_tests.graph import (
    ALL_ASSETS,
    BIKE,
    bike,
    current_data,
    data_quality_report,
    drift_report,
    key,
    node,
    reference_profile,
    reference_table,
    trained_model,
)

FEATURES = {"weathersit", "temp", "atemp", "hum", "windspeed"}  # the bike declaration's

MONTHLY = [reference_table, current_data, data_quality_report, reference_profile, drift_report]


def _run_month(month, resources, instance, assets=MONTHLY, **kwargs):
    selection = [a for a in assets if a.key != key("reference_table")]
    return materialize(assets, selection=selection, partition_key=f"{month}-01",
                       resources=resources, instance=instance, **kwargs)


def _metadata(result, asset):
    event = result.asset_materializations_for_node(node(asset))[-1]
    return {k: v.value for k, v in event.metadata.items()}


@pytest.fixture
def reference(resources, instance):
    materialize([reference_table], resources=resources, instance=instance)


def test_reference_table_holds_the_reference_months(resources, instance):
    result = materialize([reference_table], resources=resources, instance=instance)
    metadata = _metadata(result, "reference_table")
    assert metadata["dagster/row_count"] == 31 and metadata["reference_months"] == "2011-01"
    assert len(bike(resources["warehouse"]).read_reference()) == 31


def test_a_month_materialized_three_times_has_its_rows_once(resources, instance, reference):
    for _ in range(3):
        _run_month("2011-03", resources, instance, assets=[reference_table, current_data])
    _run_month("2011-04", resources, instance, assets=[reference_table, current_data])
    assert bike(resources["warehouse"]).month_counts() == {"2011-03": 31, "2011-04": 30}


def test_january_reference_against_july_drifts(resources, instance, reference):
    result = _run_month("2011-07", resources, instance)
    assert result.success
    drift = _metadata(result, "drift_report")
    assert drift["drift_detected"] is True
    assert drift["drift_share"] >= 0.5
    assert "temp" in drift["drifted_columns"] and "atemp" in drift["drifted_columns"]
    rows = {r.data["column"]: r.data for r in drift["columns"].records}
    assert set(rows) == FEATURES
    assert rows["temp"]["method"] == "ks" and rows["temp"]["drifted"] is True
    assert rows["temp"]["score"] < rows["temp"]["threshold"] == 0.05
    assert rows["weathersit"]["method"] in ("chisquare", "z")
    assert 0 < drift["psi/temp"] and 0 < drift["ks_statistic/temp"] <= 1
    assert "psi/weathersit" not in drift  # PSI and K-S are for numeric features
    # the link opens the month's page where the reports folder is served (DRIFT_REPORTS_URL)
    assert drift["report"] == "http://127.0.0.1:3001/bike_sharing/2011-07.html"
    assert drift["all_months"] == "http://127.0.0.1:3001/bike_sharing/index.html"
    folder = Path(resources["settings"].reports_dir) / "bike_sharing"
    page = (folder / "2011-07.html").read_text()
    # the page says what the pipeline decided, then Evidently's own view, marked as such
    assert page.index("The pipeline's verdict") < page.index("Evidently's view")
    assert "DRIFT" in page and "fixed:2011-01" in page and "windspeed" in page
    evidently = folder / "evidently" / "2011-07.html"
    assert "evidently/2011-07.html" in page and evidently.stat().st_size < 1_000_000
    # Evidently's 3.5 MB script is shared by the folder's reports, not copied into each
    library = folder / "evidently" / "js" / f"evidently.{_evidently_version()}.js"
    assert library.stat().st_size > 3_000_000
    assert f'src="js/{library.name}"' in evidently.read_text()
    assert drift["drift_over_time"].startswith("![drift share per month](data:image/png;base64,")


def _evidently_version() -> str:
    import evidently

    return evidently.__version__


def test_two_samples_of_one_month_do_not_drift(env, instance):
    from drift_assets.resources import GeneratedSource, build_resources

    same = build_resources({**env, "DRIFT_REFERENCE_MONTHS": "2011-07"})
    materialize([reference_table], resources=same, instance=instance)
    other_seed = {**same, "source": GeneratedSource(seed=11)}
    result = _run_month("2011-07", other_seed, instance)
    drift = _metadata(result, "drift_report")
    assert drift["drift_detected"] is False and drift["drift_share"] < 0.5
    assert drift["drifted_columns_count"] <= 2  # but the months are not the same rows
    reference = bike(same["warehouse"]).read_reference()
    assert not reference["temp"].equals(bike(same["warehouse"]).read_month("2011-07")["temp"])
    same["warehouse"].dispose()


def test_quality_checks_show_as_asset_checks(resources, instance, reference):
    result = _run_month("2011-07", resources, instance)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {"missing_values", "schema", "stuck_values", "impossible_values",
                           "constant_columns", "value_ranges", "drift"}
    # the month's drift verdict is a check too: WARN, naming the columns, never blocking
    drift = checks["drift"]
    assert drift.asset_key == key("drift_report") and drift.severity.value == "WARN"
    verdict = _metadata(result, "drift_report")
    assert verdict["drift_detected"] is True and not drift.passed  # July against January
    assert drift.metadata["columns"].value == verdict["drifted_columns"]
    assert drift.description.startswith("drift against fixed:2011-01: share ")
    assert checks["missing_values"].passed and checks["schema"].passed
    assert not checks["value_ranges"].passed  # July is warmer than every January day
    assert "temp" in checks["value_ranges"].metadata["columns"].value
    quality = _metadata(result, "data_quality_report")
    assert quality["passed"] is True and "errors" not in quality  # no empty entry
    profile = {r.data["column"]: r.data for r in quality["profile"].records}  # a table
    assert profile["temp"]["type"] == "float" and profile["temp"]["outside seen range"] > 0.05


def test_a_failed_quality_check_blocks_the_drift_check(resources, instance, reference, tmp_path):
    from drift_assets.lib.generator import generate_month
    from drift_assets.resources import FileSource

    broken = generate_month("2011-05")
    broken.loc[broken.index[::2], "hum"] = None
    broken.to_csv(tmp_path / "2011-05.csv", index=False)
    files = {**resources, "source": FileSource(location=str(tmp_path / "{month}.csv"))}
    result = _run_month("2011-05", files, instance, raise_on_error=False)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["missing_values"].passed
    assert "hum: 52% missing" in checks["missing_values"].description
    assert result.asset_materializations_for_node(node("drift_report")) == []
    assert instance.get_latest_materialization_event(key("drift_report")) is None


def test_a_bad_file_fails_the_month_and_keeps_the_warehouse(resources, instance, reference,
                                                            tmp_path):
    from drift_assets.lib.generator import generate_month
    from drift_assets.resources import FileSource

    _run_month("2011-05", resources, instance, assets=[reference_table, current_data])
    before = bike(resources["warehouse"]).read_month("2011-05")
    generate_month("2011-05").drop(columns=["temp"]).to_csv(tmp_path / "2011-05.csv", index=False)
    files = {**resources, "source": FileSource(location=str(tmp_path / "{month}.csv"))}
    result = _run_month("2011-05", files, instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data
    assert "missing required column(s): temp" in failure.user_failure_data.description
    assert failure.user_failure_data.metadata["file"].value.endswith("2011-05.csv")
    assert bike(resources["warehouse"]).read_month("2011-05").equals(before)


def test_trained_model_is_stored_as_a_new_version(resources, instance, reference):
    for month in ("2011-02", "2011-03", "2011-04"):
        _run_month(month, resources, instance, assets=[reference_table, current_data])
    first = materialize(ALL_ASSETS, selection=[trained_model], resources=resources,
                        instance=instance)
    second = materialize(ALL_ASSETS, selection=[trained_model], resources=resources,
                         instance=instance)
    one, two = _metadata(first, "trained_model"), _metadata(second, "trained_model")
    assert (one["version"], two["version"]) == (1, 2)
    assert one["train_rows"] + one["holdout_rows"] == 31 + 28 + 31 + 30
    assert one["metric"] == "rmsle" and one["holdout_score"] > 0
    assert one["params"] in {f"alpha={a}" for a in (0.1, 1, 2, 3, 4, 10, 100)}
    store = resources["model_store"]
    assert store.versions("bike_sharing") == [1, 2]
    assert store.metadata("bike_sharing", 1)["sha256"] == one["sha256"]
    assert Path(one["model_uri"]).is_file()


def test_seasonal_reference_with_calibrated_thresholds(env, instance):
    from drift_assets.assets import build_assets
    from drift_assets.resources import build_resources

    resources = build_resources({**env, "DRIFT_REFERENCE": "seasonal",
                                 "DRIFT_THRESHOLDS": "calibrated"})
    assets = build_assets(BIKE, resources["settings"])
    materialize([assets[0]], resources=resources, instance=instance)
    first = _run_month("2011-07", resources, instance, assets=assets)
    later = _run_month("2012-07", resources, instance, assets=assets)
    early, seasonal = _metadata(first, "drift_report"), _metadata(later, "drift_report")
    assert early["reference_window"] == "seasonal has no clean data yet: fixed:2011-01"
    assert seasonal["reference_window"] == "seasonal: 2011-07"
    assert {"temp", "atemp"} <= set(early["drifted_columns"].split(", "))  # against January
    assert seasonal["drift_detected"] is False  # July against the July before
    methods = {r.data["column"]: r.data["method"] for r in seasonal["columns"].records}
    assert methods["temp"] == "calibrated ks_d"
    [category] = [c for c in methods if c.startswith("weathersit=")]  # judged per category
    assert methods[category] == "calibrated cohen_h"
    record = MonthHistory(bike(resources["warehouse"]).engine).drift_records()["2012-07"]
    assert record.columns[0].column == "weathersit"  # the features' order
    assert f"weathersit={record.columns[0].category}" == category  # rendered from the record
    assert {"effect/weathersit", "effect/weathersit=1", "effect/weathersit=2"} <= set(seasonal)
    assert all(r.data["threshold"] >= 0.2 for r in seasonal["columns"].records)  # min effect
    assert seasonal["relations/drift"] is False and seasonal["relations/threshold"] > 0
    resources["warehouse"].dispose()


def test_months_with_the_same_window_share_one_profile(resources, instance, reference):
    first = _run_month("2011-02", resources, instance)
    second = _run_month("2011-03", resources, instance)
    one, two = _metadata(first, "reference_profile"), _metadata(second, "reference_profile")
    assert one["reused"] is False and two["reused"] is True
    assert one["profile_key"] == two["profile_key"]
    assert two["reference_window"] == "fixed:2011-01"
