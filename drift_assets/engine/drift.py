"""Column drift tests with Evidently 0.7's DataDriftPreset defaults, computed from summaries.

Every statistic here is a function of ``(reference summary, current summary)`` (see
:mod:`drift_assets.engine.profile`), so the reference side is computed once and reused, and a
distributed caller can feed summaries merged from partitions.

The rules below were read in Evidently 0.7.23 and checked against it by the parity tests
(``drift_assets_tests/test_engine.py``); file references are relative to the ``evidently``
package:

* test choice: ``legacy/calculations/stattests/registry.py::_get_default_stattest``;
* missing values: ``legacy/calculations/data_drift.py::get_one_column_drift``;
* the tests: ``legacy/calculations/stattests/{ks_stattest,chisquare_stattest,z_stattest,
  wasserstein_distance_norm,jensenshannon,psi,utils}.py``;
* dataset verdict: ``legacy/calculations/data_drift.py::get_dataset_drift``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# SciPy is imported by the functions that use it: scipy.stats takes about a second to import,
# more than `drift-assets detect` spends testing a million rows with the large-sample tests
# (Wasserstein, Jensen-Shannon), which never need it.
from drift_assets.engine.profile import (
    TESTABLE_TYPES,
    CategoricalSummary,
    ColumnSummary,
    NumericSummary,
    ReferenceProfile,
    _require_columns,
    build_profile,
    parallel_map,
    summarise_column,
)

__all__ = [
    "ColumnDrift",
    "OrderStatistics",
    "DEFAULT_THRESHOLDS",
    "DriftResult",
    "SkipReason",
    "aligned_counts",
    "chisquare_pvalue",
    "choose_stattest",
    "detect_drift",
    "check_column",
    "is_drifted",
    "jensenshannon_distance",
    "ks_pvalue",
    "numeric_distances",
    "walk_block",
    "psi",
    "z_test_pvalue",
]

# StatTest.default_threshold of each test Evidently picks by default.
DEFAULT_THRESHOLDS = {
    "ks": 0.05,
    "chisquare": 0.05,
    "z": 0.05,
    "wasserstein": 0.1,
    "jensenshannon": 0.1,
}
# _get_default_stattest: reference_data.shape[0] <= 1000, counted after NaN/inf are dropped.
SMALL_REFERENCE_ROWS = 1000
# _get_default_stattest: a numeric column with <= 5 distinct values (reference and current
# together) gets the categorical tests.
NUMERIC_FEW_VALUES = 5
# stattests/utils.py::get_binned_data: numeric columns with more distinct reference values than
# this are binned with Sturges' rule, others are compared value by value.
BINNING_MIN_UNIQUE = 20
# scipy.stats.ks_2samp(method="auto"): exact p-value when max(n1, n2) <= MAX_AUTO_N.
KS_MAX_EXACT_N = 10_000
# values per side between two cuts of the merged walk (numeric_distances)
MERGE_BLOCK = 32_768


@dataclass(frozen=True)
class ColumnDrift:
    """Drift verdict for one column, as Evidently's ValueDrift would report it.

    ``score`` is a p-value for ``ks``/``chisquare``/``z`` and a distance for
    ``wasserstein``/``jensenshannon``; ``psi`` and ``ks_statistic`` are extra numeric-column
    statistics (None for categorical columns).
    """

    column: str
    column_type: str
    method: str
    score: float
    threshold: float
    drifted: bool
    psi: float | None
    ks_statistic: float | None
    reference_missing_share: float
    current_missing_share: float
    # Set by the calibrated verdict: the category whose share decided a categorical column, and
    # the twin a column moved with (a drift so explained raises no alert).
    category: str | None = None
    moved_with: str | None = None


@dataclass(frozen=True)
class OrderStatistics:
    """A numeric column's statistics that need the values in order, computed block by block:
    raw W1, K-S D and both sides' counts on the PSI Sturges edges (None: per-value bins)."""

    wasserstein: float
    ks_d: float
    histograms: tuple[np.ndarray, np.ndarray] | None


