import pandas as pd

from drift_assets.lib.generator import generate, generate_month
from drift_assets.lib.months import months_between
from drift_assets.lib.schema import BIKE, COLUMNS


def test_schema_and_range_of_the_public_table():
    frame = generate()
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 731
    assert str(frame["dteday"].min()) == "2011-01-01" and str(frame["dteday"].max()) == "2012-12-31"
    assert frame["instant"].tolist() == list(range(1, 732))
    assert (frame["cnt"] == frame["casual"] + frame["registered"]).all()
    assert set(frame["weathersit"]) <= {1, 2, 3}
    assert frame["temp"].between(0, 1).all() and frame["hum"].between(0, 1).all()


def test_shape_follows_the_public_table():
    frame = generate()
    by_month = frame.groupby("mnth")[["temp", "windspeed", "cnt"]].mean()
    assert by_month.loc[7, "temp"] > by_month.loc[1, "temp"] + 0.4
    assert by_month.loc[1, "windspeed"] > by_month.loc[7, "windspeed"]
    by_year = frame.groupby("yr")["cnt"].mean()
    assert 1.4 < by_year[1] / by_year[0] < 1.9  # the scheme grew about 64% from 2011 to 2012
    assert 0.6 < frame["workingday"].mean() < 0.75
    assert 0.55 < (frame["weathersit"] == 1).mean() < 0.72


def test_deterministic_for_a_seed_and_independent_of_the_range():
    march = generate_month("2011-03", seed=7)
    pd.testing.assert_frame_equal(march, generate_month("2011-03-01", seed=7))
    within = generate("2011-01", "2011-06", seed=7)
    pd.testing.assert_frame_equal(
        within[within["mnth"] == 3].reset_index(drop=True), march.reset_index(drop=True)
    )
    assert not generate_month("2011-03", seed=8)["temp"].equals(march["temp"])


def test_many_rows_a_day():
    frame = generate_month("2012-02", rows_per_day=50)
    assert len(frame) == 29 * 50
    assert frame["instant"].is_unique
    assert frame.groupby("dteday").size().eq(50).all()
    assert (frame["cnt"] == frame["casual"] + frame["registered"]).all()


def test_months_between():
    months = months_between("2011-11", "2012-02")
    assert [m.isoformat() for m in months] == [
        "2011-11-01", "2011-12-01", "2012-01-01", "2012-02-01"]


def test_seasons_drift_and_samples_of_one_month_do_not():
    """Over many seeds: a January reference against July reports dataset drift; two samples of
    one month mostly do not (weathersit's rare rain days and the temperature twins make an
    occasional false alarm, as on the public table)."""
    from drift_assets.engine import detect_drift
    from drift_assets.lib.source import conform

    features = ["weathersit", "temp", "atemp", "hum", "windspeed"]
    seeds = range(20)

    def month(name, seed):
        return conform(generate_month(name, seed=seed), "generated", BIKE)

    seasonal = sum(detect_drift(month("2011-01", s), month("2011-07", s), features).dataset_drift
                   for s in seeds)
    same = sum(detect_drift(month("2011-07", s), month("2011-07", s + 100), features).dataset_drift
               for s in seeds)
    assert seasonal >= 17
    assert same <= 3
