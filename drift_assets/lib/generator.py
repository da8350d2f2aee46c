"""Realistic bike-sharing daily data, deterministic for a seed.

The public table cannot be shipped, so this module makes data of the same schema and statistical
shape (seasonal temperature, humidity, wind and weather; demand driven by them,
by working days and by year-on-year growth). Each month is generated on its own from a seed derived
from (seed, year, month), so any month, or any range, can be produced without the others and a
month is the same whichever range it is generated in.

``rows_per_day > 1`` splits every day into that many rows (stations or hours) that share the day's
weather with small local variation, so the same pipeline can be run at a million rows a month.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar

from drift_assets.lib.months import month_start, months_between, next_month
from drift_assets.lib.schema import COLUMNS

FIRST_DAY = dt.date(2011, 1, 1)
LAST_DAY = dt.date(2012, 12, 31)

# Monthly climate of the public table (Jan..Dec): normalised temperature, humidity and wind.
_TEMP = np.array([0.24, 0.30, 0.39, 0.47, 0.59, 0.70, 0.76, 0.71, 0.64, 0.50, 0.37, 0.32])
_HUM = np.array([0.58, 0.57, 0.59, 0.59, 0.69, 0.58, 0.60, 0.64, 0.71, 0.72, 0.64, 0.67])
_WIND = np.array([0.22, 0.23, 0.23, 0.23, 0.18, 0.19, 0.17, 0.17, 0.17, 0.17, 0.19, 0.18])
# Weather situation 1 clear, 2 mist, 3 light rain or snow; the public table has no 4.
_WEATHER_P = np.array([0.633, 0.338, 0.029])
_WEATHER_STAY = 0.45  # weather persists from one day to the next


def _season(days: pd.DatetimeIndex) -> np.ndarray:
    """1 winter .. 4 fall, changing at the solstices and equinoxes as in the public table."""
    md = days.month * 100 + days.day
    season = np.select([md < 321, md < 621, md < 923, md < 1221], [1, 2, 3, 4], default=1)
    return season.astype(np.int64)


def _weather(rng: np.random.Generator, n: int) -> np.ndarray:
    """A persistent chain of weather situations with the public table's marginal shares."""
    fresh = rng.choice([1, 2, 3], size=n, p=_WEATHER_P)
    stay = rng.random(n) < _WEATHER_STAY
    out = fresh.copy()
    for i in range(1, n):  # n is the days of one month: a short loop
        if stay[i]:
            out[i] = out[i - 1]
    return out.astype(np.int64)


def _month_days(first: dt.date) -> pd.DatetimeIndex:
    return pd.date_range(first, next_month(first) - dt.timedelta(days=1), freq="D")


