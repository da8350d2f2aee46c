"""Calibrated thresholds: effect sizes that do not shrink with the sample, and the quantile of
the same effect size between samples known to be alike.

Evidently tests each column with a fixed p-value or distance threshold. On real monthly data that
fires on seasons and on large samples (any p-value shrinks with n). Here, per column, an effect
size: the K-S statistic D for a numeric column; for a categorical one, each category's Cohen's h,
2|asin√p - asin√q|, between its shares, judged against that category's own threshold (a rare
category that becomes common is as unusual as a common one that vanishes, but their natural
variation differs: a spell of mist empties the clear days, no spell fills a month with rain).
Each is compared with a high quantile of the same effect size between samples that are known to
be alike: pairs of samples drawn in blocks of consecutive days from the reference window itself
(:func:`calibrate`), and the past months that raised no alert (:func:`history_threshold`, a
gamma tail fitted to their effect sizes). A floor (``min_effect``; ``CATEGORY_FLOOR`` for a
category) keeps a large sample from turning a negligible change into an alert.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from drift_assets.engine.drift import numeric_distances
from drift_assets.engine.profile import NumericSummary

# Bumped when calibrated verdicts change for the same settings, so stored profiles are rebuilt
# and the UI marks the drift history computed by the old method as stale.
METHOD_VERSION = "3"
CATEGORY_FLOOR = 0.5  # Cohen's "medium": no category's share drifts below this h


def effect_size(reference: pd.Series, current: pd.Series, column_type: str) -> float:
    """K-S statistic D (numeric) or the largest Cohen's h of a category (categorical), NaNs
    dropped."""
    ref, cur = reference.dropna(), current.dropna()
    if ref.empty or cur.empty:
        return float("nan")
    if column_type == "num":
        # the engine's walk, so that D is computed one way everywhere
        _, d = numeric_distances(NumericSummary.from_series(ref.astype(float)),
                                 NumericSummary.from_series(cur.astype(float)))
        return d
    return cohens_h(ref.value_counts(), cur.value_counts())


def _label(category) -> str:
    """A category as a key: 1 and 1.0 (an integer column that had a missing value) are one."""
    return str(int(category)) if isinstance(category, float) and category.is_integer() \
        else str(category)


def category_effects(reference_counts: pd.Series, current_counts: pd.Series,
                     prior: float = 0.5) -> dict[str, float]:
    """Cohen's h, 2|asin√p - asin√q|, of each category's share between the two sides (0 to π;
    0.2 is small, 0.8 large). The arcsine evens out the variance of a share. Each share counts
    ``prior`` extra rows per category (Jeffreys'): a category a 30-day month never had is rare,
    not impossible, so two rainy days after a dry month are no alarm; on large samples the
    prior vanishes."""
    counts = pd.concat([reference_counts, current_counts], axis=1).fillna(0.0) + prior
    shares = counts / counts.sum()
    angles = np.arcsin(np.sqrt(shares.to_numpy(dtype=float)))
    return {_label(k): float(2 * abs(a - b)) for k, (a, b) in zip(shares.index, angles,
                                                                    strict=True)}


def cohens_h(reference_counts: pd.Series, current_counts: pd.Series) -> float:
    """The largest Cohen's h over the categories."""
    return max(category_effects(reference_counts, current_counts).values(), default=0.0)


def categorical_effects(column: str, reference_counts: pd.Series, current_counts: pd.Series
                        ) -> dict[str, float]:
    """The column's largest Cohen's h under its name, and each category's as ``column=value``."""
    per = category_effects(reference_counts, current_counts)
    return {column: max(per.values(), default=float("nan")),
            **{f"{column}={k}": h for k, h in per.items()}}


def _block_sample(values: pd.Series, size: int, block: int, rng: np.random.Generator
                  ) -> pd.Series:
    """``size`` rows drawn as runs of ``block`` consecutive rows: days come in spells of
    weather, so independent draws would understate how much two alike months differ."""
    return values.iloc[_block_index(len(values), size, block, rng)]


def _block_index(n: int, size: int, block: int, rng: np.random.Generator) -> np.ndarray:
    """The row positions of :func:`_block_sample`."""
    starts = rng.integers(0, max(n - block + 1, 1), size=size // max(block, 1) + 1)
    if n >= block > 0:  # every run is whole: one array operation rather than one per run
        return (starts[:, None] + np.arange(block)[None, :]).ravel()[:size]
    return np.concatenate([np.arange(s, min(s + block, n)) for s in starts])[:size]


def _category_null(codes: np.ndarray, categories: int, sizes: tuple[int, int], block: int,
                   rng: np.random.Generator, prior: float = 0.5) -> np.ndarray:
    """One resample's Cohen's h per category, as :func:`category_effects` gives it on the
    value counts of two block samples (a category neither sample holds: 0), from integer
    codes: counting with bincount is what makes 400 resamples of a text column quick."""
    a = np.bincount(codes[_block_index(len(codes), sizes[0], block, rng)], minlength=categories)
    b = np.bincount(codes[_block_index(len(codes), sizes[1], block, rng)], minlength=categories)
    present = (a + b) > 0
    shares = [np.where(present, side + prior, 0.0) for side in (a, b)]
    angles = [np.arcsin(np.sqrt(side / side.sum())) for side in shares]
    return np.where(present, 2 * np.abs(angles[0] - angles[1]), 0.0)


def calibrate(
    window: pd.DataFrame,
    column_types: dict[str, str],
    sample_rows: int,
    quantile: float = 0.999,
    min_effect: float = 0.2,
    resamples: int = 400,
    block: int = 7,
    seed: int = 0,
    category_floor: float = CATEGORY_FLOOR,
) -> dict[str, float]:
    """Per column (and per category, as ``column=value``) the effect size above which a month
    counts as drifted.

    The null distribution is the effect size between two independent samples drawn from the
    reference window in blocks of consecutive rows, one the size of the window and one the size
    of a month (``sample_rows``); the threshold is its ``quantile``, never below ``min_effect``
    (``category_floor`` for a category; a categorical column's own entry is the threshold of a
    category the window never had). ``drift_report`` raises it with the months that raised no
    alert.
    """
    rng = np.random.default_rng(seed)
    thresholds: dict[str, float] = {}
    for column, column_type in column_types.items():
        values = window[column].dropna().reset_index(drop=True)
        if len(values) < 2:
            thresholds[column] = 1.0
            continue
        nulls: dict[str, list[float]] = {}
        categories = [_label(k) for k in values.unique()]
        if column_type != "num":
            codes, uniques = pd.factorize(values)
            labels = [_label(k) for k in uniques]
            draws = np.array([_category_null(codes, len(uniques), (len(values),
                                                                   max(sample_rows, 2)),
                                             block, rng) for _ in range(resamples)])
            thresholds[column] = category_floor
            for position, label in enumerate(labels):
                thresholds[f"{column}={label}"] = max(
                    float(np.quantile(draws[:, position], quantile)), category_floor)
            continue
        for _ in range(resamples):
            a = _block_sample(values, len(values), block, rng)
            b = _block_sample(values, max(sample_rows, 2), block, rng)
            if column_type == "num":
                nulls.setdefault(column, []).append(effect_size(a, b, "num"))
                continue
            per = category_effects(a.value_counts(), b.value_counts())
            for category in categories:
                nulls.setdefault(f"{column}={category}", []).append(per.get(category, 0.0))
        floor = min_effect if column_type == "num" else category_floor
        thresholds[column] = floor
        for key, null in nulls.items():
            thresholds[key] = max(float(np.quantile(null, quantile)), floor)
    return thresholds


def history_threshold(past: list[float], quantile: float) -> float:
    """The ``quantile`` of a gamma distribution fitted by moments to the effect sizes of 5 or
    more earlier months that raised no alert (effect sizes are positive and skewed to the right;
    a few dozen months cannot show a 0.999 quantile themselves, their maximum underestimates
    it); 0 with fewer."""
    values = np.asarray(past, dtype=float)
    if len(values) < 5 or values.mean() <= 0 or values.var(ddof=1) <= 0:
        return 0.0
    mean, variance = values.mean(), values.var(ddof=1)
    return float(stats.gamma.ppf(quantile, mean * mean / variance, scale=variance / mean))
