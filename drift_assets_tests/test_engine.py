"""Parity of drift_assets.engine with Evidently 0.7's DataDriftPreset, plus unit tests.

Every parity case runs Evidently's real report (``run_evidently``) and the engine on the same
generated frames and requires the same method, the same drifted flag and the same score (1e-6
relative, 1e-12 absolute for p-values that underflow) for every column, and the same dataset
count and share.
"""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from drift_assets.engine import (
    CategoricalSummary,
    ColumnDrift,
    DriftResult,
    NumericSummary,
    ReferenceProfile,
    build_profile,
    detect_drift,
    evidently_column_results,
    infer_column_types,
    run_evidently,
    save_evidently_html,
)
from drift_assets.engine.drift import ks_pvalue, numeric_distances, psi

REL_TOL = 1e-6
ABS_TOL = 1e-12


def bike_frame(n: int, seed: int, shift: float = 0.0, missing: float = 0.0) -> pd.DataFrame:
    """A bike-sharing-like day table; ``shift`` moves weather, demand and mixes; ``missing``
    blanks that share of a few columns (and puts +-inf next to the NaNs of one of them)."""
    rng = np.random.default_rng(seed)
    p_weather = np.array([0.63, 0.34, 0.03]) + np.array([-1.0, 0.5, 0.5]) * shift
    temp = np.clip(rng.normal(0.495 + shift, 0.183, n), 0.05, 0.9)
    frame = pd.DataFrame(
        {
            "season": rng.integers(1, 5, n),  # int, 4 values -> categorical
            "mnth": rng.integers(1, 13, n),  # int, 12 values -> numerical
            "weekday": rng.integers(0, 7, n),
            "holiday": rng.binomial(1, 0.029 + shift / 4, n),  # binary int -> Z-test / JS
            "weathersit": rng.choice([1, 2, 3], n, p=p_weather),
            "temp": temp,
            "atemp": temp * 0.9 + rng.normal(0, 0.02, n),
            "hum": np.clip(rng.normal(0.628, 0.142 + shift / 3, n), 0, 0.97),
            "windspeed": np.abs(rng.normal(0.19, 0.077, n)),
            "cnt": rng.poisson(4500 + 4000 * shift, n),  # int, many values -> numerical
            "few": rng.choice([0.0, 0.5, 1.0], n, p=[0.5, 0.3 - shift, 0.2 + shift]),
            "bin_float": rng.choice([0.0, 1.0], n, p=[0.7, 0.3]),
            "grade": rng.integers(0, 10, n),  # 10 values: categorical by Evidently's limit
            "city": rng.choice(["dc", "arlington", "alexandria", "bethesda"], n),
            "member": rng.choice(["casual", "registered"], n, p=[0.2 + shift, 0.8 - shift]),
            "is_weekend": rng.random(n) < 0.28,
        }
    )
    if missing:
        for column in ("temp", "hum", "city", "season"):
            frame.loc[rng.random(n) < missing, column] = np.nan
        frame.loc[frame["hum"].isna() & (rng.random(n) < 0.2), "hum"] = np.inf
    return frame


def assert_parity(
    reference: pd.DataFrame, current: pd.DataFrame, columns=None, **kw
) -> DriftResult:
    columns = list(reference.columns) if columns is None else columns
    evidently = evidently_column_results(run_evidently(reference, current, columns, **kw))
    result = detect_drift(reference, current, columns, **kw)
    assert set(evidently["columns"]) == {c.column for c in result.columns}
    for ours in result.columns:
        theirs = evidently["columns"][ours.column]
        where = f"{ours.column}: engine {ours} vs evidently {theirs}"
        assert ours.method == theirs["method"], where
        assert ours.drifted == theirs["drifted"], where
        assert ours.threshold == theirs["threshold"], where
        assert ours.score == pytest.approx(theirs["score"], rel=REL_TOL, abs=ABS_TOL), where
    assert result.drifted_count == evidently["drifted_count"]
    assert result.share == pytest.approx(evidently["share"], rel=1e-12)
    assert result.dataset_drift == evidently["dataset_drift"]
    return result


# --------------------------------------------------------------------------------------------
# Parity with Evidently
# --------------------------------------------------------------------------------------------

