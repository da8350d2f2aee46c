"""Fewer false alarms: thresholds calibrated on alike periods, FDR control, persistence.

Evidently tests each column with a fixed p-value or distance threshold. On real monthly data that
fires on seasons, on large samples (any p-value shrinks with n) and on many columns at once. Here:

- **calibrated thresholds**: per column the effect size (the K-S statistic D for a numeric column;
  for a categorical one the largest Cohen's h, 2|asin√p - asin√q|, over its categories' shares,
  which weighs a rare category that becomes common as much as a common one that vanishes; unlike
  a p-value, neither shrinks with the sample size) is compared with a high quantile of the same
  effect size between samples that are known to be alike: pairs of samples drawn in blocks of
  consecutive days from the reference window itself, and the past months that raised no alert
  (a gamma tail fitted to their effect sizes). A floor (``min_effect``) keeps a large sample
  from turning a negligible change into an alert;
- **Benjamini-Hochberg**: the p-value tests of one month's columns, controlled at a false
  discovery rate instead of each at 5%;
- **persistence**: a dataset alert only when k of the last n months drifted.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from drift_assets.engine import DriftResult, ReferenceProfile, detect_drift
from drift_assets.lib.multivariate import RelationMonitor, RelationResult

P_VALUE_TESTS = ("ks", "chisquare", "z")


def effect_size(reference: pd.Series, current: pd.Series, column_type: str) -> float:
    """K-S statistic D (numeric) or the largest Cohen's h of a category (categorical), NaNs
    dropped."""
    ref, cur = reference.dropna(), current.dropna()
    if ref.empty or cur.empty:
        return float("nan")
    if column_type == "num":
        a = np.sort(ref.to_numpy(dtype=float))
        b = np.sort(cur.to_numpy(dtype=float))
        grid = np.concatenate([a, b])
        cdf_a = np.searchsorted(a, grid, side="right") / len(a)
        cdf_b = np.searchsorted(b, grid, side="right") / len(b)
        return float(np.max(np.abs(cdf_a - cdf_b)))
    return cohens_h(ref.value_counts(), cur.value_counts())


def cohens_h(reference_counts: pd.Series, current_counts: pd.Series) -> float:
    """The largest Cohen's h, 2|asin√p - asin√q|, between the two sides' shares of a category
    (0 to π; 0.2 is small, 0.8 large). The arcsine evens out the variance of a share, so a rare
    category that becomes common counts as much as a common one that disappears."""
    shares = pd.concat([reference_counts / reference_counts.sum(),
                        current_counts / current_counts.sum()], axis=1).fillna(0.0)
    angles = np.arcsin(np.sqrt(shares.to_numpy(dtype=float)))
    return float(2 * np.max(np.abs(angles[:, 0] - angles[:, 1])))


def _block_sample(values: pd.Series, size: int, block: int, rng: np.random.Generator
                  ) -> pd.Series:
    """``size`` rows drawn as runs of ``block`` consecutive rows: days come in spells of
    weather, so independent draws would understate how much two alike months differ."""
    n = len(values)
    starts = rng.integers(0, max(n - block + 1, 1), size=size // max(block, 1) + 1)
    index = np.concatenate([np.arange(s, min(s + block, n)) for s in starts])[:size]
    return values.iloc[index]


def calibrate(
    window: pd.DataFrame,
    column_types: dict[str, str],
    sample_rows: int,
    quantile: float = 0.999,
    min_effect: float = 0.2,
    resamples: int = 400,
    block: int = 7,
    seed: int = 0,
) -> dict[str, float]:
    """Per column, the effect size above which a month counts as drifted.

    The null distribution is the effect size between two independent samples drawn from the
    reference window in blocks of consecutive rows, one the size of the window and one the size
    of a month (``sample_rows``); the threshold is its ``quantile``, never below ``min_effect``.
    ``drift_report`` raises it further with the months that raised no alert.
    """
    rng = np.random.default_rng(seed)
    thresholds = {}
    for column, column_type in column_types.items():
        values = window[column].dropna().reset_index(drop=True)
        null = [
            effect_size(_block_sample(values, len(values), block, rng),
                        _block_sample(values, max(sample_rows, 2), block, rng), column_type)
            for _ in range(resamples)
        ] if len(values) > 1 else []
        level = float(np.quantile(null, quantile)) if null else 1.0
        thresholds[column] = max(level, min_effect)
    return thresholds


def benjamini_hochberg(pvalues: dict[str, float], rate: float) -> set[str]:
    """The columns whose null hypothesis is rejected at false discovery rate ``rate``."""
    items = sorted(pvalues.items(), key=lambda kv: kv[1])
    m = len(items)
    cutoff = 0
    for rank, (_, p) in enumerate(items, start=1):
        if p <= rate * rank / m:
            cutoff = rank
    return {column for column, _ in items[:cutoff]}


def persistent(months_drifted: dict[str, bool], month: str, k: int, n: int) -> bool:
    """Whether ``month`` drifted and at least ``k`` of the ``n`` months up to it drifted."""
    if not months_drifted.get(month):
        return False
    earlier = sorted(m for m in months_drifted if m <= month)[-n:]
    return sum(months_drifted[m] for m in earlier) >= k


def calibrated_verdicts(result: DriftResult, effects: dict[str, float],
                        thresholds: dict[str, float], history: dict[str, list[float]],
                        quantile: float) -> DriftResult:
    """Verdicts on the effect size against the calibrated threshold, raised, once the column
    has 5 or more earlier months that raised no alert, to the ``quantile`` of a gamma
    distribution fitted to their effect sizes (by moments: effect sizes are positive and
    skewed to the right). A few dozen months cannot show a 0.999 quantile themselves; their
    maximum underestimates it."""
    columns = []
    for c in result.columns:
        threshold = thresholds[c.column]
        past = np.asarray(history.get(c.column, []), dtype=float)
        if len(past) >= 5 and past.mean() > 0 and past.var(ddof=1) > 0:
            mean, variance = past.mean(), past.var(ddof=1)
            threshold = max(threshold, float(stats.gamma.ppf(
                quantile, mean * mean / variance, scale=variance / mean)))
        method = "ks_d" if c.column_type == "num" else "cohen_h"
        columns.append(dataclasses.replace(
            c, method=f"calibrated {method}", score=effects[c.column], threshold=threshold,
            drifted=bool(effects[c.column] > threshold)))
    return dataclasses.replace(result, columns=tuple(columns))


def fdr_verdicts(result: DriftResult, rate: float) -> DriftResult:
    """Benjamini-Hochberg across the month's p-value tests at false discovery rate ``rate``."""
    pvalues = {c.column: c.score for c in result.columns if c.method in P_VALUE_TESTS}
    rejected = benjamini_hochberg(pvalues, rate)
    columns = tuple(
        dataclasses.replace(c, drifted=c.column in rejected, method=f"{c.method} (BH {rate:g})")
        if c.column in pvalues else c
        for c in result.columns
    )
    return dataclasses.replace(result, columns=columns)


