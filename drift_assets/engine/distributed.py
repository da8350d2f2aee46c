"""The drift engine on a Dask cluster, for months larger than one process's memory.

Workers read their own Parquet pieces and send back small partial statistics per column
(:class:`NumericPartial`: counts, moments, range, value table; :class:`CategoricalSummary`: value
counts) that the client merges. The statistics that need the values in order (K-S D, raw
Wasserstein, the PSI histogram) walk the partitions of Dask's own sort of each numeric column,
reference and current together: each partition is a value range, and :func:`walk_block` (the
single-process engine's walk) turns it into its share, given how many values of each side lie
below it. The verdicts then come from the same ``check_column``/``column_drift`` as in one
process. No month is gathered into one frame; the only data brought whole to the client is a
column with at most ``KS_MAX_EXACT_N`` values (SciPy's exact K-S needs them).

    with Client("tcp://scheduler:8786") as client:
        result = detect_drift_distributed("ref/*.parquet", "2012-06/", client=client)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from drift_assets.engine.drift import (
    BINNING_MIN_UNIQUE,
    KS_MAX_EXACT_N,
    ColumnDrift,
    DriftResult,
    OrderStatistics,
    _histogram_sorted,
    check_column,
    combine_walks,
    psi_edges,
    walk_block,
)
from drift_assets.engine.profile import (
    INTEGER_CARDINALITY_LIMIT,
    CategoricalSummary,
    ColumnSummary,
    NumericPartial,
    NumericSummary,
    dtype_kind,
    summarise_column,
)

__all__ = ["detect_drift_distributed", "infer_column_types", "read_parquet"]

_SORT_META = pd.DataFrame({"value": pd.Series(dtype="float64"), "side": pd.Series(dtype="int8")})


def read_parquet(location: str | Sequence[str], columns: Sequence[str] | None = None):
    """A Dask frame over a Parquet file, a folder of Parquet files or a glob; one task per piece,
    so each worker reads its own."""
    import dask.dataframe as dd

    return dd.read_parquet(location, columns=list(columns) if columns else None)


def detect_drift_distributed(
    reference: Any,
    current: Any,
    columns: Sequence[str] | None = None,
    drift_share: float = 0.5,
    column_types: dict[str, str] | None = None,
    *,
    client,
) -> DriftResult:
    """:func:`~drift_assets.engine.detect_drift` on a Dask cluster: same verdicts, same scores
    (to rounding).

    Args:
        reference, current: Dask frames, or Parquet locations (file, folder or glob).
        columns: columns to test (default: all reference columns).
        drift_share: dataset drift when the share of drifted columns is >= this.
        column_types: ``{column: "num" | "cat"}`` overrides; the rest is inferred on the
            reference with Evidently's rule, from the merged partials.
        client: a ``distributed.Client``.
    """
    if isinstance(reference, str | list):
        reference = read_parquet(reference, columns)
    if isinstance(current, str | list):
        current = read_parquet(current, columns)
    wanted = list(reference.columns) if columns is None else list(columns)
    for side, frame in (("reference", reference), ("current", current)):
        absent = [c for c in wanted if c not in frame.columns]
        if absent:
            raise KeyError(f"column(s) {absent} not found in the {side} frame")
    reference, current = reference[wanted], current[wanted]

    types, ref_summaries = _reference_summaries(client, reference, wanted, column_types)
    testable = {c: t for c, t in types.items() if t in ("num", "cat")}
    cur_summaries = _summaries(client, current, testable)

    outcomes: list[ColumnDrift | str] = []
    for column in wanted:
        column_type = types[column]
        ref = ref_summaries.get(column)
        cur = cur_summaries.get(column)
        if column_type == "num" and isinstance(ref, NumericPartial) \
                and isinstance(cur, NumericPartial) and ref.n and cur.n:
            if max(ref.n, cur.n) <= KS_MAX_EXACT_N:
                # SciPy's exact K-S needs the values; at this size they are small
                ref = NumericSummary.from_series(reference[column].compute())
                cur = NumericSummary.from_series(current[column].compute())
            elif ref.n_unique <= BINNING_MIN_UNIQUE and cur.table is None:
                # per-value PSI bins against a many-valued month: count its values on the
                # cluster (Dask's own groupby); rare, as such a column has changed entirely
                cur = dataclasses.replace(cur, table=_value_table(client, current[column]))
        order = None
        if column_type == "num" and isinstance(ref, NumericPartial):
            order = partial(_order_statistics, client, reference[column], current[column],
                            ref, cur)
        outcomes.append(check_column(column, column_type, _reason("reference", ref),
                                     lambda cur=cur: _reason("current", cur), order))
    results = tuple(o for o in outcomes if isinstance(o, ColumnDrift))
    skipped = {c: o for c, o in zip(wanted, outcomes, strict=True) if isinstance(o, str)}
    return DriftResult(results, float(drift_share), skipped)


# --------------------------------------------------------------------------------------------
# Partial statistics, per piece on the workers, merged on the client
# --------------------------------------------------------------------------------------------


def infer_column_types(reference: Any, columns: Sequence[str], *, client) -> dict[str, str]:
    """Evidently's column types (as :func:`~drift_assets.engine.build_profile` infers them) of a
    Dask frame, from merged partials."""
    return _reference_summaries(client, reference, list(columns), None)[0]


def _reference_summaries(client, reference, wanted: list[str],
                         column_types: dict[str, str] | None
                         ) -> tuple[dict[str, str], dict[str, ColumnSummary | str]]:
    """The columns' types and their merged reference summaries as those types."""
    # Each column's kind from its dtype; the merged partials decide integers and text.
    kinds = {c: dtype_kind(reference[c].dtype) for c in wanted}
    natural = {c: _NATURAL[k] for c, k in kinds.items() if k in _NATURAL}
    summaries = _summaries(client, reference, natural)
    types = {c: _column_type(kinds[c], summaries.get(c)) for c in wanted}
    types.update(column_types or {})
    # integer columns with few values (or overridden types) are summarised again as such
    summaries.update(_summaries(client, reference, {
        c: t for c, t in types.items() if t in ("num", "cat") and natural.get(c) != t}))
    return types, summaries


