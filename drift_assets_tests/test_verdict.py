"""Reference choices, calibrated thresholds and FDR control, without Dagster."""

import numpy as np
import pytest

from drift_assets.engine import build_profile
from drift_assets.engine.calibration import CATEGORY_FLOOR, calibrate, effect_size
from drift_assets.engine.verdict import benjamini_hochberg, judge
from drift_assets.lib.generator import generate_month
from drift_assets.lib.months import shift
from drift_assets.lib.reference import ReferenceChoice
from drift_assets.lib.schema import BIKE
from drift_assets.lib.source import conform

FEATURES = ["weathersit", "temp", "atemp", "hum", "windspeed"]


def _month(month, seed=0):
    return conform(generate_month(month, seed=seed), "generated", BIKE)


def test_reference_choices():
    assert ReferenceChoice.parse(None).describe() == "fixed:2011-01"
    assert ReferenceChoice.parse("fixed:2011-01,2011-02").months == ("2011-01", "2011-02")
    assert ReferenceChoice.parse("rolling:3").window("2012-02") == ["2011-11", "2011-12",
                                                                    "2012-01"]
    seasonal = ReferenceChoice.parse("seasonal")
    assert seasonal.window("2013-05") == ["2012-05"]
    # A month that raised an alert is not a reference: the year before it stands in.
    assert seasonal.window("2013-05", lambda m: m != "2012-05") == ["2011-05"]
    assert seasonal.window("2011-05", lambda m: m >= "2011-01") == []
    assert shift("2011-01", -1) == "2010-12"
    for bad in ("rolling:x", "weekly", "seasonal:3"):
        with pytest.raises(ValueError, match="DRIFT_REFERENCE"):
            ReferenceChoice.parse(bad)


def test_effect_sizes():
    july = _month("2011-07")
    assert effect_size(july["temp"], july["temp"], "num") == 0
    assert effect_size(_month("2011-01")["temp"], july["temp"], "num") == 1.0
    recoded = july["weathersit"].replace({1: 3})
    # Shares count half a row more per category (Jeffreys' prior): a 31-day month without
    # rain makes rain rare, not impossible.
    before = july["weathersit"].value_counts().reindex([1, 2, 3], fill_value=0) + 0.5
    after = recoded.value_counts().reindex([1, 2, 3], fill_value=0) + 0.5
    angles = [np.arcsin(np.sqrt(side / side.sum())) for side in (before, after)]
    h = 2 * abs(angles[0] - angles[1])
    assert effect_size(july["weathersit"], recoded, "cat") == pytest.approx(h.max())
    assert h[1] == pytest.approx(2 * np.arcsin(np.sqrt(before[1] / before.sum())) - 2 * np.arcsin(
        np.sqrt(0.5 / after.sum())))  # the clear days vanish, down to the prior


def test_calibrated_thresholds_sit_above_alike_months_and_below_faults():
    reference = _month("2011-07", 1)
    limits = calibrate(reference, {"temp": "num", "hum": "num", "weathersit": "cat"}, 31)
    assert 0.2 <= limits["temp"] <= 1 and 0.2 <= limits["hum"] <= 1  # K-S D
    assert limits["weathersit"] == CATEGORY_FLOOR  # a category the reference never had
    categories = {k for k in limits if k.startswith("weathersit=")}
    assert categories == {f"weathersit={v}" for v in reference["weathersit"].unique()}
    assert all(CATEGORY_FLOOR <= limits[k] <= np.pi for k in categories)  # Cohen's h
    offset = reference.assign(hum=(reference["hum"] + 0.25).clip(upper=1))
    assert effect_size(reference["hum"], offset["hum"], "num") > limits["hum"]


def test_benjamini_hochberg():
    p = {"a": 0.001, "b": 0.02, "c": 0.03, "d": 0.5}
    assert benjamini_hochberg(p, 0.05) == {"a", "b", "c"}
    assert benjamini_hochberg(p, 0.01) == {"a"}
    assert benjamini_hochberg({"a": 0.04, "b": 0.9}, 0.05) == set()  # 0.04 > 0.05 * 1 / 2