PARITY_CASES = {
    # (reference rows, current rows, current shift, missing share)
    "small-no-drift": (700, 800, 0.0, 0.0),
    "small-drift": (700, 800, 0.12, 0.0),
    "large-no-drift": (6000, 5000, 0.0, 0.0),
    "large-drift-missing": (6000, 5000, 0.1, 0.1),
    # 1,400 rows but about 980 non-null in the NaN columns: those get the small-reference tests
    "rows-counted-after-dropna": (1400, 3000, 0.05, 0.3),
    # small reference, current above scipy's exact K-S limit: asymptotic p-values
    "small-reference-big-current": (900, 25_000, 0.02, 0.0),
}


@pytest.mark.parametrize("case", PARITY_CASES)
def test_parity_with_evidently(case):
    n_ref, n_cur, shift, missing = PARITY_CASES[case]
    reference = bike_frame(n_ref, seed=1, missing=missing)
    current = bike_frame(n_cur, seed=2, shift=shift, missing=missing)
    result = assert_parity(reference, current)
    methods = {c.column: c.method for c in result.columns}
    if n_ref <= 1000:
        assert methods["temp"] == "ks" and methods["season"] == "chisquare"
        assert methods["holiday"] == "z" and methods["few"] == "chisquare"
        assert methods["bin_float"] == "z"
    elif missing < 0.25:
        assert methods["temp"] == "wasserstein" and methods["season"] == "jensenshannon"
        assert methods["few"] == "jensenshannon" and methods["holiday"] == "jensenshannon"
    else:
        assert methods["temp"] == "ks" and methods["city"] == "chisquare"
        assert methods["cnt"] == "wasserstein"
    assert methods["mnth"] in ("ks", "wasserstein")  # 12 integer values: numerical
    assert methods["grade"] in ("chisquare", "jensenshannon")  # 10 values: categorical
    if shift >= 0.1:
        assert "temp" in result.drifted_columns


def test_parity_new_categories_and_unseen_values():
    reference = bike_frame(600, seed=3)
    current = bike_frame(700, seed=4)
    current.loc[current.index[:40], "city"] = "rockville"  # never seen in the reference
    current.loc[current.index[:25], "grade"] = 10  # 11 values now, still categorical (reference)
    result = assert_parity(reference, current)
    assert result.column("city").score == 0.0  # expected frequency 0 -> chi2 = inf
    assert result.column("grade").column_type == "cat"


def test_evidently_own_type_inference_matches():
    # Left to infer types itself (from the current frame), Evidently picks the same tests.
    from evidently import Report
    from evidently.presets import DataDriftPreset

    reference, current = bike_frame(5000, seed=5), bike_frame(4000, seed=6, shift=0.05)
    assert infer_column_types(current) == infer_column_types(reference)
    snapshot = Report([DataDriftPreset()], include_tests=True).run(current, reference)
    theirs = evidently_column_results(snapshot)
    ours = detect_drift(reference, current)
    assert {c.column: c.method for c in ours.columns} == {
        c: r["method"] for c, r in theirs["columns"].items()
    }
    assert ours.drifted_count == theirs["drifted_count"]


def test_parity_with_drift_share_and_skipped_columns():
    reference = bike_frame(3000, seed=7)
    current = bike_frame(3000, seed=8, shift=0.1)
    current["windspeed"] = np.nan  # Evidently raises on an empty column; both leave it out
    with pytest.warns(UserWarning, match="windspeed"):
        assert_parity(reference, current, drift_share=0.2)
    result = detect_drift(reference, current, drift_share=0.2)
    assert result.skipped == {"windspeed": "all values missing in current"}


# --------------------------------------------------------------------------------------------
# Statistics against their references
# --------------------------------------------------------------------------------------------


def _evidently_psi(reference: pd.Series, current: pd.Series) -> float:
    from evidently.legacy.calculations.stattests import psi_stat_test
    from evidently.legacy.core import ColumnType

    return psi_stat_test(reference, current, ColumnType.Numerical, None).drift_score


@pytest.mark.parametrize(
    "make",
    [
        lambda r: (r.normal(0, 1, 3000), r.normal(0.3, 1.2, 2000)),  # Sturges bins, some empty
        lambda r: (r.integers(0, 21, 4000), r.integers(0, 21, 3000)),  # int width-1 rule
        lambda r: (r.integers(0, 8, 2000).astype(float), r.integers(2, 12, 2500).astype(float)),
        lambda r: (r.exponential(1, 500), np.r_[r.exponential(1, 400), [50.0]]),
    ],
    ids=["continuous", "integer-bins", "few-values", "outlier"],
)
def test_psi_matches_evidently_psi_stattest(make):
    ref, cur = make(np.random.default_rng(11))
    expected = _evidently_psi(pd.Series(ref), pd.Series(cur))
    ref_summary = NumericSummary.from_series(pd.Series(ref))
    cur_summary = NumericSummary.from_series(pd.Series(cur))
    assert psi(ref_summary, cur_summary) == pytest.approx(expected, rel=1e-9)