class SkipReason(str):
    """Why a column was not tested: the text, plus the side whose data is at fault
    (``"reference"`` or ``"current"``), so that a caller can name the file without reading the
    text. A ``str``, so records, JSON and comparisons see the text alone. A column whose type is
    not tested is the reference's side: the types are inferred on the reference."""

    side: str | None

    def __new__(cls, text: str, side: str | None = None) -> SkipReason:
        reason = super().__new__(cls, text)
        reason.side = side
        return reason

    def __getnewargs__(self) -> tuple[str, str | None]:  # pickle and copy keep the side
        return str(self), self.side


@dataclass(frozen=True)
class DriftResult:
    """Per-column results plus the dataset verdict (share of drifted columns >= threshold)."""

    columns: tuple[ColumnDrift, ...]
    drift_share_threshold: float
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def drifted_columns(self) -> list[str]:
        """Names of the drifted columns, in column order."""
        return [c.column for c in self.columns if c.drifted]

    @property
    def drifted_count(self) -> int:
        """Number of drifted columns."""
        return sum(c.drifted for c in self.columns)

    @property
    def share(self) -> float:
        """Drifted columns / tested columns (skipped ones excluded); 0.0 when none was tested."""
        return self.drifted_count / len(self.columns) if self.columns else 0.0

    @property
    def dataset_drift(self) -> bool:
        """Evidently's ``get_dataset_drift``: ``share >= drift_share`` (inclusive)."""
        return bool(self.columns) and self.share >= self.drift_share_threshold

    def column(self, name: str) -> ColumnDrift:
        """The result for column ``name``; KeyError if it was skipped or not requested."""
        for result in self.columns:
            if result.column == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict of everything above."""
        return {
            "dataset_drift": self.dataset_drift,
            "drift_share_threshold": float(self.drift_share_threshold),
            "drifted_count": self.drifted_count,
            "tested_count": len(self.columns),
            "share": float(self.share),
            "drifted_columns": self.drifted_columns,
            "columns": [asdict(c) for c in self.columns],
            "skipped": dict(self.skipped),
        }


# --------------------------------------------------------------------------------------------
# Test choice and verdict
# --------------------------------------------------------------------------------------------


def combined_n_unique(reference: ColumnSummary, current: ColumnSummary) -> int:
    """Distinct non-missing values of both sides together (``pd.concat([r, c]).nunique()``).

    For numeric summaries only "at most 5 or not" matters to the test choice, so when one side
    alone has more, its own count is returned without building the union (or needing the
    other side's value table, which a many-valued partial does not keep).
    """
    if not isinstance(reference, CategoricalSummary):
        for side in (reference, current):
            if side.n_unique > NUMERIC_FEW_VALUES:
                return side.n_unique
        ref_values, _ = reference.value_counts()
        cur_values, _ = current.value_counts()
        return int(np.union1d(ref_values, cur_values).size)
    return len(aligned_counts(reference, current)[0])


def choose_stattest(column_type: str, reference: ColumnSummary, current: ColumnSummary) -> str:
    """Evidently's default stat test for a column (``_get_default_stattest``)."""
    small = reference.n <= SMALL_REFERENCE_ROWS
    if column_type == "cat":
        if not small:
            return "jensenshannon"
        return "chisquare" if combined_n_unique(reference, current) > 2 else "z"
    n_values = combined_n_unique(reference, current)
    if small:
        if n_values <= NUMERIC_FEW_VALUES:
            return "chisquare" if n_values > 2 else "z"
        return "ks"
    return "jensenshannon" if n_values <= NUMERIC_FEW_VALUES else "wasserstein"


def is_drifted(method: str, score: float, threshold: float) -> bool:
    """Each test's own comparison: K-S uses ``p <= t``, chi-square and Z ``p < t``,
    the distances ``d >= t``."""
    if method == "ks":
        return bool(score <= threshold)
    if method in ("chisquare", "z"):
        return bool(score < threshold)
    return bool(score >= threshold)


# --------------------------------------------------------------------------------------------
# Numeric statistics (sorted reference x sorted current)
# --------------------------------------------------------------------------------------------


def numeric_distances(
    reference: NumericSummary, current: NumericSummary, block: int = MERGE_BLOCK
) -> tuple[float, float]:
    """Exact (raw) Wasserstein-1 distance and the two-sample K-S D statistic.

    Both come from one walk over the merged sorted sample (see :func:`walk_block`). The walk
    goes block by block over value ranges cut at every ``block``-th value of either side
    (``block`` is raised so that there are at most ~8 blocks), which bounds the temporaries to
    a fraction of the samples. The distributed engine walks Dask's sorted partitions instead:
    the same blocks, placed by Dask.
    """
    ref, cur = reference.values, current.values
    n1, n2 = ref.size, cur.size
    # at most ~8 blocks: each numpy call holds the GIL briefly, and thousands of small calls
    # from several threads convoy on it, which costs more than the cache misses saved
    block = max(block, -(-(n1 + n2) // 8))
    cuts = np.unique(np.concatenate((ref[::block], cur[::block])))
    # value-range blocks [cut_b, cut_b+1): a run of equal values never straddles two blocks
    ref_idx = np.searchsorted(ref, cuts, "left").tolist() + [n1]
    cur_idx = np.searchsorted(cur, cuts, "left").tolist() + [n2]
    parts = []
    for b in range(len(cuts)):
        r0, r1, c0, c1 = ref_idx[b], ref_idx[b + 1], cur_idx[b], cur_idx[b + 1]
        following = min(ref[r1] if r1 < n1 else np.inf, cur[c1] if c1 < n2 else np.inf)
        parts.append(walk_block(ref[r0:r1], cur[c0:c1], r0, c0, n1, n2, following))
    return combine_walks(parts)


def walk_block(
    ref: np.ndarray, cur: np.ndarray, r0: int, c0: int, n1: int, n2: int, following: float
) -> tuple[float, float]:
    """One value range of the merged walk: its share of W1 and its largest CDF gap.

    ``ref``/``cur`` are the sorted values of each side in the range, ``r0``/``c0`` how many
    values of each side lie below it, ``n1``/``n2`` the sides' sizes and ``following`` the first
    value after the range (inf for the last one). The CDFs ``F_ref``/``F_cur`` at each merged
    value are running counts; W1 = sum |F_ref - F_cur| * gap to the next value (what
    ``scipy.stats.wasserstein_distance`` computes) and D = max |F_ref - F_cur| at the last copy
    of each value (what ``ks_2samp`` gets from ``searchsorted(side="right")``). A run of equal
    values may straddle two ranges: its copies have zero gaps, so only its last copy counts.
    """
    m_ref, m_cur = ref.size, cur.size
    if m_ref and m_cur:
        both = np.concatenate((ref, cur))
        # two sorted runs: the stable sort (timsort) merges them linearly
        order = np.argsort(both, kind="stable")
        merged = both[order]
        cum_ref = np.cumsum(order < m_ref)
        cum_ref += r0
        cum_cur = np.arange(r0 + c0 + 1, r0 + c0 + m_ref + m_cur + 1)
        cum_cur -= cum_ref
    elif m_ref:
        merged = ref
        cum_ref = np.arange(r0 + 1, r0 + m_ref + 1)
        cum_cur = np.full(m_ref, c0)
    elif m_cur:
        merged = cur
        cum_cur = np.arange(c0 + 1, c0 + m_cur + 1)
        cum_ref = np.full(m_cur, r0)
    else:
        return 0.0, 0.0
    # count / n per side, then the difference: the same operations as scipy
    cdf_gap = cum_ref / n1
    cdf_gap -= cum_cur / n2
    np.abs(cdf_gap, out=cdf_gap)
    if following == np.inf:
        following = merged[-1]  # the last value: both CDFs are 1, nothing to add
    steps = np.diff(merged, append=following)
    # inside a run of equal values the running counts are partial; only run ends are CDFs
    return float(np.dot(cdf_gap, steps)), float(np.max(cdf_gap, where=steps != 0, initial=0.0))


def combine_walks(parts: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """W1 and D of the whole walk from its blocks'."""
    return sum(w for w, _ in parts), max((d for _, d in parts), default=0.0)


def wasserstein_normed(reference: NumericSummary, raw_distance: float) -> float:
    """W1 / std(reference, ddof=0), which does not depend on the data's units.

    Evidently divides by ``max(std, 0.001)``: its floor made a column whose reference std is
    below 0.001 (the same data in other units) score ~0, "no drift", however far it moved.
    Here the std itself is used; a constant reference (std 0), whose score no unit-free
    number can give, is refused by :func:`check_column`.
    """
    return raw_distance / reference.std


def ks_pvalue(reference: NumericSummary, current: NumericSummary, ks_d: float) -> float:
    """Two-sided p-value of ``scipy.stats.ks_2samp(method="auto")``.

    Small samples go to scipy itself (exact method, cheap at that size); large ones use scipy's
    asymptotic branch, ``kstwo.sf(D, round(m*n/(m+n)))``, on the D computed above.
    """
    from scipy import stats  # here, not at the top: see the imports

    n1, n2 = reference.n, current.n
    if max(n1, n2) <= KS_MAX_EXACT_N:
        return float(stats.ks_2samp(reference.values, current.values).pvalue)
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return float(np.clip(stats.kstwo.sf(ks_d, np.round(en)), 0, 1))


def _sturges_edges(first: float, last: float, size: int, integer: bool) -> np.ndarray:
    # np.histogram_bin_edges(combined, bins="sturges") from min, max and size alone
    width = (last - first) / (np.log2(size) + 1.0)
    if first == last:
        first, last = first - 0.5, last + 0.5
    if width:
        if integer and width < 1:
            width = 1  # NumPy's rule for integer arrays
        n_bins = int(np.ceil((last - first) / width))
    else:
        n_bins = 1
    return np.linspace(first, last, n_bins + 1, endpoint=True, dtype=np.float64)


def _histogram_sorted(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    # np.histogram's own path for explicit edges: [e_i, e_i+1) bins, the last one closed
    cuts = np.concatenate(
        (values.searchsorted(edges[:-1], "left"), values.searchsorted(edges[-1:], "right"))
    )
    return np.diff(cuts)


def _fill_zeroes(percents: np.ndarray) -> np.ndarray:
    # get_binned_data(feel_zeroes=True): empty bins get min(non-zero)/1e6, or 1e-4
    nonzero = percents[percents != 0]
    smallest = nonzero.min()
    np.place(percents, percents == 0, smallest / 10**6 if smallest <= 0.0001 else 0.0001)
    return percents


def psi_edges(reference: ColumnSummary, current: ColumnSummary) -> np.ndarray | None:
    """Evidently's PSI bins: Sturges edges over both samples together
    (``np.histogram_bin_edges(concat, "sturges")``) when the reference has more than 20
    distinct values; None means one bin per distinct value."""
    if reference.n_unique <= BINNING_MIN_UNIQUE:
        return None
    return _sturges_edges(
        min(reference.minimum, current.minimum),
        max(reference.maximum, current.maximum),
        reference.n + current.n,
        reference.integer and current.integer,
    )


def psi(
    reference: ColumnSummary,
    current: ColumnSummary,
    histograms: tuple[np.ndarray, np.ndarray] | None = None,
) -> float:
    """Population Stability Index with Evidently's ``psi`` stattest binning.

    Binned (see :func:`psi_edges`) or one bin per distinct value; empty bins are filled as in
    ``get_binned_data(feel_zeroes=True)``. ``histograms`` are both sides' counts on the
    Sturges edges when a caller counted them elsewhere (the distributed engine, per block).
    """
    edges = psi_edges(reference, current)
    if edges is None:
        _, ref_counts, cur_counts = aligned_counts(reference, current)
    elif histograms is not None:
        ref_counts, cur_counts = histograms
    else:
        ref_counts = _histogram_sorted(reference.values, edges)
        cur_counts = _histogram_sorted(current.values, edges)
    ref_pct = _fill_zeroes(ref_counts / reference.n)
    cur_pct = _fill_zeroes(cur_counts / current.n)
    return float(np.sum((ref_pct - cur_pct) * np.log(ref_pct / cur_pct)))


# --------------------------------------------------------------------------------------------
# Value-count statistics (categorical columns, numeric columns with few values)
# --------------------------------------------------------------------------------------------


def aligned_counts(
    reference: ColumnSummary, current: ColumnSummary
) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """Union of the distinct values of both sides and each side's count for them (0 if absent).

    Categorical keys are matched with Python equality, as Evidently's
    ``{**dict.fromkeys(keys, 0), **dict(series.value_counts())}`` does.
    """
    if not isinstance(reference, CategoricalSummary):
        ref_values, ref_counts = reference.value_counts()
        cur_values, cur_counts = current.value_counts()
        keys = np.union1d(ref_values, cur_values)
        ref_full = np.zeros(keys.size, dtype=np.int64)
        cur_full = np.zeros(keys.size, dtype=np.int64)
        ref_full[np.searchsorted(keys, ref_values)] = ref_counts
        cur_full[np.searchsorted(keys, cur_values)] = cur_counts
        return keys.tolist(), ref_full, cur_full
    ref_map = _as_dict(reference)
    cur_map = _as_dict(current)
    keys = list(ref_map) + [key for key in cur_map if key not in ref_map]
    ref_full = np.fromiter((ref_map.get(k, 0) for k in keys), dtype=np.int64, count=len(keys))
    cur_full = np.fromiter((cur_map.get(k, 0) for k in keys), dtype=np.int64, count=len(keys))
    return keys, ref_full, cur_full


def _as_dict(summary: ColumnSummary) -> dict[Any, int]:
    if isinstance(summary, CategoricalSummary):
        return summary.as_dict()
    values, counts = summary.value_counts()
    return dict(zip(values.tolist(), counts.tolist(), strict=True))


def chisquare_pvalue(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Evidently's chi-square: expected = reference counts * (n_cur / n_ref), one cell per value
    of either side, ``scipy.stats.chisquare(observed, expected)``."""
    from scipy import stats  # here, not at the top: see the imports

    k_norm = cur_counts.sum() / ref_counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        # a value never seen in the reference has expected 0: statistic inf, p-value 0
        return float(stats.chisquare(cur_counts, ref_counts * k_norm)[1])


def z_test_pvalue(keys: Sequence[Any], ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Evidently's two-proportion Z-test (``z_stattest.py``).

    p = 1 when both sides hold the same single value; otherwise the proportion of values
    different from the smallest value, pooled z, ``2 * (1 - norm.cdf(|z|))`` (which, unlike
    ``norm.sf``, reaches exactly 0 for |z| > ~8.3, as in Evidently).
    """
    from scipy import stats  # here, not at the top: see the imports

    if np.count_nonzero(ref_counts) == 1 and np.count_nonzero(cur_counts) == 1:
        if int(np.flatnonzero(ref_counts)[0]) == int(np.flatnonzero(cur_counts)[0]):
            return 1.0
    first = sorted(range(len(keys)), key=lambda i: keys[i])[0]
    n1, n2 = int(ref_counts.sum()), int(cur_counts.sum())
    p1 = float(n1 - int(ref_counts[first])) / n1
    p2 = float(n2 - int(cur_counts[first])) / n2
    pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2 * (1 - stats.norm.cdf(np.abs(z))))


def jensenshannon_distance(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Evidently's Jensen-Shannon distance (natural log, no zero filling) over per-value shares."""
    from scipy.spatial import distance  # here, not at the top: see the imports

    ref_pct = ref_counts / ref_counts.sum()
    cur_pct = cur_counts / cur_counts.sum()
    return float(distance.jensenshannon(ref_pct, cur_pct))


# --------------------------------------------------------------------------------------------
# Columns and data sets
# --------------------------------------------------------------------------------------------


def column_drift(
    column: str,
    column_type: str,
    reference: ColumnSummary,
    current: ColumnSummary,
    order: OrderStatistics | None = None,
) -> ColumnDrift:
    """Run Evidently's default test (plus PSI and K-S D for numeric columns) on two summaries.

    Both summaries must hold at least one non-missing value. ``order`` carries a numeric
    column's order statistics when they were computed elsewhere (the distributed engine);
    otherwise they come from the summaries' sorted values.
    """
    method = choose_stattest(column_type, reference, current)
    ks_d = psi_value = None
    if column_type == "num":
        if order is None:
            wasserstein, ks_d = numeric_distances(reference, current)
            psi_value = psi(reference, current)
        else:
            wasserstein, ks_d = order.wasserstein, order.ks_d
            psi_value = psi(reference, current, order.histograms)
    if method == "ks":
        score = ks_pvalue(reference, current, ks_d)
    elif method == "wasserstein":
        score = wasserstein_normed(reference, wasserstein)
    else:
        keys, ref_counts, cur_counts = aligned_counts(reference, current)
        if method == "chisquare":
            score = chisquare_pvalue(ref_counts, cur_counts)
        elif method == "z":
            score = z_test_pvalue(keys, ref_counts, cur_counts)
        else:
            score = jensenshannon_distance(ref_counts, cur_counts)
    threshold = DEFAULT_THRESHOLDS[method]
    return ColumnDrift(
        column=column,
        column_type=column_type,
        method=method,
        score=float(score),
        threshold=threshold,
        drifted=is_drifted(method, score, threshold),
        psi=psi_value,
        ks_statistic=ks_d,
        reference_missing_share=_share(reference.n_missing, reference.n_total),
        current_missing_share=_share(current.n_missing, current.n_total),
    )


def _share(part: int, whole: int) -> float:
    return part / whole if whole else math.nan


def detect_drift(
    reference: ReferenceProfile | pd.DataFrame,
    current: pd.DataFrame,
    columns: Sequence[str] | None = None,
    drift_share: float = 0.5,
    column_types: dict[str, str] | None = None,
    *,
    max_workers: int | None = None,
) -> DriftResult:
    """Test every column of ``current`` against the reference, as Evidently's DataDriftPreset.

    Args:
        reference: a profile from :func:`build_profile` (reused across calls) or a raw frame
            (profiled on the fly).
        current: the current data.
        columns: columns to test (default: the profile's columns, or all reference columns).
        drift_share: dataset drift when the share of drifted columns is >= this.
        column_types: ``{column: "num" | "cat"}`` overrides, for a raw reference frame. With a
            profile they must agree with the profile's types (it was built for those types).
        max_workers: threads for the per-column work (default: one per CPU).

    Columns that cannot be tested (entirely missing on either side, a non-num/cat type, data
    that does not fit the type) are listed in ``result.skipped`` with the reason (a
    :class:`SkipReason`, which names the side at fault); Evidently would raise on them instead.

    Raises:
        KeyError: a requested column is missing from ``current`` (or the reference).
        ValueError: ``column_types`` conflicts with the profile's types.
    """
    if isinstance(reference, pd.DataFrame):
        wanted = list(reference.columns) if columns is None else list(columns)
        # fail on a missing current column before paying for the reference profile
        _require_columns(current, wanted, "current")
        profile = build_profile(reference, wanted, column_types, max_workers=max_workers)
    elif isinstance(reference, ReferenceProfile):
        profile = reference
        wanted = list(profile.columns) if columns is None else list(columns)
        unknown = [c for c in wanted if c not in profile.column_types]
        if unknown:
            raise KeyError(f"column(s) {unknown} not in the reference profile")
        conflicts = {
            c: (t, profile.column_types[c])
            for c, t in (column_types or {}).items()
            if c in wanted and profile.column_types[c] != t
        }
        if conflicts:
            raise ValueError(
                f"column_types {conflicts} (given, profiled) disagree with the reference profile;"
                " rebuild the profile with these types"
            )
    else:
        raise TypeError(
            f"reference must be a ReferenceProfile or a DataFrame, not {type(reference)}"
        )
    _require_columns(current, wanted, "current")

    def run(column: str) -> ColumnDrift | str:
        return _test_column(profile, column, current[column])

    outcomes = parallel_map(run, wanted, max_workers)
    results = tuple(o for o in outcomes if isinstance(o, ColumnDrift))
    skipped = {c: o for c, o in zip(wanted, outcomes, strict=True) if isinstance(o, str)}
    return DriftResult(results, float(drift_share), skipped)


def _test_column(profile: ReferenceProfile, column: str, series: pd.Series) -> ColumnDrift | str:
    """ColumnDrift, or the reason the column is skipped."""
    column_type = profile.column_types[column]

    def current() -> ColumnSummary | str:
        try:
            return summarise_column(series, column_type)
        except (TypeError, ValueError) as exc:
            return f"current: cannot summarise as {column_type!r}: {exc}"

    reference = profile.errors.get(column) or profile.summaries.get(column)
    return check_column(column, column_type, reference, current)


def check_column(
    column: str,
    column_type: str,
    reference: ColumnSummary | str,
    current: Callable[[], ColumnSummary | str],
    order: Callable[[], OrderStatistics] | None = None,
) -> ColumnDrift | str:
    """ColumnDrift, or the reason the column is skipped (a :class:`SkipReason` naming the
    side at fault): the rules both engines share.

    ``reference`` is a summary or the reason it could not be made; ``current`` and ``order``
    are called only when the column is testable so far, as they cost a pass over the data.
    """
    if column_type not in TESTABLE_TYPES:
        return SkipReason(
            f"column type {column_type!r} is not tested (only numerical and categorical)",
            "reference")
    if isinstance(reference, str):
        return SkipReason(reference, "reference")
    if reference.n == 0:
        return SkipReason("all values missing in reference", "reference")
    summary = current()
    if isinstance(summary, str):
        return SkipReason(summary, "current")
    if summary.n_total == 0:
        return SkipReason("no rows in current", "current")
    if summary.n == 0:
        return SkipReason("all values missing in current", "current")
    if column_type == "num":
        refused = _unit_free_refusal(reference, summary)
        if refused is not None:
            return refused
    return column_drift(column, column_type, reference, summary, order() if order else None)


def _unit_free_refusal(reference: ColumnSummary, current: ColumnSummary) -> SkipReason | None:
    """Why a numeric column's scores could not be the same in any unit, or None.

    Values spread wider than float64 can subtract (max - min overflows) have no PSI bins and no
    finite distances; a constant reference has no std to norm the Wasserstein distance by.
    """
    low = min(reference.minimum, current.minimum)
    high = max(reference.maximum, current.maximum)
    if not math.isfinite(high - low):
        side = "current" if math.isfinite(reference.maximum - reference.minimum) else "reference"
        return SkipReason(
            f"values from {low:.3g} to {high:.3g}: max - min overflows float64, so the"
            " distances and the PSI bins cannot be computed; rescale the column", side)
    if reference.minimum == reference.maximum and \
            choose_stattest("num", reference, current) == "wasserstein":
        return SkipReason(
            f"reference is constant ({reference.minimum:.6g}): the normed Wasserstein distance"
            " W1/std(reference) is undefined", "reference")
    return None
