"""Fewer false alarms: thresholds calibrated on alike periods, FDR control, persistence.

Evidently tests each column with a fixed p-value or distance threshold. On real monthly data that
fires on seasons, on large samples (any p-value shrinks with n) and on many columns at once. Here:

- **calibrated thresholds**: per column an effect size that, unlike a p-value, does not shrink
  with the sample size: the K-S statistic D for a numeric column; for a categorical one, each
  category's Cohen's h, 2|asin√p - asin√q|, between its shares, judged against that category's
  own threshold (a rare category that becomes common is as unusual as a common one that
  vanishes, but their natural variation differs: a spell of mist empties the clear days, no
  spell fills a month with rain). Each is compared with a high quantile of the same effect size
  between samples that are known to be alike: pairs of samples drawn in blocks of consecutive
  days from the reference window itself, and the past months that raised no alert (a gamma tail
  fitted to their effect sizes). A floor (``min_effect``; ``CATEGORY_FLOOR`` for a category)
  keeps a large sample from turning a negligible change into an alert;
- **twins that move together**: a numeric column that drifted while its relation with its twin
  (``multivariate``) held, as did the twin's, moved with the weather, not with a sensor: it is
  reported and raises no alert;
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


# Bumped when calibrated verdicts change for the same settings, so stored profiles are rebuilt
# and the UI marks the drift history computed by the old method as stale.
METHOD_VERSION = "2"
CATEGORY_FLOOR = 0.5  # Cohen's "medium": no category's share drifts below this h


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


def _history_threshold(past: list[float], quantile: float) -> float:
    """The ``quantile`` of a gamma distribution fitted by moments to the effect sizes of 5 or
    more earlier months that raised no alert (effect sizes are positive and skewed to the right;
    a few dozen months cannot show a 0.999 quantile themselves, their maximum underestimates
    it); 0 with fewer."""
    values = np.asarray(past, dtype=float)
    if len(values) < 5 or values.mean() <= 0 or values.var(ddof=1) <= 0:
        return 0.0
    mean, variance = values.mean(), values.var(ddof=1)
    return float(stats.gamma.ppf(quantile, mean * mean / variance, scale=variance / mean))


def calibrated_verdicts(result: DriftResult, effects: dict[str, float],
                        thresholds: dict[str, float], history: dict[str, list[float]],
                        quantile: float) -> DriftResult:
    """Verdicts on the effect sizes against the calibrated thresholds, each raised by the
    history of its column (or category). A categorical column drifts when any category's share
    does; it reports the category nearest to, or furthest past, its threshold."""
    columns = []
    for c in result.columns:
        keys = [c.column] if c.column_type == "num" else \
            [k for k in effects if k.startswith(f"{c.column}=")] or [c.column]
        limits = {k: max(thresholds.get(k, thresholds[c.column]),
                         _history_threshold(history.get(k, []), quantile)) for k in keys}
        worst = max(keys, key=lambda k: effects[k] - limits[k])
        method = "ks_d" if c.column_type == "num" else \
            "cohen_h" if worst == c.column else f"cohen_h ({worst})"
        columns.append(dataclasses.replace(
            c, method=f"calibrated {method}", score=effects[worst], threshold=limits[worst],
            drifted=bool(effects[worst] > limits[worst])))
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
    effects: dict[str, float] = {}
    for c in result.columns:
        if c.column_type == "num":
            effects[c.column] = effect_size(reference[c.column], current[c.column], "num")
        else:
            effects.update(categorical_effects(c.column, reference[c.column].value_counts(),
                                               current[c.column].value_counts()))
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
        effects.update(categorical_effects(column, counts[2 * i], counts[2 * i + 1]))
    return decide(result, effects, *samples, **options)


MOVED_WITH = ", moved with "


def _clear_twins(result: DriftResult, relations: RelationResult) -> DriftResult:
    """A drifted column whose relation with its twin held (temp and atemp in a warm March) is
    reported as moved with its twin and raises no alert: a faulty sensor moves one of a pair."""
    held = relations.held()
    return dataclasses.replace(result, columns=tuple(
        dataclasses.replace(c, drifted=False,
                            method=f"{c.method}{MOVED_WITH}{relations.partners[c.column]}")
        if c.drifted and c.column in held else c
        for c in result.columns))


def alike(drifted: bool, method: str) -> bool:
    """Whether a month's verdict on a column makes it an alike period for that column's history:
    no drift, and not a move cleared because its twin moved alike (that was weather, and would
    teach the history that seasons are noise)."""
    return not drifted and MOVED_WITH not in method


def decide(
    result: DriftResult,
    effects: dict[str, float],
    reference: pd.DataFrame,
    current: pd.DataFrame,
    calibrated_thresholds: dict[str, float] | None = None,
    history: dict[str, list[float]] | None = None,
    quantile: float = 0.999,
    fdr: float | None = None,
    any_column: bool = False,
) -> Verdict:
    """Evidently's per-column verdicts in ``result`` by default; with ``calibrated_thresholds``
    the effect sizes against them, twins that moved together cleared, and a broken relation
    between columns counted as drift, as is, with ``any_column``, a single drifted column
    (each is already held to the calibration quantile; a share rule would hide one broken
    sensor); else, with ``fdr``, Benjamini-Hochberg across the month's p-value tests."""
    numeric = [c.column for c in result.columns if c.column_type == "num"]
    relations = None
    if len(numeric) >= 2 and len(reference.dropna(subset=numeric)) > len(numeric) + 1:
        relations = RelationMonitor(reference, numeric).check(current)
    if calibrated_thresholds is not None:
        result = calibrated_verdicts(result, effects, calibrated_thresholds, history or {},
                                     quantile)
        if relations is not None:
            result = _clear_twins(result, relations)
    elif fdr:
        result = fdr_verdicts(result, fdr)
    drift = result.dataset_drift or bool(calibrated_thresholds is not None and (
        (relations is not None and relations.drifted) or (any_column and result.drifted_count)))
    return Verdict(result, effects, relations, drift)
