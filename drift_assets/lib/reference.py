"""The reference a month is compared against: a declared choice, not an accident.

- ``fixed:2011-01`` (the default; ``fixed:2011-01,2011-02`` for several): the reference table;
- ``rolling:N``: the N months before the one checked;
- ``seasonal``: the same month a year earlier.
Where a rolling or seasonal window has no usable data (the first months, the first year, or only
months that raised alerts), the fixed reference stands in, and the drift report says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from drift_assets.lib.months import month_label, shift


@dataclass(frozen=True)
class ReferenceChoice:
    kind: str  # "fixed" | "rolling" | "seasonal"
    months: tuple[str, ...] = ("2011-01",)  # the fixed reference (also the fallback)
    n: int = 0  # rolling window length

    @classmethod
    def parse(cls, text: str | None, fixed_months: list[str] | None = None) -> ReferenceChoice:
        """Read ``fixed:M[,M…]``, ``rolling:N`` or ``seasonal``; errors name the bad part."""
        fallback = tuple(month_label(m) for m in (fixed_months or ["2011-01"]))
        spec = (text or "fixed:" + ",".join(fallback)).strip()
        kind, _, argument = spec.partition(":")
        if kind == "fixed":
            months = [m for m in argument.split(",") if m.strip()] or list(fallback)
            return cls("fixed", tuple(month_label(m) for m in months))
        if kind == "rolling":
            if not argument.isdigit() or int(argument) < 1:
                raise ValueError(f"DRIFT_REFERENCE {spec!r}: rolling needs a whole number of "
                                 "months, e.g. rolling:3")
            return cls("rolling", fallback, int(argument))
        if kind == "seasonal" and not argument:
            return cls("seasonal", fallback)
        raise ValueError(f"DRIFT_REFERENCE {spec!r}: expected fixed:YYYY-MM[,YYYY-MM…], "
                         "rolling:N or seasonal")

    def window(self, month: str | dt.date, usable=None) -> list[str]:
        """The months ``month`` is compared against; empty for the fixed reference table.

        ``usable(m)`` says whether month ``m`` may serve: loaded, and clean (a month that raised
        an alert would make the same alert echo a year later). A seasonal window then goes back
        to the same month two or three years earlier; a rolling one leaves the month out.
        """
        usable = usable or (lambda _: True)
        if self.kind == "rolling":
            return [m for m in (shift(month, -k) for k in range(self.n, 0, -1)) if usable(m)]
        if self.kind == "seasonal":
            return next(([m] for m in (shift(month, -12 * y) for y in (1, 2, 3)) if usable(m)),
                        [])
        return []

    @property
    def offsets(self) -> tuple[int, int] | None:
        """(start, end) offsets of the window in months, for Dagster's partition mapping."""
        if self.kind == "rolling":
            return -self.n, -1
        if self.kind == "seasonal":
            return -12, -12
        return None

    def describe(self) -> str:
        if self.kind == "fixed":
            return "fixed:" + ",".join(self.months)
        return f"rolling:{self.n}" if self.kind == "rolling" else "seasonal"


@dataclass(frozen=True)
class ReferenceWindow:
    """What one month is compared against: the months of its window (None: the fixed reference
    table), the declared choice, and whether the fixed table stood in for an empty window."""

    reference: str  # the declared choice, as ReferenceChoice.describe() gives it
    months: list[str] | None
    fallback: tuple[str, ...] = ()  # the fixed months that stood in for an empty window

    def describe(self) -> str:
        """'seasonal: 2011-03', 'fixed:2011-01', or, for a stand-in, what stood in for what."""
        if self.fallback:
            return f"{self.reference} has no clean data yet: fixed:{','.join(self.fallback)}"
        if self.months is None:
            return self.reference
        return f"{self.reference.split(':')[0]}: {', '.join(self.months)}"
