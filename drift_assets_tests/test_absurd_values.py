"""Issue 18: a month with values no sensor can produce, on the real pipeline.

Two rows with humidity 1e300 and temperature -1e9 pass ingest (they are numbers), and a negative
count too; the blocking ``impossible_values`` check must stop the month before the drift check,
naming the column, the value and the bound, and a later clean month must still run."""

from __future__ import annotations

import pytest
from dagster import materialize

from drift_assets.lib.generator import generate_month
from drift_assets.lib.history import MonthHistory
from drift_assets_tests.graph import (
    bike,
    current_data,
    data_quality_report,
    drift_report,
    key,
    node,
    reference_profile,
    reference_table,
)

MONTHLY = [reference_table, current_data, data_quality_report, reference_profile, drift_report]


@pytest.fixture
def files(resources, instance, tmp_path):
    """The default reference, then a source that reads the month's CSV file from tmp_path."""
    from drift_assets.resources import FileSource

    materialize([reference_table], resources=resources, instance=instance)
    return {**resources, "source": FileSource(location=str(tmp_path / "{month}.csv"))}


def _run_month(month: str, resources, instance):
    return materialize(MONTHLY, selection=MONTHLY[1:], partition_key=f"{month}-01",
                       resources=resources, instance=instance, raise_on_error=False)


def _drift_months(instance) -> set[str]:
    events = instance.fetch_materializations(key("drift_report"), limit=100).records
    return {e.partition_key[:7] for e in events}


def test_absurd_values_block_their_month_and_a_later_month_still_runs(files, instance,
                                                                      tmp_path):
    absurd = generate_month("2011-05")
    absurd.loc[3, "hum"] = 1e300
    absurd.loc[7, "temp"] = -1e9
    absurd.to_csv(tmp_path / "2011-05.csv", index=False)
    negative = generate_month("2011-06")
    negative.loc[10, "cnt"] = -5
    negative.to_csv(tmp_path / "2011-06.csv", index=False)
    generate_month("2011-07").to_csv(tmp_path / "2011-07.csv", index=False)

    result = _run_month("2011-05", files, instance)
    # numbers: ingest takes them
    assert result.asset_materializations_for_node(node("current_data"))
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    impossible = checks["impossible_values"]
    assert not impossible.passed and impossible.severity.value == "ERROR"
    assert "hum: value 1e+300 outside its possible range [0, 1]" in impossible.description
    assert "temp: value -1e+09 outside its possible range [-2.5, 2.5]" in impossible.description
    assert impossible.metadata["columns"].value == "temp, hum"
    assert result.asset_materializations_for_node(node("drift_report")) == []

    result = _run_month("2011-06", files, instance)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks["impossible_values"].passed
    assert checks["impossible_values"].description == \
        "cnt: value -5 outside its possible range [0, 1e+06]"
    assert result.asset_materializations_for_node(node("drift_report")) == []

    result = _run_month("2011-07", files, instance)
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["impossible_values"].passed
    assert result.asset_materializations_for_node(node("drift_report"))
    assert _drift_months(instance) == {"2011-07"}

    quality = MonthHistory(bike(files["warehouse"]).engine).quality_records()
    assert not quality["2011-05"].passed and not quality["2011-06"].passed
    assert quality["2011-07"].passed
    assert [f.column for f in quality["2011-05"].findings
            if f.rule == "impossible_values"] == ["temp", "hum"]
