"""Customer support tickets, one row per ticket, deterministic for a seed: the second example.

The bike table is one row a day and a regression target; this one is many rows a day, a
timestamp with times of day, text categories and a yes/no label, for a classification model that
predicts whether a ticket gets escalated. It proves the project watches any declared table.

Each month is generated on its own from a seed derived from (seed, year, month), so any month,
or any range, can be produced without the others and a month is the same whichever range it is
generated in.

The shape: about ``tickets_per_day`` tickets on an average day, more on weekdays than at weekends,
more in the last three days of a month (invoices go out, billing tickets pile up), growing about
1% a month. Tickets open in the business hours of their region (UTC: APAC early, EMEA midday,
AMER afternoon), less so at weekends. Whether a ticket is escalated follows a logistic model:
urgent and high priority, a long first response, negative sentiment, the api product and many
previous tickets raise the odds; a long customer tenure lowers them.

2023 is stable, the reference year. 2024 holds three deliberate drift episodes (``EPISODES``):

========  =================  ==================================================================
month     kind               what happens
========  =================  ==================================================================
2024-03   category drift     a new product ``ai_assistant`` appears: 6% of tickets in March,
                             3 points more every month, 30% from 2024-11 on; its tickets
                             escalate a little more often than the others
2024-06   channel outage     the chat vendor is down all month: chat falls to about a sixth of
                             its share, email takes most of the rest, and first response times
                             double on every channel (escalations rise through the features)
2024-09   concept drift      a stricter escalation policy from September on: for the same
                             features a ticket is escalated more often (higher intercept, more
                             weight on a slow first response); the features do not move
========  =================  ==================================================================
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from drift_assets.lib.months import month_label, month_start, months_between, next_month
from drift_assets.lib.schema import Schema

FIRST_DAY = dt.date(2023, 1, 1)
LAST_DAY = dt.date(2024, 12, 31)

# Column -> kind, in the table's order.
COLUMNS: dict[str, str] = {
    "ticket_id": "text",
    "opened_at": "datetime",
    "channel": "text",
    "product": "text",
    "priority": "text",
    "region": "text",
    "customer_tenure_days": "int",
    "previous_tickets": "int",
    "message_words": "int",
    "first_response_minutes": "float",
    "sentiment": "float",
    "escalated": "text",
}
LABEL = "escalated"
POSITIVE = "yes"
CATEGORICAL_FEATURES = ("channel", "product", "priority", "region")
NUMERIC_FEATURES = ("customer_tenure_days", "previous_tickets", "message_words",
                    "first_response_minutes", "sentiment")

SCHEMA = Schema(tuple(COLUMNS.items()), timestamp="opened_at", key="ticket_id", labels=(LABEL,))

# The drift episodes, 'YYYY-MM' of the month each begins -> what happens (the docstring's table).
EPISODES: dict[str, str] = {
    "2024-03": "category drift: new product ai_assistant, 6% of tickets growing to 30%",
    "2024-06": "chat outage: chat share collapses, email surges, first response times double",
    "2024-09": "concept drift: stricter escalation policy, more escalations for the same features",
}
_AI_START = month_start("2024-03")
_OUTAGE = month_start("2024-06")
_POLICY_START = month_start("2024-09")

CHANNELS = ("email", "chat", "phone", "web")
_CHANNEL_P = np.array([0.35, 0.30, 0.15, 0.20])
PRODUCTS = ("billing", "mobile_app", "web_app", "api", "ai_assistant")
_PRODUCT_P = np.array([0.30, 0.25, 0.30, 0.15, 0.0])
PRIORITIES = ("low", "normal", "high", "urgent")
_PRIORITY_P = np.array([0.25, 0.50, 0.18, 0.07])
REGIONS = ("emea", "amer", "apac")
_REGION_P = np.array([0.40, 0.40, 0.20])
_REGION_HOUR = np.array([11.0, 17.0, 4.0])  # the middle of the region's business day, UTC

# Monday .. Sunday, scaled so that an average day (before month ends and growth) is 1.
_WEEKDAY = np.array([1.20, 1.15, 1.10, 1.10, 1.00, 0.50, 0.40])
_WEEKDAY = _WEEKDAY / _WEEKDAY.mean()
_MONTH_END_DAYS, _MONTH_END_FACTOR = 3, 1.4

# First response, median minutes by channel (email, chat, phone, web) and factor by priority.
_RESPONSE_MINUTES = np.array([180.0, 4.0, 2.0, 150.0])
_RESPONSE_PRIORITY = np.array([1.5, 1.0, 0.6, 0.3])

# The escalation model: log-odds = intercept + the terms below (see _escalation_logit).
_INTERCEPT = -2.3
_PRIORITY_EFFECT = np.array([-0.7, 0.0, 0.9, 1.9])
_PRODUCT_EFFECT = np.array([0.0, 0.0, 0.1, 0.8, 0.4])  # api and the new ai_assistant escalate more
_POLICY_INTERCEPT, _POLICY_RESPONSE = 0.8, 1.5  # the 2024-09 policy: +0.8, response weight x1.5


def _months_since_start(first: dt.date) -> int:
    return (first.year - FIRST_DAY.year) * 12 + first.month - FIRST_DAY.month


def _ai_share(first: dt.date) -> float:
    """The share of tickets about ai_assistant: 0 before 2024-03, then 6% + 3 points a month."""
    if first < _AI_START:
        return 0.0
    return min(0.06 + 0.03 * _months_since_start(first) - 0.03 * _months_since_start(_AI_START),
               0.30)


def _daily_counts(rng: np.random.Generator, days: pd.DatetimeIndex, first: dt.date,
                  tickets_per_day: float) -> np.ndarray:
    """Tickets opened each day: weekdays, month ends, slow growth and day-to-day noise."""
    growth = 1.0 + 0.01 * _months_since_start(first)
    weekday = _WEEKDAY[days.dayofweek.to_numpy()]
    month_end = np.where(days.day.to_numpy() > len(days) - _MONTH_END_DAYS, _MONTH_END_FACTOR, 1)
    mean = tickets_per_day * growth * weekday * month_end * rng.lognormal(0, 0.1, len(days))
    return rng.poisson(mean)


def _choose(rng: np.random.Generator, p: np.ndarray) -> np.ndarray:
    """One index per row of ``p`` (rows of probabilities), by inverse transform."""
    cumulative = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    picks = (rng.random((len(p), 1)) > cumulative).sum(axis=1)
    return np.minimum(picks, p.shape[1] - 1)


def _times_of_day(rng: np.random.Generator, region: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    """Seconds after midnight UTC: the region's business hours, less strictly at weekends."""
    n = len(region)
    business = rng.random(n) < np.where(weekend, 0.55, 0.85)
    hours = np.where(business, rng.normal(_REGION_HOUR[region], 2.4), rng.uniform(0, 24, n))
    return np.floor(np.mod(hours, 24.0) * 3600).astype(np.int64)