def test_ks_and_wasserstein_match_scipy_with_ties():
    rng = np.random.default_rng(12)
    cases = [
        (rng.normal(0, 1, 4000), rng.normal(0.1, 1, 3000)),
        (rng.integers(0, 30, 5000).astype(float), rng.integers(2, 35, 7000).astype(float)),
        (np.r_[np.zeros(50), -np.zeros(50), rng.normal(size=100)], rng.normal(size=150)),
        (rng.normal(0, 1, 800), rng.normal(5, 1, 30_000)),  # disjoint, asymptotic p-value
        (np.array([1.0]), np.array([1.0, 2.0])),
    ]
    for ref, cur in cases:
        r, c = NumericSummary.from_array(ref), NumericSummary.from_array(cur)
        expected = stats.ks_2samp(ref, cur)
        for block in (3, 64, 32_768):  # the merged walk goes block by block
            wasserstein, ks_d = numeric_distances(r, c, block=block)
            # scipy's exact mode snaps D to the lattice h / lcm(n1, n2): equal up to rounding
            assert ks_d == pytest.approx(expected.statistic, rel=1e-12)
            assert ks_pvalue(r, c, ks_d) == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
            assert wasserstein == pytest.approx(stats.wasserstein_distance(ref, cur), rel=1e-9)


def test_missing_values_and_infinities_are_dropped():
    summary = NumericSummary.from_array(np.array([3.0, np.nan, -np.inf, 1.0, np.inf, 2.0]))
    assert summary.values.tolist() == [1.0, 2.0, 3.0]
    assert summary.n_missing == 3
    cats = CategoricalSummary.from_series(pd.Series(["a", None, "b", "a", np.nan]))
    assert cats.as_dict() == {"a": 2, "b": 1} and cats.n_missing == 2


# --------------------------------------------------------------------------------------------
# Types, profile, API behaviour
# --------------------------------------------------------------------------------------------


def test_infer_column_types_follows_evidently():
    n = 200
    frame = pd.DataFrame(
        {
            "f": np.linspace(0, 1, n),
            "int10": np.arange(n) % 10,
            "int11": np.arange(n) % 11,
            "flag": np.arange(n) % 2 == 0,
            "cat": pd.Categorical(np.where(np.arange(n) % 3, "x", "y")),
            "low_str": np.where(np.arange(n) % 3, "x", "y"),
            "ids": [f"id{i}" for i in range(n)],
            "when": pd.date_range("2024-01-01", periods=n),
        }
    )
    assert infer_column_types(frame) == {
        "f": "num",
        "int10": "cat",
        "int11": "num",
        "flag": "cat",
        "cat": "cat",
        "low_str": "cat",
        "ids": "text",
        "when": "datetime",
    }
    result = detect_drift(frame, frame.iloc[::-1].reset_index(drop=True))
    assert set(result.skipped) == {"ids", "when"}
    assert "not tested" in result.skipped["ids"]
    assert result.drifted_count == 0 and len(result.columns) == 6


def test_profile_reuse_pickle_and_fingerprint():
    reference = bike_frame(3000, seed=13, missing=0.05)
    current = bike_frame(2500, seed=14, shift=0.08)
    profile = build_profile(reference, list(reference.columns))
    assert isinstance(profile, ReferenceProfile)
    assert profile.n_rows == 3000 and profile.columns == tuple(reference.columns)
    # season has NaNs here, so it is float and numerical, as Evidently would type it
    assert profile.column_types["season"] == "num" and profile.column_types["grade"] == "cat"
    direct = detect_drift(reference, current)
    clone = pickle.loads(pickle.dumps(profile))
    assert detect_drift(profile, current) == direct == detect_drift(clone, current)
    assert clone.fingerprint == profile.fingerprint
    shuffled = reference.sample(frac=1.0, random_state=0)
    assert build_profile(shuffled).fingerprint == profile.fingerprint  # row order is irrelevant
    changed = reference.copy()
    changed.loc[changed.index[0], "temp"] += 1e-9
    assert build_profile(changed).fingerprint != profile.fingerprint
    assert detect_drift(profile, current, columns=["temp"]).columns == (direct.column("temp"),)