def test_judge_modes_agree_on_a_gross_fault_and_differ_on_noise():
    reference, current = _month("2011-07", 1), _month("2012-07", 1)
    profile = build_profile(reference, FEATURES)
    broken = current.assign(windspeed=current["windspeed"] * 67)
    for kwargs in ({}, {"fdr": 0.05},
                   {"calibrated_thresholds": calibrate(reference, profile.column_types, 31)}):
        verdict = judge(profile, reference, broken, FEATURES, **kwargs)
        assert "windspeed" in verdict.result.drifted_columns, kwargs
    limits = calibrate(reference, profile.column_types, 31)
    # One broken sensor is 1 of 5 columns, under the share of 0.5: with calibrated thresholds
    # against the declared window it is an alert on its own.
    alone = judge(profile, reference, broken, FEATURES, calibrated_thresholds=limits)
    assert alone.result.drifted_columns == ["windspeed"] and alone.drift is False
    assert judge(profile, reference, broken, FEATURES, calibrated_thresholds=limits,
                 any_column=True).drift is True
    clean = judge(profile, reference, current, FEATURES, calibrated_thresholds=limits,
                  any_column=True)
    assert clean.drift is False
    assert all(c.method.startswith("calibrated") for c in clean.result.columns)


def test_each_category_is_judged_against_its_own_variation():
    """A September clear for two weeks and misty after: resamples of it can be all clear or all
    mist, so the clear share's threshold is high; none has many rainy days, so the rain share's
    is low. Clear days recoded as rain pass the first and not the second."""
    reference = _month("2012-09", 3).assign(weathersit=[1] * 16 + [2] * 13 + [3])
    profile = build_profile(reference, FEATURES)
    limits = calibrate(reference, profile.column_types, 30)
    assert limits["weathersit=1"] > 1.5 > 0.9 > limits["weathersit=3"]
    clean = _month("2013-09", 3).assign(weathersit=[1] * 13 + [2] * 17)
    recoded = clean.assign(weathersit=clean["weathersit"].replace({1: 3}))
    # The largest h alone (the clear days vanish) stays under the clear share's threshold.
    assert effect_size(reference["weathersit"], recoded["weathersit"], "cat") < \
        limits["weathersit=1"]
    verdicts = {name: judge(profile, reference, month, FEATURES, calibrated_thresholds=limits
                            ).result.column("weathersit")
                for name, month in (("clean", clean), ("recoded", recoded))}
    assert not verdicts["clean"].drifted
    assert verdicts["recoded"].drifted
    assert verdicts["recoded"].method == "calibrated cohen_h"
    assert verdicts["recoded"].category == "3"


def test_twins_that_move_together_raise_no_alert():
    """Both temperatures warmer alike (weather) are reported, not alerted; one of them alone
    breaks their relation and is."""
    reference = _month("2011-07", 1)
    profile = build_profile(reference, FEATURES)
    limits = {c: 0.2 for c in FEATURES} | {"weathersit": CATEGORY_FLOOR}
    slope = np.polyfit(reference["temp"], reference["atemp"], 1)[0]
    warm = reference.assign(temp=reference["temp"] + 0.03,
                            atemp=reference["atemp"] + 0.03 * slope)
    verdict = judge(profile, reference, warm, FEATURES, calibrated_thresholds=limits)
    temp, atemp = verdict.result.column("temp"), verdict.result.column("atemp")
    assert temp.score > 0.2 and atemp.score > 0.2  # both moved past their thresholds
    assert not temp.drifted and not atemp.drifted and verdict.drift is False
    assert temp.method == "calibrated ks_d" and temp.moved_with == "atemp"
    one = reference.assign(temp=reference["temp"] + 0.03)
    verdict = judge(profile, reference, one, FEATURES, calibrated_thresholds=limits)
    assert verdict.relations.drifted and "temp" in verdict.relations.columns
    assert verdict.result.column("temp").drifted and verdict.drift is True
