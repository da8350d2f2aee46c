"""A multivariate signal: the relations between columns, each column predicted by its twin.

A fault often breaks the relation between columns (a temperature rescaled while the feeling
temperature is not) while weather moves them together. On the reference, each numeric column whose
most correlated partner explains most of it (R² at least ``min_r2``: temp and atemp) is watched,
with a least-squares line on that partner. A month whose mean residual moved by more than
``min_shift`` of the reference's residual standard deviations has changed *how* the pair relates,
not just where it is; so has a month whose residuals' root mean square exceeds three of them (the
points scattered about the line: one column shuffled among the rows keeps both columns' values and
the mean residual near zero). The shift is an effect size: a large month does not make a
negligible change count. One partner, not all other columns: a unit change in wind speed must not
look like a broken temperature. Only the month's rows whose partner lies within the reference's
range are judged: a line fitted on January's temperatures says nothing about July's.

Measured with benchmarks/alert_quality.py over six seeds: clean months shift by at most 1.05,
the rescaled temperature by 6.8 to 7.9; hence ``min_shift`` 2. This replaced NannyML's PCA
reconstruction error, under whose alarm the rescaled temperature stayed in two of three seeds:
humidity and wind dilute the PCA.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_ROWS, MIN_SHARE = 5, 0.25  # rows inside the reference's range needed to judge a month


@dataclass(frozen=True)
class RelationResult:
    error: float  # the largest residual shift of a watched column, in residual std
    upper: float  # the shift above which a relation counts as broken
    drifted: bool
    columns: list[str]  # the columns of broken relations, largest shift first
    shifts: dict[str, float]  # per watched column judged this month: its residual shift
    partners: dict[str, str]  # per watched column: the column it is predicted from

    def held(self) -> set[str]:
        """Watched columns judged this month whose relation with their partner held, as did
        the partner's own: whatever moved them moved both alike."""
        return {c for c, shift in self.shifts.items() if shift <= self.upper
                and self.shifts.get(self.partners[c], np.inf) <= self.upper}


class RelationMonitor:
    """Fit on the reference; ``check`` a month."""

    def __init__(self, reference: pd.DataFrame, columns: list[str], min_r2: float = 0.8,
                 min_shift: float = 2.0):
        data = reference[columns].astype(float).dropna()
        if len(data) < len(columns) + 2:
            raise ValueError(f"{len(data)} complete reference rows are too few for "
                             f"{len(columns)} columns")
        self.columns = columns
        self.upper = min_shift
        self.mean = data.mean()
        self.std = data.std(ddof=0).replace(0, 1.0)
        z = self._scale(data)
        correlation = np.nan_to_num(np.corrcoef(z, rowvar=False))
        np.fill_diagonal(correlation, 0.0)
        # column -> (its position, its partner's, slope, intercept, residual spread)
        self.fits: dict[str, tuple[int, int, float, float, float]] = {}
        self.ranges: dict[str, tuple[float, float]] = {}  # the partner's values on the reference
        for i, column in enumerate(columns):
            j = int(np.argmax(np.abs(correlation[i])))
            if correlation[i, j] ** 2 < min_r2:
                continue
            slope, intercept = np.polyfit(z[:, j], z[:, i], 1)
            residual = z[:, i] - (slope * z[:, j] + intercept)
            self.fits[column] = (i, j, float(slope), float(intercept),
                                 max(float(residual.std()), 1e-9))
            self.ranges[column] = (float(z[:, j].min()), float(z[:, j].max()))
        self.partners = {c: columns[j] for c, (_, j, *_rest) in self.fits.items()}

    def _scale(self, frame: pd.DataFrame) -> np.ndarray:
        return ((frame[self.columns].astype(float) - self.mean) / self.std).to_numpy()

    def check(self, current: pd.DataFrame) -> RelationResult:
        """Each watched column's mean residual in the month against the reference's spread (two
        spreads break it), and its root mean square (three spreads break it)."""
        z = self._scale(current[self.columns].astype(float).dropna())
        shifts = {}
        for column, (i, j, slope, intercept, spread) in self.fits.items():
            # A line fitted on the reference's range of the partner says nothing outside it (a
            # July is not a January with a longer line): only rows inside it are judged, and a
            # month with too few of them is not judged at all.
            low, high = self.ranges[column]
            inside = z[(z[:, j] >= low) & (z[:, j] <= high)]
            if len(inside) < max(MIN_ROWS, MIN_SHARE * len(z)):
                continue
            residual = inside[:, i] - (slope * inside[:, j] + intercept)
            rms = float(np.sqrt(np.mean(residual ** 2)))
            # points scattered about the line (a column shuffled or joined to the wrong rows)
            # break the relation as surely as a line that moved (docs/backtest.md)
            shifts[column] = float(max(abs(residual.mean()) / spread,
                                       rms / spread * self.upper / 3.0))
        broken = sorted((c for c, s in shifts.items() if s > self.upper), key=lambda c: -shifts[c])
        return RelationResult(max(shifts.values(), default=0.0), self.upper, bool(broken),
                              broken, shifts, self.partners)
