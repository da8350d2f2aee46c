"""The example datasets the project can generate: the bike-sharing daily table and support
tickets. A declared dataset named like one of them with ``source: generated`` (or, for
bike_sharing, no source and no DRIFT_SOURCE) is fed by its generator and has its schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from drift_assets.lib import generator, tickets
from drift_assets.lib.schema import BIKE, Schema


@dataclass(frozen=True)
class Example:
    name: str
    schema: Schema
    first_day: dt.date
    last_day: dt.date
    # (month, seed, rows per unit) -> the month's rows; the unit is a day (bike: stations or
    # hours a day) or a day's tickets
    generate: Callable[[str | dt.date, int, int], pd.DataFrame]
    unique_days: Callable[[int], bool]  # whether one row a day is the rule, for a scale


def _bike(month, seed: int, scale: int) -> pd.DataFrame:
    return generator.generate_month(month, seed=seed, rows_per_day=scale)


def _tickets(month, seed: int, scale: int) -> pd.DataFrame:
    # scale 1 is the example's usual 40 tickets a day; more multiplies them
    return tickets.generate_month(month, seed=seed, tickets_per_day=40 * scale)


EXAMPLES = {
    "bike_sharing": Example("bike_sharing", BIKE, generator.FIRST_DAY, generator.LAST_DAY,
                            _bike, lambda scale: scale == 1),
    "support_tickets": Example("support_tickets", tickets.SCHEMA, tickets.FIRST_DAY,
                               tickets.LAST_DAY, _tickets, lambda scale: False),
}