@dataclass(frozen=True)
class Verdict:
    result: DriftResult  # per-column verdicts (Evidently's, or calibrated, or FDR-controlled)
    effects: dict[str, float]  # effect size per column
    relations: RelationResult | None  # the multivariate signal
    drift: bool  # the month's dataset verdict


def judge(
    profile: ReferenceProfile,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: list[str],
    drift_share: float = 0.5,
    **options,
) -> Verdict:
    """The month's verdict in this process (``options``: those of :func:`decide`)."""
    result = detect_drift(profile, current, features, drift_share=drift_share)
    effects = {c.column: effect_size(reference[c.column], current[c.column], c.column_type)
               for c in result.columns}
    return decide(result, effects, reference, current, **options)


def judge_on_cluster(
    client,
    reference,
    current,
    features: list[str],
    column_types: dict[str, str],
    drift_share: float = 0.5,
    *,
    samples: tuple[pd.DataFrame, pd.DataFrame],
    **options,
) -> Verdict:
    """The month's verdict with the per-column tests and effect sizes on a Dask cluster, over
    the whole of both Dask frames; the relation between columns is measured on ``samples``
    (reference, current) of them, which are the frames themselves when small enough."""
    from drift_assets.engine.distributed import detect_drift_distributed

    result = detect_drift_distributed(reference, current, features, drift_share,
                                      column_types, client=client)
    categorical = [c.column for c in result.columns if c.column_type == "cat"]
    counts = client.compute([side[c].value_counts() for c in categorical
                             for side in (reference, current)], sync=True)
    effects = {c.column: float(c.ks_statistic) for c in result.columns
               if c.column_type == "num"}
    for i, column in enumerate(categorical):
        effects[column] = cohens_h(counts[2 * i], counts[2 * i + 1])
    return decide(result, effects, *samples, **options)


def decide(
    result: DriftResult,
    effects: dict[str, float],
    reference: pd.DataFrame,
    current: pd.DataFrame,
    calibrated_thresholds: dict[str, float] | None = None,
    history: dict[str, list[float]] | None = None,
    quantile: float = 0.999,
    fdr: float | None = None,
) -> Verdict:
    """Evidently's per-column verdicts in ``result`` by default; with ``calibrated_thresholds``
    the effect sizes against them (and the relations between columns count as drift); else,
    with ``fdr``, Benjamini-Hochberg across the month's p-value tests."""
    if calibrated_thresholds is not None:
        result = calibrated_verdicts(result, effects, calibrated_thresholds, history or {},
                                     quantile)
    elif fdr:
        result = fdr_verdicts(result, fdr)
    numeric = [c.column for c in result.columns if c.column_type == "num"]
    relations = None
    if len(numeric) >= 2 and len(reference.dropna(subset=numeric)) > len(numeric) + 1:
        relations = RelationMonitor(reference, numeric).check(current)
        # Of a broken pair, the column whose own distribution moved most comes first: a
        # rescaled temperature moves, its twin does not.
        relations = dataclasses.replace(relations, columns=sorted(
            relations.columns, key=lambda c: -np.nan_to_num(effects.get(c, 0.0))))
    drift = result.dataset_drift or bool(
        calibrated_thresholds is not None and relations is not None and relations.drifted)
    return Verdict(result, effects, relations, drift)
