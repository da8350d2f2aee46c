import itertools

import numpy as np
import pandas as pd
import pytest

from drift_assets.lib import quality
from drift_assets.lib.generator import generate_month
from drift_assets.lib.schema import BIKE
from drift_assets.lib.source import conform

FEATURES = ["weathersit", "temp", "atemp", "hum", "windspeed"]


def _month(month="2011-02", seed=0):
    return conform(generate_month(month, seed=seed), "test", BIKE)


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
    current["windspeed"] = 0.2                                # a stuck sensor
    current["weathersit"] = 1                                 # one code all month
    current["atemp"] = np.nan                                 # entirely empty: type change
    current["temp"] = current["temp"] + 2.0                   # all outside the reference range
    report = quality.assess(current, reference, FEATURES)
    rules = {(f.rule, f.column) for f in report.findings}
    assert ("missing_values", "hum") in rules
    assert ("stuck_values", "windspeed") in rules
    assert ("constant_columns", "weathersit") in rules
    assert ("schema", "atemp") in rules
    assert ("value_ranges", "temp") in rules
    assert not report.passed
    missing = report.findings_for("missing_values")
    assert any(f.column == "hum" and "48% missing" in f.message for f in missing)


def test_warnings_alone_do_not_fail():
    reference, current = _month("2011-01"), _month("2011-07")
    current["weathersit"] = 2  # a code may keep one value for a month; a measurement may not
    report = quality.assess(current, reference, FEATURES)
    assert report.findings_for("value_ranges")  # July is warmer than any January day
    assert [f.column for f in report.findings_for("constant_columns")] == ["weathersit"]
    assert report.passed


def test_a_month_within_the_range_seen_before_is_not_out_of_range():
    """July against a January reference is out of range; with the months since seen (a range
    reaching July's warmth), it is not, and the message names the range it was held to."""
    reference, current = _month("2011-01"), _month("2011-07")
    alone = quality.assess(current, reference, FEATURES)
    assert "temp" in {f.column for f in alone.findings_for("value_ranges")}
    assert "the reference range" in alone.findings_for("value_ranges")[0].message
    seen = {"temp": (0.0, 1.0), "atemp": (0.0, 1.0)}
    widened = quality.assess(current, reference, FEATURES, seen=seen)
    assert not {"temp", "atemp"} & {f.column for f in widened.findings_for("value_ranges")}
    partly = quality.assess(current, reference, FEATURES,
                            seen={"temp": (0.3, float(current["temp"].quantile(0.5)))})
    message = next(f.message for f in partly.findings_for("value_ranges") if f.column == "temp")
    assert "the range seen before" in message


def test_relations_between_columns():
    """A temperature rescaled while the feeling temperature is not breaks their relation; the
    same month a year later, with its own weather, does not; humidity and wind, which the other
    columns do not determine, are not watched; a month outside the reference's range is not
    judged."""
    from drift_assets.engine.relations import RelationMonitor

    columns = ["temp", "atemp", "hum", "windspeed"]
    monitor = RelationMonitor(_month("2011-07", 1), columns)
    assert set(monitor.fits) == {"temp", "atemp"}
    clean = _month("2012-07", 1)
    warm = clean.assign(temp=clean["temp"] + 0.05, atemp=clean["atemp"] + 0.89 * 0.05)
    for month in (clean, warm):  # weather moves the twins together
        assert not monitor.check(month).drifted
    broken = clean.assign(temp=clean["temp"] * 1.3)
    result = monitor.check(broken)
    assert result.drifted and result.error > result.upper == 2.0
    # atemp's partner, the rescaled temp, is mostly outside July's range: only temp is judged
    assert result.columns == ["temp"] and "atemp" not in result.shifts
    assert result.shifts["temp"] > 3 * max(monitor.check(clean).shifts.values())
    # temp shuffled among the month's rows keeps both columns' values and the mean residual:
    # the points scatter about the line, and that breaks the relation too
    shuffled = clean.assign(temp=clean["temp"].sample(frac=1, random_state=0).to_numpy())
    result = monitor.check(shuffled)
    assert result.drifted and "temp" in result.columns
    # wind in another unit is not a broken temperature: each twin is predicted by its twin alone
    assert not monitor.check(clean.assign(windspeed=clean["windspeed"] * 67)).drifted
    # a line fitted on January's temperatures says nothing about July's
    january = RelationMonitor(_month("2011-01", 1), columns)
    assert january.fits and not january.check(clean).drifted


