"""A multivariate signal: the relations between columns, each column predicted from the others.

A fault often breaks the relation between columns (a temperature rescaled while the feeling
temperature is not) while weather moves them together. On the reference, each numeric column is
regressed (least squares, standardised) on the others; the columns the others determine closely
(R² at least ``min_r2``: twins such as temp and atemp) are watched. A month whose mean residual for
such a column moved by more than ``min_shift`` of the reference's residual standard deviations has
changed *how* its columns relate, not just where they are. The shift is an effect size: a large
month does not make a negligible change count.

This replaced NannyML's PCA reconstruction error, measured on the same generated faults (three
seeds): the rescaled temperature raised the reconstruction error from 0.72-1.01 (the clean month)
to 1.25-1.74, under the alarm threshold (1.41-1.58) in two seeds, as humidity and wind dilute the
PCA; the residual shift of the columns the others predict is several residual standard deviations
(benchmarks/alert_quality.py prints it beside the clean month's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class RelationResult:
    error: float  # the largest residual shift of a watched column, in residual std
    upper: float  # the shift above which a relation counts as broken
    drifted: bool
    columns: list[str]  # the columns of broken relations, largest shift first
    residual_ratio: dict[str, float]  # per watched column: its residual shift


class RelationMonitor:
    """Fit on the reference; ``check`` a month."""

    def __init__(self, reference: pd.DataFrame, columns: list[str], min_r2: float = 0.8,
                 min_shift: float = 1.0):
        data = reference[columns].astype(float).dropna()
        if len(data) < len(columns) + 2:
            raise ValueError(f"{len(data)} complete reference rows are too few for "
                             f"{len(columns)} columns")
        self.columns = columns
        self.upper = min_shift
        self.mean = data.mean()
        self.std = data.std(ddof=0).replace(0, 1.0)
        z = self._scale(data)
        self.fits: dict[str, tuple[int, np.ndarray, float]] = {}
        for i, column in enumerate(columns):
            design = self._design(z, i)
            coef, *_ = np.linalg.lstsq(design, z[:, i], rcond=None)
            residual = z[:, i] - design @ coef
            if 1.0 - residual.var() / max(z[:, i].var(), 1e-12) >= min_r2:
                self.fits[column] = (i, coef, max(float(residual.std()), 1e-9))

    def _scale(self, frame: pd.DataFrame) -> np.ndarray:
        return ((frame[self.columns].astype(float) - self.mean) / self.std).to_numpy()

    @staticmethod
    def _design(z: np.ndarray, i: int) -> np.ndarray:
        return np.column_stack([np.delete(z, i, axis=1), np.ones(len(z))])

    def check(self, current: pd.DataFrame) -> RelationResult:
        """Each watched column's mean residual in the month against the reference's spread."""
        z = self._scale(current[self.columns].astype(float).dropna())
        shifts = {}
        for column, (i, coef, spread) in self.fits.items():
            residual = z[:, i] - self._design(z, i) @ coef
            shifts[column] = float(abs(residual.mean()) / spread) if len(z) else 0.0
        broken = sorted((c for c, s in shifts.items() if s > self.upper), key=lambda c: -shifts[c])
        return RelationResult(max(shifts.values(), default=0.0), self.upper, bool(broken),
                              broken, shifts)