def generate_month(month: str | dt.date, seed: int = 0, rows_per_day: int = 1) -> pd.DataFrame:
    """One month of the table (``month`` as '2011-03' or a date), deterministic for ``seed``."""
    if rows_per_day < 1:
        raise ValueError(f"rows_per_day must be at least 1, got {rows_per_day}")
    first = month_start(month)
    days = _month_days(first)
    n = len(days)
    rng = np.random.default_rng([seed, first.year, first.month])
    m = first.month - 1
    yr = first.year - 2011

    holidays = USFederalHolidayCalendar().holidays(days[0], days[-1])
    holiday = days.isin(holidays).astype(np.int64)
    weekday = ((days.dayofweek + 1) % 7).to_numpy().astype(np.int64)  # 0 = Sunday, as published
    workingday = ((weekday >= 1) & (weekday <= 5) & (holiday == 0)).astype(np.int64)
    weathersit = _weather(rng, n)

    # Day-to-day temperature moves in spells, not independently: AR(1) anomalies.
    anomaly = np.empty(n)
    anomaly[0] = rng.normal(0, 0.07)
    for i in range(1, n):
        anomaly[i] = 0.5 * anomaly[i - 1] + rng.normal(0, 0.06)
    progress = (days.day.to_numpy() - 1) / n  # blend towards next month's mean within the month
    temp_mean = _TEMP[m] + (_TEMP[(m + 1) % 12] - _TEMP[m]) * (progress - 0.5) * 0.5
    temp = np.clip(temp_mean + anomaly - 0.02 * (weathersit - 1), 0.059, 0.862)
    atemp = np.clip(0.89 * temp + 0.033 + rng.normal(0, 0.012, n), 0.079, 0.841)
    hum = np.clip(_HUM[m] - 0.035 + 0.09 * (weathersit - 1) + rng.normal(0, 0.11, n), 0.0, 0.973)
    windspeed = np.clip(rng.gamma(12.0, _WIND[m] / 12.0, n), 0.022, 0.507)

    # Demand: warm (not hot), dry, calm days; commuters on working days, leisure at weekends;
    # the scheme grew about 64% from 2011 to 2012 and more slowly after.
    growth = 1.0 + 0.55 * np.log2(1.0 + max(yr, 0))
    comfort = np.clip(1.0 - 2.6 * (temp - 0.66) ** 2 - 0.35 * np.maximum(hum - 0.7, 0), 0.08, 1)
    weather_factor = np.array([1.0, 0.86, 0.42])[weathersit - 1]
    wind_factor = 1.0 - 0.6 * np.maximum(windspeed - 0.2, 0)
    base = comfort * weather_factor * wind_factor * growth * rng.lognormal(0, 0.12, n)
    registered = 3600 * base * np.where(workingday == 1, 1.12, 0.78)
    casual = 720 * base**1.6 * np.where(workingday == 1, 0.62, 1.95)

    frame = pd.DataFrame(
        {
            "dteday": days.date,
            "season": _season(days),
            "yr": np.full(n, yr, dtype=np.int64),
            "mnth": np.full(n, first.month, dtype=np.int64),
            "holiday": holiday,
            "weekday": weekday,
            "workingday": workingday,
            "weathersit": weathersit,
            "temp": temp,
            "atemp": atemp,
            "hum": hum,
            "windspeed": windspeed,
        }
    )
    day_index = (days.date - FIRST_DAY).astype("timedelta64[D]").astype(np.int64)
    if rows_per_day == 1:
        frame.insert(0, "instant", day_index + 1)
        frame["casual"] = np.maximum(np.round(casual), 2).astype(np.int64)
        frame["registered"] = np.maximum(np.round(registered), 20).astype(np.int64)
    else:
        frame = _split_days(frame, rng, rows_per_day, day_index, casual, registered)
    frame["cnt"] = frame["casual"] + frame["registered"]
    return frame[list(COLUMNS)]


def _split_days(
    frame: pd.DataFrame,
    rng: np.random.Generator,
    k: int,
    day_index: np.ndarray,
    casual: np.ndarray,
    registered: np.ndarray,
) -> pd.DataFrame:
    """Many rows a day: each shares its day's weather with local variation and a share of riders."""
    out = frame.loc[frame.index.repeat(k)].reset_index(drop=True)
    size = len(out)
    out.insert(0, "instant", np.repeat(day_index * k, k) + np.tile(np.arange(1, k + 1), len(frame)))
    out["temp"] = np.clip(out["temp"] + rng.normal(0, 0.02, size), 0.0, 1.0)
    out["atemp"] = np.clip(out["atemp"] + rng.normal(0, 0.02, size), 0.0, 1.0)
    out["hum"] = np.clip(out["hum"] + rng.normal(0, 0.03, size), 0.0, 1.0)
    out["windspeed"] = np.clip(out["windspeed"] * rng.lognormal(0, 0.1, size), 0.0, 1.0)
    share = rng.lognormal(0, 0.3, size) / k
    out["casual"] = rng.poisson(np.repeat(casual, k) * share).astype(np.int64)
    out["registered"] = rng.poisson(np.repeat(registered, k) * share).astype(np.int64)
    return out


def generate(
    first: str | dt.date = FIRST_DAY,
    last: str | dt.date = LAST_DAY,
    seed: int = 0,
    rows_per_day: int = 1,
) -> pd.DataFrame:
    """Every month from ``first`` to ``last`` (default: the public table's 2011-01..2012-12)."""
    frames = [generate_month(m, seed, rows_per_day) for m in months_between(first, last)]
    return pd.concat(frames, ignore_index=True)
