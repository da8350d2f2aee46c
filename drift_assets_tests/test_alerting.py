"""Reference choices, calibrated thresholds and FDR control, without Dagster."""

import numpy as np
import pytest

from drift_assets.engine import build_profile
from drift_assets.lib.alerting import benjamini_hochberg, calibrate, effect_size, judge
from drift_assets.lib.generator import generate_month
from drift_assets.lib.reference import ReferenceChoice, shift
from drift_assets.lib.source import conform

FEATURES = ["weathersit", "temp", "atemp", "hum", "windspeed"]


def _month(month, seed=0):
    return conform(generate_month(month, seed=seed), "generated")


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
    clear, rain = (july["weathersit"] == 1).mean(), (july["weathersit"] == 3).mean()
    assert effect_size(july["weathersit"], recoded, "cat") == pytest.approx(max(
        2 * np.arcsin(np.sqrt(clear)),  # clear days vanish
        2 * abs(np.arcsin(np.sqrt(clear + rain)) - np.arcsin(np.sqrt(rain)))))


def test_calibrated_thresholds_sit_above_alike_months_and_below_faults():
    reference = _month("2011-07", 1)
    limits = calibrate(reference, {"temp": "num", "hum": "num", "weathersit": "cat"}, 31)
    assert 0.2 <= limits["temp"] <= 1 and 0.2 <= limits["hum"] <= 1  # K-S D
    assert 0.2 <= limits["weathersit"] <= np.pi  # Cohen's h
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
    clean = judge(profile, reference, current, FEATURES, calibrated_thresholds=limits)
    assert clean.drift is False
    assert all(c.method.startswith("calibrated") for c in clean.result.columns)
