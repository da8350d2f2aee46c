"""The month's verdict: Evidently's per-column tests, or calibrated thresholds, or FDR control;
twins that moved together cleared; a broken relation between columns counted as drift.

- **calibrated thresholds** (:mod:`calibration`): effect sizes against thresholds learned from
  alike periods, each raised by the history of its column;
- **twins that move together**: a numeric column that drifted while its relation with its twin
  (:mod:`relations`) held, as did the twin's, moved with the weather, not with a sensor: it is
  reported (``moved_with``) and raises no alert;
- **Benjamini-Hochberg**: the p-value tests of one month's columns, controlled at a false
  discovery rate instead of each at 5%.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from drift_assets.engine.calibration import categorical_effects, history_threshold
from drift_assets.engine.drift import DriftResult, detect_drift
from drift_assets.engine.profile import ReferenceProfile
from drift_assets.engine.relations import RelationMonitor, RelationResult

P_VALUE_TESTS = ("ks", "chisquare", "z")


def benjamini_hochberg(pvalues: dict[str, float], rate: float) -> set[str]:
    """The columns whose null hypothesis is rejected at false discovery rate ``rate``."""
    items = sorted(pvalues.items(), key=lambda kv: kv[1])
    m = len(items)
    cutoff = 0
    for rank, (_, p) in enumerate(items, start=1):
        if p <= rate * rank / m:
            cutoff = rank
    return {column for column, _ in items[:cutoff]}


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
                         history_threshold(history.get(k, []), quantile)) for k in keys}
        worst = max(keys, key=lambda k: effects[k] - limits[k])
        method = "calibrated ks_d" if c.column_type == "num" else "calibrated cohen_h"
        columns.append(dataclasses.replace(
            c, method=method, score=effects[worst], threshold=limits[worst],
            drifted=bool(effects[worst] > limits[worst]),
            category=worst.partition("=")[2] or None))
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
            effects[c.column] = float(c.ks_statistic)
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


def _clear_twins(result: DriftResult, relations: RelationResult) -> DriftResult:
    """A drifted column whose relation with its twin held (temp and atemp in a warm March) is
    reported as moved with its twin and raises no alert: a faulty sensor moves one of a pair."""
    held = relations.held()
    return dataclasses.replace(result, columns=tuple(
        dataclasses.replace(c, drifted=False, moved_with=relations.partners[c.column])
        if c.drifted and c.column in held else c
        for c in result.columns))


def alike(drifted: bool, moved_with: str | None) -> bool:
    """Whether a month's verdict on a column makes it an alike period for that column's history:
    no drift, and not a move cleared because its twin moved alike (that was weather, and would
    teach the history that seasons are noise)."""
    return not drifted and moved_with is None


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