def test_cohens_h_weighs_a_rare_category_that_becomes_common():
    from drift_assets.engine.calibration import cohens_h

    before = pd.Series({1: 20, 2: 10, 3: 1})
    # Half a row of prior per category: alike shares of different sizes are near, not equal,
    # and the prior fades as the months grow.
    assert cohens_h(before, before * 3) < 0.05
    assert cohens_h(before * 1000, before * 3000) < 1e-4
    recoded = pd.Series({2: 10, 3: 21})  # clear days coded as rain
    swapped = pd.Series({1: 10, 2: 20, 3: 1})  # a misty month
    assert cohens_h(before, recoded) > 2 * cohens_h(before, swapped)
    angle = np.arcsin(np.sqrt((np.array([20, 0, 21, 1]) + 0.5) / 32.5))  # 31 days + 3 halves
    vanished = 2 * abs(angle[0] - angle[1])  # clear: 20 of 31 days, then none
    common = 2 * abs(angle[2] - angle[3])  # rain: 1 day, then 21
    assert cohens_h(before, recoded) == pytest.approx(max(vanished, common))


def test_values_no_sensor_can_produce_are_a_blocking_finding_naming_the_column():
    """Issue 18: humidity 1e300 and a temperature of -1e9 are no weather, a negative count or a
    fifth season no record; each names its column, its value and the bound it broke, in any
    column (cnt is no monitored feature), and fails the month."""
    reference, current = _month("2011-01"), _month("2011-01", seed=3)
    current.loc[3, "hum"] = 1e300
    current.loc[7, "temp"] = -1e9
    current.loc[9, "cnt"] = -5
    current.loc[11, "season"] = 5
    report = quality.assess(current, reference, FEATURES)
    found = {f.column: f for f in report.findings_for("impossible_values")}
    assert set(found) == {"hum", "temp", "cnt", "season"}
    assert found["hum"].message == "hum: value 1e+300 outside its possible range [0, 1]"
    assert found["temp"].message == "temp: value -1e+09 outside its possible range [-2.5, 2.5]"
    assert found["cnt"].message == "cnt: value -5 outside its possible range [0, 1e+06]"
    assert found["season"].message == "season: value 5 outside its possible range [1, 4]"
    assert found["hum"].value == 1e300 and found["hum"].severity == quality.ERROR
    assert not report.passed


def test_a_count_far_beyond_the_reference_and_a_non_finite_value_are_impossible():
    """Within its possible range a count can still be absurd for this deployment: more than
    FAR_FROM_REFERENCE reference ranges beyond the reference; infinity is never a value."""
    reference, current = _month("2011-01"), _month("2011-01", seed=3)
    span = reference["registered"].max() - reference["registered"].min()
    far = int(reference["registered"].max() + (quality.FAR_FROM_REFERENCE + 1) * span)
    assert far < quality.POSSIBLE_RANGES["registered"][1]
    current.loc[4, "registered"] = far
    current["windspeed"] = current["windspeed"].astype(float)
    current.loc[5, "windspeed"] = np.inf
    found = {f.column: f.message for f in quality.assess(current, reference, FEATURES)
             .findings_for("impossible_values")}
    assert found["registered"].startswith(f"registered: value {far:g} more than "
                                          f"{quality.FAR_FROM_REFERENCE} reference ranges")
    assert found["windspeed"] == "windspeed: value inf is not a finite number"
    # a month with a season's values beyond the reference is drift's business, not this rule's
    july = quality.assess(_month("2012-07", 4), reference, FEATURES)
    assert july.findings_for("value_ranges") and not july.findings_for("impossible_values")


def test_the_rule_is_a_blocking_error_and_quiet_on_every_generated_month():
    """Every generated month of 2011-2014 against the default reference (the scan behind the
    bounds, over seeds 0..8 and every reference month, is in the report of issue 18)."""
    assert quality.RULES["impossible_values"][0] == quality.ERROR
    reference = quality.profile(_month("2011-01"))
    bounds = quality.reference_bounds(reference)
    for year, month in itertools.product(range(2011, 2015), range(1, 13)):
        current = quality.profile(_month(f"{year}-{month:02d}", seed=5), bounds)
        report = quality.apply_rules(current, reference, FEATURES)
        assert report.findings_for("impossible_values") == [], (year, month)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # Dask's std of 1e300
def test_impossible_values_on_the_dask_path():
    """profile_on_cluster carries each column's min and max, so apply_rules finds the same."""
    import dask.dataframe as dd
    from distributed import Client

    reference, current = _month("2011-01"), _month("2011-01", seed=3)
    current.loc[3, "hum"] = 1e300
    current.loc[9, "cnt"] = -5
    with Client(processes=False, n_workers=1, threads_per_worker=1,
                dashboard_address=None) as client:
        ref_profile = quality.profile_on_cluster(dd.from_pandas(reference, npartitions=2),
                                                 client)
        cur_profile = quality.profile_on_cluster(dd.from_pandas(current, npartitions=3), client,
                                                 quality.reference_bounds(ref_profile))
    report = quality.apply_rules(cur_profile, ref_profile, FEATURES)
    single = quality.assess(current, reference, FEATURES)
    assert [f.message for f in report.findings_for("impossible_values")] == \
        [f.message for f in single.findings_for("impossible_values")] == \
        ["hum: value 1e+300 outside its possible range [0, 1]",
         "cnt: value -5 outside its possible range [0, 1e+06]"]
    assert not report.passed
