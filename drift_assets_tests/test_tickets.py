"""The support-ticket example: deterministic, typed as its schema, learnable, and drifting only
where ``EPISODES`` says it does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from drift_assets.lib.schema import BIKE
from drift_assets.lib.tickets import (
    CATEGORICAL_FEATURES,
    EPISODES,
    FIRST_DAY,
    LAST_DAY,
    NUMERIC_FEATURES,
    SCHEMA,
    generate,
    generate_month,
)

_DTYPES = {"int": "int64", "float": "float64", "datetime": "datetime64[ns]", "text": "object"}


@pytest.fixture(scope="module")
def tickets() -> pd.DataFrame:
    """2023-01..2024-12 for seed 0, with the month of each ticket."""
    frame = generate()
    return frame.assign(month=frame["opened_at"].dt.strftime("%Y-%m"))


def _escalated(frame: pd.DataFrame) -> pd.Series:
    return frame["escalated"].eq("yes")


def _model_2023(tickets: pd.DataFrame):
    """A LogisticRegression on one-hot categories and standardised numbers, fitted on 2023-01..09,
    and the held-out rows of 2023-10..12."""
    year = tickets[tickets["month"] < "2024-01"]
    train, held_out = year[year["month"] < "2023-10"], year[year["month"] >= "2023-10"]
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_FEATURES)),
            (StandardScaler(), list(NUMERIC_FEATURES)),
        ),
        LogisticRegression(max_iter=1000),
    )
    model.fit(train, _escalated(train))
    return model, held_out


def test_deterministic_for_a_seed_and_independent_of_the_range():
    march = generate_month("2023-03", seed=7)
    pd.testing.assert_frame_equal(march, generate_month("2023-03-01", seed=7))
    within = generate("2023-01", "2023-06", seed=7)
    in_march = within[within["opened_at"].dt.month == 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(in_march, march)
    other = generate_month("2023-03", seed=8)
    assert len(other) != len(march) or not other["sentiment"].equals(march["sentiment"])
    assert not other["opened_at"].head(50).equals(march["opened_at"].head(50))


def test_columns_and_kinds_match_the_schema(tickets):
    frame = tickets.drop(columns="month")
    assert list(frame.columns) == SCHEMA.names
    assert (SCHEMA.timestamp, SCHEMA.key) == ("opened_at", "ticket_id")
    assert SCHEMA.labels == ("escalated",)
    assert {name: str(frame[name].dtype) for name in SCHEMA.names} == {
        name: _DTYPES[kind] for name, kind in SCHEMA.columns}
    assert frame["opened_at"].dt.tz is None
    for name, kind in SCHEMA.columns:
        if kind == "text":
            assert frame[name].map(type).eq(str).all(), name
    assert set(frame.columns).isdisjoint(BIKE.names)  # another table, not the bike one renamed
    assert set(CATEGORICAL_FEATURES) | set(NUMERIC_FEATURES) == set(SCHEMA.required) - {
        "ticket_id", "opened_at"}
    assert frame.notna().all().all()
    assert set(frame["escalated"]) == {"yes", "no"}
    assert set(frame["priority"]) == {"low", "normal", "high", "urgent"}
    assert set(frame["region"]) == {"emea", "amer", "apac"}
    assert frame["sentiment"].between(-1, 1).all()
    assert (frame["first_response_minutes"] > 0).all() and (frame["message_words"] >= 1).all()
    assert (frame["customer_tenure_days"] >= 0).all() and (frame["previous_tickets"] >= 0).all()


def test_ticket_ids_unique_across_months_and_named_for_their_month(tickets):
    assert tickets["ticket_id"].is_unique
    assert tickets["ticket_id"].str.fullmatch(r"T-\d{4}-\d{2}-\d{6}").all()
    assert (tickets["ticket_id"].str[2:9] == tickets["month"]).all()
    assert tickets["opened_at"].is_monotonic_increasing  # numbered in the order they opened


def test_timestamps_inside_their_month_with_times_of_day_and_calendar_shape(tickets):
    assert tickets["opened_at"].min().date() >= FIRST_DAY
    assert tickets["opened_at"].max().date() <= LAST_DAY
    assert tickets["month"].nunique() == 24
    june = generate_month("2023-06", seed=3)
    assert set(june["opened_at"].dt.strftime("%Y-%m")) == {"2023-06"}

    at = tickets["opened_at"]
    seconds = at.dt.hour * 3600 + at.dt.minute * 60 + at.dt.second
    assert (seconds > 0).mean() > 0.99 and seconds.nunique() > 10_000  # times of day, not days
    assert at.dt.hour.nunique() == 24
    amer = tickets[tickets["region"] == "amer"]["opened_at"].dt.hour
    assert amer.between(13, 20).mean() > 0.6  # business hours of the region, in UTC

    days = tickets.groupby(at.dt.date).size()
    index = pd.to_datetime(days.index)
    weekday, weekend = days[index.dayofweek < 5].mean(), days[index.dayofweek >= 5].mean()
    assert weekday > 1.8 * weekend
    month_end = index.day > index.days_in_month - 3
    assert days[month_end & (index.dayofweek < 5)].mean() > 1.2 * days[
        ~month_end & (index.dayofweek < 5)].mean()
    by_year = tickets.groupby(at.dt.year).size()
    assert 1.05 < by_year[2024] / by_year[2023] < 1.3  # slight growth
    assert 9_000 < by_year[2023] < 20_000  # about 40 a day

    small = generate_month("2023-06", seed=3, tickets_per_day=4)
    assert 0.05 < len(small) / len(june) < 0.15
    with pytest.raises(ValueError, match="tickets_per_day"):
        generate_month("2023-06", tickets_per_day=0)


def test_label_rate_is_plausible_and_a_logistic_regression_learns_it(tickets):
    year = tickets[tickets["month"] < "2024-01"]
    assert 0.10 < _escalated(year).mean() < 0.25
    model, held_out = _model_2023(tickets)
    auc = roc_auc_score(_escalated(held_out), model.predict_proba(held_out)[:, 1])
    assert 0.72 < auc < 0.92  # learnable, not perfectly


def test_2023_is_stable_and_holds_no_episode(tickets):
    assert all(month >= "2024-01" for month in EPISODES)
    year = tickets[tickets["month"] < "2024-01"]
    monthly = year.groupby("month").agg(
        chat=("channel", lambda s: s.eq("chat").mean()),
        api=("product", lambda s: s.eq("api").mean()),
        urgent=("priority", lambda s: s.eq("urgent").mean()),
        escalated=("escalated", lambda s: s.eq("yes").mean()),
        log_response=("first_response_minutes", lambda s: np.log(s).mean()),
    )
    spread = monthly.max() - monthly.min()  # sampling noise of about 1,300 tickets a month
    assert spread["chat"] < 0.08 and spread["api"] < 0.07 and spread["urgent"] < 0.05
    assert spread["escalated"] < 0.06
    assert spread["log_response"] < 0.4  # the June 2024 outage moves it by log(2) and more


def test_episode_new_product_appears_in_march_2024_and_grows(tickets):
    share = tickets.groupby("month")["product"].agg(lambda s: s.eq("ai_assistant").mean())
    assert (share[share.index < "2024-03"] == 0).all()
    after = share[share.index >= "2024-03"]
    assert (after > 0.03).all() and after.mean() > 0.05
    assert share["2024-12"] > share["2024-03"] + 0.15  # a growing share
    assert "ai_assistant" in EPISODES["2024-03"]


def test_episode_chat_outage_in_june_2024(tickets):
    year = tickets[tickets["month"] < "2024-01"]
    june, may = tickets[tickets["month"] == "2024-06"], tickets[tickets["month"] == "2024-05"]
    chat_2023 = year["channel"].eq("chat").mean()
    assert june["channel"].eq("chat").mean() < 0.3 * chat_2023
    assert june["channel"].eq("email").mean() > year["channel"].eq("email").mean() + 0.1
    for channel in ("email", "phone", "web"):  # on the same channel, responses take twice as long
        ratio = (june.loc[june["channel"] == channel, "first_response_minutes"].median()
                 / year.loc[year["channel"] == channel, "first_response_minutes"].median())
        assert 1.6 < ratio < 2.5, channel
    assert may["channel"].eq("chat").mean() > 0.8 * chat_2023  # an episode of one month
    july = tickets[tickets["month"] == "2024-07"]
    assert july["channel"].eq("chat").mean() > 0.8 * chat_2023


def test_episode_concept_drift_from_september_2024(tickets):
    """The label rate rises for the same features: the 2023 model stays calibrated through the
    June outage (its features explain the extra escalations) and not from September."""
    year = tickets[tickets["month"] < "2024-01"]
    old = ~tickets["product"].eq("ai_assistant")
    after = tickets[(tickets["month"] >= "2024-09") & old]
    before = tickets[tickets["month"].between("2024-01", "2024-08") & old]
    mix = year["priority"].value_counts(normalize=True)

    def rate(frame):
        return (_escalated(frame).groupby(frame["priority"]).mean() * mix).sum()

    assert rate(after) > rate(year) + 0.07
    assert abs(rate(before.query("month != '2024-06'")) - rate(year)) < 0.03

    # The features barely move: September..December against July and August (after the outage).
    summer = tickets[tickets["month"].between("2024-07", "2024-08") & old]
    for name in ("channel", "priority", "region"):
        shares = pd.concat([summer[name].value_counts(normalize=True),
                            after[name].value_counts(normalize=True)], axis=1).fillna(0)
        assert (shares.iloc[:, 0] - shares.iloc[:, 1]).abs().max() < 0.04, name
    for name in NUMERIC_FEATURES:
        a, s = summer[name], after[name]
        if name != "sentiment":
            a, s = np.log1p(a), np.log1p(s)
        assert abs(a.mean() - s.mean()) < 0.1 * a.std(), name

    model, _ = _model_2023(tickets)

    def gap(rows):  # observed escalation rate minus the 2023 model's mean prediction
        return _escalated(rows).mean() - model.predict_proba(rows)[:, 1].mean()

    june = tickets[(tickets["month"] == "2024-06") & old]
    assert abs(gap(june)) < 0.04
    assert gap(after) > 0.07
    for month in ("2024-09", "2024-10", "2024-11", "2024-12"):
        assert gap(after[after["month"] == month]) > 0.04, month