# what a kind is summarised as before the types are known
_NATURAL = {"num": "num", "int": "num", "cat": "cat", "string": "cat"}


def _column_type(kind: str, summary: ColumnSummary | str | None) -> str:
    """Evidently's type rule (``profile.evidently_column_type``) from a kind and merged partials."""
    if kind == "int":
        if isinstance(summary, NumericPartial) and summary.n_unique <= INTEGER_CARDINALITY_LIMIT:
            return "cat"
        return "num"
    if kind == "string":
        if not isinstance(summary, CategoricalSummary) or summary.n == 0:
            return "unknown"
        return "text" if summary.n_unique > summary.n * 0.5 else "cat"
    return kind


def _summaries(client, frame, types: dict[str, str]) -> dict[str, ColumnSummary | str]:
    """Each column's merged summary (or why it could not be made), from one task per piece."""
    if not types:
        return {}
    import dask

    pieces = frame[list(types)].to_delayed()
    parts = client.gather(client.compute([dask.delayed(_piece)(p, types) for p in pieces]))
    merged: dict[str, ColumnSummary | str] = {}
    for column, column_type in types.items():
        mine = [part[column] for part in parts]
        errors = [m for m in mine if isinstance(m, str)]
        if errors:
            merged[column] = f"cannot summarise as {column_type!r}: {errors[0]}"
        else:
            merged[column] = (NumericPartial if column_type == "num" else CategoricalSummary) \
                .merge(mine)
    return merged


def _piece(frame: pd.DataFrame, types: dict[str, str]) -> dict[str, ColumnSummary | str]:
    out: dict[str, ColumnSummary | str] = {}
    for column, column_type in types.items():
        try:
            summary = summarise_column(frame[column], column_type)
        except (TypeError, ValueError) as exc:
            out[column] = str(exc)
            continue
        out[column] = summary.partial if isinstance(summary, NumericSummary) else summary
    return out