def test_summaries_merge_like_the_whole():
    frame = bike_frame(4000, seed=15, missing=0.1)
    current = bike_frame(3000, seed=16, shift=0.05)
    parts = [frame.iloc[:1500], frame.iloc[1500:]]
    profile = build_profile(frame)
    merged = ReferenceProfile(
        profile.columns,
        profile.column_types,
        profile.n_rows,
        {
            column: type(summary).merge([build_profile(p).summaries[column] for p in parts])
            for column, summary in profile.summaries.items()
        },
    )
    assert merged.fingerprint == profile.fingerprint
    assert detect_drift(merged, current) == detect_drift(profile, current)


def test_errors_and_skips():
    reference = bike_frame(500, seed=17)
    current = bike_frame(500, seed=18)
    with pytest.raises(KeyError, match="cnt"):
        detect_drift(reference, current.drop(columns=["cnt"]))
    profile = build_profile(reference)
    with pytest.raises(KeyError, match="cnt"):
        detect_drift(profile, current.drop(columns=["cnt"]))
    with pytest.raises(KeyError, match="nope"):
        detect_drift(profile, current, columns=["nope"])
    with pytest.raises(ValueError, match="season"):
        detect_drift(profile, current, column_types={"season": "num"})
    reference["hum"] = np.nan
    current["temp"] = [np.inf] * len(current)
    current["city"] = None
    current["cnt"] = "many"
    result = detect_drift(reference, current)
    assert result.skipped["hum"] == "all values missing in reference"
    assert result.skipped["temp"] == "all values missing in current"
    assert result.skipped["city"] == "all values missing in current"
    assert result.skipped["cnt"].startswith("current: cannot summarise")
    assert len(result.columns) == len(reference.columns) - 4


def test_dataset_verdict_is_inclusive_and_to_dict_is_json():
    def column(name, drifted):
        return ColumnDrift(
            name, "num", "wasserstein", 0.2 if drifted else 0.01, 0.1, drifted, 0.01, 0.02, 0.0, 0.0
        )

    result = DriftResult(
        (column("a", True), column("b", False), column("c", True), column("d", False)),
        0.5,
        {"e": "all values missing in current"},
    )
    assert result.drifted_columns == ["a", "c"] and result.drifted_count == 2
    assert result.share == 0.5 and result.dataset_drift  # share == threshold counts as drift
    assert not DriftResult(result.columns, 0.51).dataset_drift
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["dataset_drift"] is True and payload["skipped"] == {"e": result.skipped["e"]}
    assert payload["columns"][0]["column"] == "a"
    real = detect_drift(bike_frame(800, seed=19), bike_frame(800, seed=20, shift=0.1))
    json.dumps(real.to_dict(), allow_nan=False)


def test_save_evidently_html_samples(tmp_path):
    reference = bike_frame(3000, seed=21)
    current = bike_frame(1200, seed=22, shift=0.05)
    columns = ["temp", "season", "city", "grade"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = save_evidently_html(
            reference, current, columns, tmp_path / "r" / "drift.html", max_rows=1000, seed=1
        )
    assert out == {
        "path": str(tmp_path / "r" / "drift.html"),
        "sampled": True,
        "reference_rows_used": 1000,
        "current_rows_used": 1000,
    }
    html = (tmp_path / "r" / "drift.html").read_text(encoding="utf-8")
    assert "<html" in html.lower() and len(html) > 10_000


def test_numeric_partials_merge_like_the_whole():
    from drift_assets.engine.profile import TABLE_CAP, NumericPartial

    rng = np.random.default_rng(21)
    few = pd.Series(rng.integers(0, 7, 5000).astype(float))
    few[rng.random(5000) < 0.1] = np.nan
    many = pd.Series(rng.normal(3, 2, 3 * TABLE_CAP))
    for series in (few, many):
        whole = NumericSummary.from_series(series)
        merged = NumericPartial.merge([NumericSummary.from_series(part).partial
                                       for part in np.array_split(series, 4)])
        assert (merged.n, merged.n_missing) == (whole.n, whole.n_missing)
        assert (merged.minimum, merged.maximum) == (whole.minimum, whole.maximum)
        assert merged.std == pytest.approx(float(np.std(whole.values)), rel=1e-12)
        assert whole.std == float(np.std(whole.values))  # the one-piece case is np.std itself
    assert merged.table is None and merged.n_unique > TABLE_CAP  # `many` keeps no table
    few_merged = NumericPartial.merge([NumericSummary.from_series(few).partial])
    values, counts = few_merged.value_counts()
    assert values.tolist() == sorted(few.dropna().unique()) and counts.sum() == few.count()
