"""Calendar months, the unit the project partitions, compares and reports by.

A month is named 'YYYY-MM' everywhere in the project; Dagster's monthly partition keys are
'YYYY-MM-01'. These helpers are the one place that converts between the two and dates.
"""

from __future__ import annotations

import datetime as dt


def month_start(value: str | dt.date) -> dt.date:
    """The first day of the month named by '2011-03', '2011-03-01' or a date."""
    if isinstance(value, dt.date):
        return value.replace(day=1)
    text = str(value).strip()
    try:
        if len(text) not in (7, 10):
            raise ValueError(text)
        return dt.date.fromisoformat(text[:7] + "-01")
    except ValueError as exc:
        raise ValueError(f"not a month: {value!r} (expected YYYY-MM or YYYY-MM-DD)") from exc


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after the one holding ``day``."""
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_label(value: str | dt.date) -> str:
    """'2011-03' for any way of naming March 2011 (a partition key '2011-03-01' included)."""
    return month_start(value).strftime("%Y-%m")


def partition_key(month: str | dt.date) -> str:
    """The monthly partition key of a month: '2011-03-01'."""
    return month_start(month).isoformat()


def shift(month: str | dt.date, months: int) -> str:
    """'YYYY-MM' that many months after (before, if negative) ``month``."""
    first = month_start(month)
    index = first.year * 12 + first.month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(first: str | dt.date, last: str | dt.date) -> list[dt.date]:
    """The first days of every month from ``first`` to ``last``, both included."""
    day, end = month_start(first), month_start(last)
    out = []
    while day <= end:
        out.append(day)
        day = next_month(day)
    return out