def _reason(side: str, summary: ColumnSummary | str | None) -> ColumnSummary | str:
    if summary is None:
        return f"{side}: not summarised"
    if isinstance(summary, str):
        return f"{side}: {summary}"
    return summary


def _value_table(client, series) -> tuple[np.ndarray, np.ndarray]:
    finite = series.map_partitions(_finite_values, meta=("value", "float64"))
    counts = client.compute(finite.value_counts(sort=False)).result().sort_index()
    return counts.index.to_numpy(dtype=np.float64), counts.to_numpy(dtype=np.int64)


# --------------------------------------------------------------------------------------------
# Order statistics on Dask's sort
# --------------------------------------------------------------------------------------------


def _finite_values(series: pd.Series) -> pd.Series:
    """The finite values of a piece as float64 (NaN and +-inf are missing, as everywhere)."""
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.Series(values[np.isfinite(values)] + 0.0, name="value")


def _tagged(series: pd.Series, side: int) -> pd.DataFrame:
    values = _finite_values(series).to_numpy()
    return pd.DataFrame({"value": values, "side": np.full(values.size, side, dtype=np.int8)})


def _split(block: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    values = block["value"].to_numpy()
    side = block["side"].to_numpy()
    return values[side == 0], values[side == 1]


def _block_head(block: pd.DataFrame) -> tuple[int, int, float]:
    ref, cur = _split(block)
    return ref.size, cur.size, float(block["value"].iloc[0]) if len(block) else np.inf


def _block_statistics(block, r0, c0, n1, n2, following, edges):
    ref, cur = _split(block)
    walk = walk_block(ref, cur, r0, c0, n1, n2, following)
    if edges is None:
        return walk, None
    return walk, (_histogram_sorted(ref, edges), _histogram_sorted(cur, edges))


def _order_statistics(client, ref_column, cur_column, reference: NumericPartial,
                      current: NumericPartial) -> OrderStatistics:
    """W1, K-S D and the PSI histograms of one numeric column from Dask's sort of both sides.

    Dask samples quantiles and shuffles the values into value-range partitions; a first pass
    counts each side per partition, a second walks each partition from its offsets.
    """
    import dask
    import dask.dataframe as dd

    # the tagged values are materialised on the workers before the sort, and the sort starts
    # from those futures: planning it over the Parquet reads loses its inputs or stalls
    tagged = client.compute(dd.concat([
        ref_column.map_partitions(_tagged, 0, meta=_SORT_META),
        cur_column.map_partitions(_tagged, 1, meta=_SORT_META),
    ]).to_delayed())
    both = client.persist(dd.from_delayed(tagged, meta=_SORT_META).sort_values("value"))
    try:
        blocks = both.to_delayed()
        heads = client.gather(client.compute([dask.delayed(_block_head)(b) for b in blocks]))
        n1, n2 = reference.n, current.n
        if (sum(h[0] for h in heads), sum(h[1] for h in heads)) != (n1, n2):
            raise RuntimeError("the sorted column does not hold the counted values")
        edges = psi_edges(reference, current)
        # the first value of the next non-empty block, for each block
        followings, following = [], np.inf
        for m_ref, m_cur, first in reversed(heads):
            followings.append(following)
            if m_ref or m_cur:
                following = first
        followings.reverse()
        tasks, r0, c0 = [], 0, 0
        for block, (m_ref, m_cur, _), following in zip(blocks, heads, followings, strict=True):
            if m_ref or m_cur:
                tasks.append(dask.delayed(_block_statistics)(block, r0, c0, n1, n2, following,
                                                             edges))
            r0, c0 = r0 + m_ref, c0 + m_cur
        parts = client.gather(client.compute(tasks))
    finally:
        del both, tagged  # releases their memory on the workers
    wasserstein, ks_d = combine_walks([walk for walk, _ in parts])
    histograms = None
    if edges is not None:
        histograms = (sum(h[0] for _, h in parts), sum(h[1] for _, h in parts))
    return OrderStatistics(wasserstein, ks_d, histograms)