def _escalation_logit(priority, product, tenure, previous, response, sentiment, policy: bool):
    """Log-odds that a ticket is escalated, from its features (and the policy of its month)."""
    response_weight = 0.45 * (_POLICY_RESPONSE if policy else 1.0)
    return (
        _INTERCEPT
        + (_POLICY_INTERCEPT if policy else 0.0)
        + _PRIORITY_EFFECT[priority]
        + _PRODUCT_EFFECT[product]
        + response_weight * (np.log1p(response) - np.log1p(60.0))
        - 1.6 * sentiment
        + 0.15 * np.minimum(previous, 10)
        - 0.35 * np.log1p(tenure / 365.0)
    )


def generate_month(
    month: str | dt.date, seed: int = 0, tickets_per_day: float = 40
) -> pd.DataFrame:
    """One month of tickets (``month`` as '2023-03' or a date), deterministic for ``seed``."""
    if tickets_per_day <= 0:
        raise ValueError(f"tickets_per_day must be positive, got {tickets_per_day}")
    first = month_start(month)
    days = pd.date_range(first, next_month(first) - dt.timedelta(days=1), freq="D")
    rng = np.random.default_rng([seed, first.year, first.month])
    outage, policy = first == _OUTAGE, first >= _POLICY_START

    counts = _daily_counts(rng, days, first, tickets_per_day)
    n = int(counts.sum())
    day = np.repeat(np.arange(len(days)), counts)
    weekend = np.repeat(days.dayofweek.to_numpy() >= 5, counts)
    month_end = np.repeat(days.day.to_numpy() > len(days) - _MONTH_END_DAYS, counts)

    region = rng.choice(len(REGIONS), size=n, p=_REGION_P)
    opened = (days.to_numpy()[day]
              + _times_of_day(rng, region, weekend).astype("timedelta64[s]")).astype("M8[ns]")

    channel_p = _CHANNEL_P.copy()
    if outage:  # chat down: most of its tickets come by email, some by phone and the web form
        lost = channel_p[1] * 5 / 6
        channel_p = channel_p + lost * np.array([0.7, -1.0, 0.15, 0.15])
    channel = rng.choice(len(CHANNELS), size=n, p=channel_p)

    share = _ai_share(first)
    product_p = np.tile(_PRODUCT_P * (1 - share), (n, 1))
    product_p[month_end, 0] *= 2.0  # invoices at month end: billing questions double
    product_p[:, 4] = share
    product = _choose(rng, product_p)

    priority_p = np.tile(_PRIORITY_P, (n, 1))
    priority_p[product == 3] *= np.array([0.7, 1.0, 1.4, 1.8])  # api outages are urgent
    priority = _choose(rng, priority_p)

    tenure = np.minimum(np.round(rng.lognormal(np.log(420), 1.0, n)), 4000).astype(np.int64)
    previous = rng.negative_binomial(2, 2 / (2 + 0.5 + tenure / 300)).astype(np.int64)
    words = np.maximum(
        np.round(rng.lognormal(np.log(np.array([90, 25, 40, 70])[channel]), 0.6)), 1
    ).astype(np.int64)
    response = (_RESPONSE_MINUTES[channel] * _RESPONSE_PRIORITY[priority]
                * np.where(weekend, 2.0, 1.0) * (2.0 if outage else 1.0)
                * rng.lognormal(0, 0.8, n))
    response = np.maximum(np.round(response, 1), 0.1)  # never instantaneous
    sentiment_mean = 0.15 - np.array([-0.1, 0.0, 0.25, 0.5])[priority] - 0.04 * np.minimum(
        previous, 10)
    sentiment = np.round(np.tanh(rng.normal(sentiment_mean, 0.45)), 3)

    logit = _escalation_logit(priority, product, tenure, previous, response, sentiment, policy)
    escalated = rng.random(n) < 1 / (1 + np.exp(-logit))

    frame = pd.DataFrame(
        {
            "opened_at": opened,
            "channel": np.array(CHANNELS, dtype=object)[channel],
            "product": np.array(PRODUCTS, dtype=object)[product],
            "priority": np.array(PRIORITIES, dtype=object)[priority],
            "region": np.array(REGIONS, dtype=object)[region],
            "customer_tenure_days": tenure,
            "previous_tickets": previous,
            "message_words": words,
            "first_response_minutes": response.astype(np.float64),
            "sentiment": sentiment.astype(np.float64),
            "escalated": np.where(escalated, "yes", "no").astype(object),
        }
    )
    frame = frame.sort_values("opened_at", kind="stable").reset_index(drop=True)
    prefix = f"T-{month_label(first)}-"
    frame.insert(0, "ticket_id", [f"{prefix}{i:06d}" for i in range(1, n + 1)])
    frame["ticket_id"] = frame["ticket_id"].astype(object)
    return frame[SCHEMA.names]


def generate(
    first: str | dt.date = FIRST_DAY,
    last: str | dt.date = LAST_DAY,
    seed: int = 0,
    tickets_per_day: float = 40,
) -> pd.DataFrame:
    """Every month from ``first`` to ``last`` (default: 2023-01..2024-12)."""
    frames = [generate_month(m, seed, tickets_per_day) for m in months_between(first, last)]
    return pd.concat(frames, ignore_index=True)
