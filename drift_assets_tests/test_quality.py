import numpy as np

from drift_assets.lib import quality
from drift_assets.lib.generator import generate_month
from drift_assets.lib.source import conform

FEATURES = ["weathersit", "temp", "atemp", "hum", "windspeed"]


def _month(month="2011-02", seed=0):
    return conform(generate_month(month, seed=seed), "test")


def test_profile_has_the_lambda_report_columns():
    profile = quality.profile(_month())
    assert list(profile.columns) == ["column", "rows", "dtype", "missing", "missing_share",
                                     "unique", "mean", "std", "min", "max"]
    temp = profile.set_index("column").loc["temp"]
    assert temp["rows"] == 28 and temp["dtype"] == "float" and temp["missing"] == 0
    assert temp["min"] <= temp["mean"] <= temp["max"]


def test_a_clean_neighbouring_month_passes():
    report = quality.assess(_month("2011-02", 1), _month("2011-02", 2), FEATURES,
                            max_out_of_range_share=0.5)
    assert report.passed and report.findings == []


def test_each_rule_finds_its_problem():
    reference, current = _month("2011-01"), _month("2011-01", seed=3)
    current.loc[current.index[:15], "hum"] = np.nan          # about half missing
    current["windspeed"] = 0.2                                # constant
    current["atemp"] = np.nan                                 # entirely empty: type change
    current["temp"] = current["temp"] + 2.0                   # all outside the reference range
    report = quality.assess(current, reference, FEATURES)
    rules = {(f.rule, f.column) for f in report.findings}
    assert ("missing_values", "hum") in rules
    assert ("constant_columns", "windspeed") in rules
    assert ("schema", "atemp") in rules
    assert ("value_ranges", "temp") in rules
    assert not report.passed
    missing = report.findings_for("missing_values")
    assert any(f.column == "hum" and "48% missing" in f.message for f in missing)


def test_warnings_alone_do_not_fail():
    reference, current = _month("2011-01"), _month("2011-07")
    report = quality.assess(current, reference, FEATURES)
    assert report.findings_for("value_ranges")  # July is warmer than any January day
    assert report.passed


def test_relations_between_columns():
    """A temperature rescaled while the feeling temperature is not breaks their relation; the
    same month a year later, with its own weather, does not."""
    from drift_assets.lib.multivariate import ReconstructionMonitor

    columns = ["temp", "atemp", "hum", "windspeed"]
    monitor = ReconstructionMonitor(_month("2011-07", 1), columns)
    clean = _month("2012-07", 1)
    assert not monitor.check(clean).drifted
    broken = clean.assign(temp=clean["temp"] * 0.8)
    result = monitor.check(broken)
    assert result.drifted and result.error > result.upper
    assert set(result.columns[:2]) == {"temp", "atemp"}
