"""Column summaries and the reusable reference profile.

A summary is everything the drift statistics need from one side of one column:

* numeric: the sorted finite values (float64) plus the number of missing values;
* categorical: the distinct non-missing values with their counts plus the number missing.

Both are *mergeable*: concatenating (and re-sorting) the values or adding the counts of two
partitions gives the summary of their union, so a distributed caller can build partial summaries
per chunk and merge them before calling the statistics in :mod:`drift_assets.engine.drift`.

Missing means NaN/None/NA *and* +-inf, because Evidently's ``get_one_column_drift``
(``evidently/legacy/calculations/data_drift.py``) runs ``replace([-inf, inf], nan).dropna()`` on
both sides before choosing or running any test.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import pandas as pd

__all__ = [
    "CategoricalSummary",
    "INTEGER_CARDINALITY_LIMIT",
    "NumericPartial",
    "NumericSummary",
    "ReferenceProfile",
    "build_profile",
    "evidently_column_type",
    "infer_column_types",
    "TABLE_CAP",
    "sort_floats",
    "summarise_column",
]

# evidently.core.datasets.INTEGER_CARDINALITY_LIMIT: an integer column with at most this many
# distinct values is categorical.
INTEGER_CARDINALITY_LIMIT = 10

TESTABLE_TYPES = ("num", "cat")
_PROFILE_FORMAT = "drift_assets.engine.profile/1"

T = TypeVar("T")
R = TypeVar("R")


# --------------------------------------------------------------------------------------------
# Column types
# --------------------------------------------------------------------------------------------


def evidently_column_type(series: pd.Series) -> str:
    """Return the type Evidently 0.7 infers for ``series``.

    Mirrors ``evidently.core.datasets.infer_column_type``: float -> ``"num"``; integer ->
    ``"cat"`` when it has at most 10 distinct non-null values, else ``"num"``; bool and
    ``category`` -> ``"cat"``; strings -> ``"text"`` when more than half of the non-null values
    are distinct, else ``"cat"``; datetimes -> ``"datetime"``; lists -> ``"list"``; anything
    else ``"unknown"``.

    Evidently matches dtype *names* (``startswith("int")``), so it calls unsigned, nullable
    (``Int64``/``Float64``/``boolean``) and Arrow-backed numbers "unknown" and then cannot test
    them. Here those follow the rule of their NumPy counterpart instead; ``run_evidently``
    declares the resulting type explicitly so Evidently still sees the same thing.
    """
    kind = dtype_kind(series.dtype)
    if kind == "int":
        return "cat" if series.nunique() <= INTEGER_CARDINALITY_LIMIT else "num"
    if kind != "string":
        return kind
    if series.dtype == np.dtype(object):
        non_null = series.dropna()
        if non_null.empty:
            return "unknown"
        first, last = non_null.iloc[0], non_null.iloc[-1]
        if isinstance(first, str) and isinstance(last, str):
            return _string_type(series)
        if isinstance(first, list | tuple) and isinstance(last, list | tuple):
            return "list"
        return "unknown"
    return _string_type(series)


def dtype_kind(dtype) -> str:
    """The column's kind from its dtype alone (cat, num, int, datetime, string or unknown): the
    first step of Evidently's rule, which for int and string goes on to look at the values.
    The distributed engine builds its partials from this kind."""
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return "cat"
    if pd.api.types.is_float_dtype(dtype):
        return "num"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if dtype == np.dtype(object) or pd.api.types.is_string_dtype(dtype):
        return "string"
    return "unknown"


def strings_are_categories(distinct: int, present: int) -> bool:
    """Evidently's rule for a column of strings: categorical when at most half of its
    ``present`` (non-null) values are ``distinct``, text otherwise."""
    return distinct <= present * 0.5


def _string_type(series: pd.Series) -> str:
    return "cat" if strings_are_categories(series.nunique(), series.count()) else "text"


def infer_column_types(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> dict[str, str]:
    """Infer each column's drift type with Evidently's own rule (see ``evidently_column_type``).

    Returns ``{column: "num" | "cat"}`` for testable columns. Columns Evidently would not treat
    as numerical or categorical map to ``"text"``, ``"datetime"``, ``"list"`` or ``"unknown"``;
    ``detect_drift`` reports those in ``skipped`` instead of testing them.

    Evidently infers types on the *current* dataset of each run; the engine infers them once on
    the reference (``build_profile`` calls this on the reference frame) so that a cached profile
    fixes the types for every later month, and ``run_evidently`` declares the same types to
    Evidently through a ``DataDefinition``.

    Raises:
        KeyError: a requested column is not in ``frame``.
    """
    columns = list(frame.columns) if columns is None else list(columns)
    _require_columns(frame, columns, "frame")
    return {column: evidently_column_type(frame[column]) for column in columns}


def _require_columns(frame: pd.DataFrame, columns: Iterable[str], side: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise KeyError(f"column(s) {missing} not found in the {side} frame")


# --------------------------------------------------------------------------------------------
# Sorting
# --------------------------------------------------------------------------------------------

# Below this size np.sort is as fast and the radix passes are not worth their temporaries.
RADIX_SORT_MIN = 50_000
_FLIP = np.int64(0x7FFF_FFFF_FFFF_FFFF)


def sort_floats(values: np.ndarray) -> np.ndarray:
    """Sort finite float64 values in place or into a new array; returns the sorted array.

    NumPy's introsort costs ~55 ms per million doubles on the benchmark machine and dominates
    the engine. Two LSD radix passes over the top 32 bits of an order-preserving integer key
    (``argsort(kind="stable")`` on uint16 is a counting sort), then one timsort pass that only
    finds long runs, do it in ~30 ms. The final stable sort makes the result exactly sorted
    whatever the radix passes did, so correctness never depends on them.
    """
    n = values.size
    if n < RADIX_SORT_MIN:
        values.sort()
        return values
    bits = values.view(np.int64)
    # IEEE-754 order as signed integers: flip all but the sign bit of negative numbers
    keys = np.where(bits < 0, bits ^ _FLIP, bits)
    low, high = keys.min(), keys.max()
    span = int(high) - int(low)
    if span == 0:
        return values
    keys -= low  # may wrap around; read as unsigned it is the exact offset from the minimum
    offsets = keys.view(np.uint64)
    shift = max(span.bit_length() - 32, 0)
    offsets >>= np.uint64(shift)
    digit_low = (offsets & np.uint64(0xFFFF)).astype(np.uint16)
    offsets >>= np.uint64(16)
    digit_high = offsets.astype(np.uint16)
    del keys, offsets
    order = np.argsort(digit_low, kind="stable")
    order = order[np.argsort(digit_high[order], kind="stable")]
    ordered = values[order]
    del order
    ordered.sort(kind="stable")
    return ordered


# --------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------


# A numeric column's table of distinct values is kept while it has at most this many: enough for
# every rule that looks at distinct values (types: 10, test choice: 5, PSI bins: 20) and for the
# few-valued columns whose tests run on counts, and small enough to travel from a worker.
TABLE_CAP = 10_000


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (ascending) of a sorted array and how often each occurs."""
    if not values.size:
        return values, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    counts = np.diff(np.append(starts, values.size))
    return values[starts], counts.astype(np.int64)


def _exponent(minimum: float, maximum: float) -> int:
    """The power of two ``e`` with ``max(|minimum|, |maximum|) / 2**e`` in [0.5, 1) (0 for 0)."""
    return math.frexp(max(abs(minimum), abs(maximum)))[1]


@dataclass(frozen=True, eq=False)
class NumericPartial:
    """The small statistics of one numeric column (or of one piece of it), mergeable.

    Everything the drift tests need except the order of the values: counts, mean and the sum of
    squared deviations (merged with Chan's formula, so the standard deviation stays exact to
    rounding), the range (for shared histogram edges), and the table of distinct values while
    there are at most ``TABLE_CAP`` of them. A worker returns one per piece of a month; the
    single-process engine makes one for the whole column: the same code either way.

    The moments are computed on the values divided by ``2**exponent``, which brings the largest
    magnitude into [0.5, 1): squares of values near 1e200 would overflow to inf (and those of
    values near 1e-200 underflow to 0), which made the standard deviation, and every score
    divided by it, depend on the data's units. Dividing by a power of two is exact, so for
    ordinary data the results are bit for bit those of the unscaled formulas.
    """

    n: int
    n_missing: int
    mean: float
    m2: float  # sum of squared deviations from the mean, of the values / 2**exponent
    minimum: float
    maximum: float
    integer: bool
    table: tuple[np.ndarray, np.ndarray] | None = field(repr=False)
    # 0 in profiles pickled before the scaling: their m2 is unscaled, which is what 0 means
    exponent: int = 0

    @classmethod
    def from_sorted(cls, values: np.ndarray, n_missing: int, integer: bool) -> NumericPartial:
        """The partial of sorted finite values."""
        n = int(values.size)
        if not n:
            return cls(0, n_missing, math.nan, 0.0, math.inf, -math.inf, integer, _runs(values))
        exponent = _exponent(float(values[0]), float(values[-1]))
        # a multiplication (twice as fast as np.ldexp) unless 2**-exponent overflows
        deviation = (values * math.ldexp(1.0, -exponent) if exponent > -1000
                     else np.ldexp(values, -exponent))
        mean = deviation.mean()
        deviation -= mean
        deviation *= deviation  # np.std's own steps, so the one-piece case equals it bit for bit
        distinct = _runs(values)
        return cls(n, n_missing, math.ldexp(float(mean), exponent), float(deviation.sum()),
                   float(values[0]), float(values[-1]), integer,
                   distinct if distinct[0].size <= TABLE_CAP else None, exponent)

    @classmethod
    def merge(cls, parts: Sequence[NumericPartial]) -> NumericPartial:
        """The partial of the union of several pieces."""
        exponent = max((p.exponent for p in parts if p.n), default=0)
        n, mean, m2 = 0, math.nan, 0.0  # mean in units of 2**exponent, as m2
        for part in parts:
            if not part.n:
                continue
            part_mean = math.ldexp(part.mean, -exponent)
            part_m2 = math.ldexp(part.m2, 2 * (part.exponent - exponent))
            if not n:
                n, mean, m2 = part.n, part_mean, part_m2
                continue
            total = n + part.n
            delta = part_mean - mean
            mean += delta * part.n / total
            m2 += part_m2 + delta * delta * n * part.n / total
            n = total
        table = None
        if all(p.table is not None for p in parts):
            values = np.concatenate([p.table[0] for p in parts]) if parts else np.empty(0)
            keys, where = np.unique(values + 0.0, return_inverse=True)
            counts = np.bincount(where, weights=np.concatenate([p.table[1] for p in parts]),
                                 minlength=keys.size) if parts else np.zeros(0)
            table = (keys, counts.astype(np.int64)) if keys.size <= TABLE_CAP else None
        return cls(n, sum(p.n_missing for p in parts), math.ldexp(mean, exponent), m2,
                   min((p.minimum for p in parts), default=math.inf),
                   max((p.maximum for p in parts), default=-math.inf),
                   all(p.integer for p in parts), table, exponent)

    @property
    def n_total(self) -> int:
        """Number of rows, missing included."""
        return self.n + self.n_missing

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0, as Evidently's ``np.std(reference)``), finite
        and of the data's own scale however large or small the values are."""
        return math.ldexp(math.sqrt(self.m2 / self.n), self.exponent) if self.n else math.nan

    @property
    def n_unique(self) -> int:
        """Distinct values; ``TABLE_CAP + 1`` stands for "more than ``TABLE_CAP``" (every rule
        compares it with 20 or less)."""
        return int(self.table[0].size) if self.table is not None else TABLE_CAP + 1

    def value_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct values (ascending) and their counts."""
        if self.table is None:
            raise ValueError(f"more than {TABLE_CAP} distinct values: no value table kept")
        return self.table


@dataclass(frozen=True, eq=False)
class NumericSummary:
    """Sorted finite values of one numeric column, plus its missing count.

    ``integer`` records whether the source dtype was an integer one: NumPy widens Sturges bins
    to width 1 for integer arrays, which changes Evidently's PSI bins for such columns. Counts,
    moments and the value table come from its :class:`NumericPartial`; the sorted values are
    what the order statistics (K-S, Wasserstein) walk.
    """

    values: np.ndarray = field(repr=False)
    n_missing: int
    integer: bool = False

    # computed on first use (and pickled once computed): a current-month summary rarely
    # needs all of it, the reference's is used every month
    @cached_property
    def partial(self) -> NumericPartial:
        """The mergeable statistics of these values."""
        return NumericPartial.from_sorted(self.values, self.n_missing, self.integer)

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0, as Evidently's ``np.std(reference)``)."""
        return self.partial.std

    @cached_property
    def n_unique(self) -> int:
        """Number of distinct values."""
        values = self.values
        return 1 + int(np.count_nonzero(values[1:] != values[:-1])) if values.size else 0

    @property
    def minimum(self) -> float:
        """The smallest value (the summary must not be empty)."""
        return float(self.values[0])

    @property
    def maximum(self) -> float:
        """The largest value (the summary must not be empty)."""
        return float(self.values[-1])

    @property
    def n(self) -> int:
        """Number of non-missing values."""
        return int(self.values.size)

    @property
    def n_total(self) -> int:
        """Number of rows, missing included."""
        return self.n + self.n_missing

    @classmethod
    def from_series(cls, series: pd.Series) -> NumericSummary:
        """Summarise a numeric column: sort once, cut the +-inf/NaN tails off as missing."""
        dtype = series.dtype
        integer = bool(pd.api.types.is_integer_dtype(dtype)) and not series.hasnans
        if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, np.dtype):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        elif isinstance(dtype, np.dtype) and dtype.kind in "fiub":
            values = series.to_numpy()
        elif isinstance(dtype, np.dtype) and dtype.kind == "O":
            values = pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64)
        elif pd.api.types.is_numeric_dtype(dtype):
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            raise TypeError(f"column {series.name!r} has non-numeric dtype {dtype}")
        return cls.from_array(values, integer=integer)

    @classmethod
    def from_array(cls, values: np.ndarray, integer: bool = False) -> NumericSummary:
        """Summarise raw values (any order, NaN/inf allowed)."""
        array = np.asarray(values, dtype=np.float64)
        finite = np.isfinite(array)
        n_finite = int(np.count_nonzero(finite))
        if n_finite != array.size:
            kept = array[finite]
        elif array is values or np.may_share_memory(array, values):
            kept = array.copy()  # never sort the caller's array (often a DataFrame block)
        else:
            kept = array  # asarray converted (e.g. from int): already a private copy
        kept += 0.0  # -0.0 -> +0.0: equal values get equal bytes (fingerprint, radix keys)
        return cls(sort_floats(kept), int(array.size - n_finite), integer)

    @classmethod
    def merge(cls, parts: Sequence[NumericSummary]) -> NumericSummary:
        """Summary of the union of several partitions (e.g. computed on separate workers)."""
        values = np.concatenate([p.values for p in parts]) if parts else np.empty(0)
        values += 0.0  # parts built elsewhere may hold -0.0
        # each part is already sorted; the stable sort (timsort) merges runs in linear time
        values.sort(kind="stable")
        return cls(values, sum(p.n_missing for p in parts), all(p.integer for p in parts))

    def value_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Distinct values (ascending) and their counts, from the sorted values."""
        return _runs(self.values)


@dataclass(frozen=True, eq=False)
class CategoricalSummary:
    """Distinct non-missing values of one categorical column with their counts."""

    keys: tuple = field(repr=False)
    counts: np.ndarray = field(repr=False)
    n_missing: int

    @property
    def n(self) -> int:
        """Number of non-missing values."""
        return int(self.counts.sum())

    @property
    def n_total(self) -> int:
        """Number of rows, missing included."""
        return self.n + self.n_missing

    @property
    def n_unique(self) -> int:
        """Number of distinct non-missing values."""
        return len(self.keys)

    def as_dict(self) -> dict[Any, int]:
        """``{value: count}``; Python equality merges 1, 1.0 and True exactly as Evidently's
        ``dict(series.value_counts())`` does."""
        out: dict[Any, int] = {}
        for key, count in zip(self.keys, self.counts.tolist(), strict=True):
            out[key] = out.get(key, 0) + count
        return out

    @classmethod
    def from_series(cls, series: pd.Series) -> CategoricalSummary:
        """Summarise a categorical column with one hash-based ``value_counts``."""
        if isinstance(series.dtype, pd.CategoricalDtype) and \
                not pd.api.types.is_numeric_dtype(series.cat.categories.dtype):
            return cls._from_codes(series)
        counts = series.value_counts(dropna=True, sort=False)
        # category dtype reports unused categories with count 0; Evidently only sees observed ones
        counts = counts[counts.to_numpy() > 0]
        index = counts.index
        if pd.api.types.is_float_dtype(index.dtype):
            finite = np.isfinite(index.to_numpy(dtype=np.float64, na_value=np.nan))
            counts = counts[finite]
        elif index.dtype == object:
            keep = [not (isinstance(k, float) and math.isinf(k)) for k in index]
            if not all(keep):
                counts = counts[np.asarray(keep)]
        keys = tuple(counts.index.tolist())
        values = counts.to_numpy(dtype=np.int64)
        return cls(keys, values, int(len(series) - values.sum()))

    @classmethod
    def _from_codes(cls, series: pd.Series) -> CategoricalSummary:
        """A column of text categories counted on its codes, the values in the order they first
        occur, which is the order ``value_counts`` gives the same column as strings: counts
        are then added up in the same order, so the scores are the same to the last bit."""
        codes = series.cat.codes.to_numpy()
        seen = pd.unique(codes)
        seen = seen[seen >= 0]
        # shifted by one, so that a missing value's code -1 counts in a cell of its own
        counts = np.bincount(codes.astype(np.intp) + 1,
                             minlength=len(series.cat.categories) + 1)[1:][seen].astype(np.int64)
        keys = tuple(series.cat.categories.take(seen).tolist())
        return cls(keys, counts, int(len(series) - counts.sum()))

    @classmethod
    def merge(cls, parts: Sequence[CategoricalSummary]) -> CategoricalSummary:
        """Summary of the union of several partitions."""
        merged: dict[Any, int] = {}
        for part in parts:
            for key, count in part.as_dict().items():
                merged[key] = merged.get(key, 0) + count
        return cls(
            tuple(merged),
            np.fromiter(merged.values(), dtype=np.int64, count=len(merged)),
            sum(p.n_missing for p in parts),
        )


ColumnSummary = NumericSummary | CategoricalSummary


def summarise_column(series: pd.Series, column_type: str) -> ColumnSummary:
    """Summary of ``series`` for a column of type ``"num"`` or ``"cat"``."""
    if column_type == "num":
        return NumericSummary.from_series(series)
    if column_type == "cat":
        return CategoricalSummary.from_series(series)
    raise ValueError(f"cannot summarise a column of type {column_type!r}")


# --------------------------------------------------------------------------------------------
# Reference profile
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class ReferenceProfile:
    """Everything detect_drift needs from a reference data set, computed once.

    Attributes:
        columns: the profiled columns, in order.
        column_types: ``{column: "num" | "cat" | other Evidently type}``.
        n_rows: rows in the reference frame.
        summaries: ``{column: NumericSummary | CategoricalSummary}`` for num/cat columns.
        errors: columns that could not be summarised (e.g. non-numeric data in a "num"
            column) and why.

    Plain data (NumPy arrays, tuples, ints), so it pickles and can be cached with joblib.
    """

    columns: tuple[str, ...]
    column_types: dict[str, str]
    n_rows: int
    summaries: dict[str, ColumnSummary] = field(repr=False)
    errors: dict[str, str] = field(default_factory=dict)
    _fingerprint: str | None = field(default=None, repr=False, compare=False)

    @property
    def fingerprint(self) -> str:
        """Stable hex digest of the profiled data, for keying caches.

        Covers column names, types, row count, missing counts and each column's values as a
        multiset (sorted values / value counts), so it does not depend on row order, the
        process or the Python hash seed. Computed on first use, then kept.
        """
        if self._fingerprint is None:
            self._fingerprint = self._compute_fingerprint()
        return self._fingerprint

    def _compute_fingerprint(self) -> str:
        digest = hashlib.blake2b(digest_size=16)
        digest.update(repr((_PROFILE_FORMAT, self.columns, self.n_rows)).encode())
        for column in self.columns:
            digest.update(repr((column, self.column_types.get(column))).encode())
            summary = self.summaries.get(column)
            if isinstance(summary, NumericSummary):
                digest.update(repr(("num", summary.n_missing, summary.integer)).encode())
                digest.update(memoryview(np.ascontiguousarray(summary.values)))
            elif isinstance(summary, CategoricalSummary):
                # sort by repr so the digest does not depend on value_counts' order
                pairs = sorted(zip(map(repr, summary.keys), summary.counts.tolist(), strict=True))
                digest.update(repr(("cat", summary.n_missing, pairs)).encode())
            else:
                digest.update(repr(("error", self.errors.get(column))).encode())
        return digest.hexdigest()

    def summary(self, column: str) -> ColumnSummary:
        """The summary of ``column``; KeyError when it was not profiled."""
        try:
            return self.summaries[column]
        except KeyError:
            raise KeyError(f"column {column!r} is not in the reference profile") from None


def build_profile(
    reference: pd.DataFrame,
    columns: Sequence[str] | None = None,
    column_types: dict[str, str] | None = None,
    *,
    max_workers: int | None = None,
) -> ReferenceProfile:
    """Summarise a reference frame once so that many current frames can be tested against it.

    Args:
        reference: the reference data.
        columns: columns to profile (default: all columns of ``reference``).
        column_types: ``{column: "num" | "cat"}`` overrides; columns not given are inferred
            from ``reference`` with :func:`infer_column_types` (Evidently's rule).
        max_workers: threads for the per-column work (NumPy sorts release the GIL);
            default ``min(len(columns), os.cpu_count())``.

    Raises:
        KeyError: a requested column is not in ``reference``.
        ValueError: a ``column_types`` value is not ``"num"`` or ``"cat"``.
    """
    columns = list(reference.columns) if columns is None else list(columns)
    _require_columns(reference, columns, "reference")
    given = dict(column_types or {})
    bad = {c: t for c, t in given.items() if t not in TESTABLE_TYPES}
    if bad:
        raise ValueError(f"column_types values must be 'num' or 'cat', got {bad}")
    inferred = infer_column_types(reference, [c for c in columns if c not in given])
    types = {column: given.get(column) or inferred[column] for column in columns}

    testable = [c for c in columns if types[c] in TESTABLE_TYPES]
    results = parallel_map(
        lambda column: _safe_summary(reference[column], types[column]), testable, max_workers
    )
    summaries: dict[str, ColumnSummary] = {}
    errors: dict[str, str] = {}
    for column, (summary, error) in zip(testable, results, strict=True):
        if summary is not None:
            summaries[column] = summary
        else:
            errors[column] = f"reference: {error}"
    return ReferenceProfile(tuple(columns), types, int(len(reference)), summaries, errors)


def _safe_summary(series: pd.Series, column_type: str) -> tuple[ColumnSummary | None, str | None]:
    # A column whose data does not fit its type is reported, not fatal for the whole run
    # (Evidently raises "should contain numerical values only" and loses every other column).
    try:
        summary = summarise_column(series, column_type)
    except (TypeError, ValueError) as exc:
        return None, f"cannot summarise as {column_type!r}: {exc}"
    if isinstance(summary, NumericSummary):
        _ = summary.partial, summary.n_unique  # the reference's are needed by every detect_drift
    return summary, None


def parallel_map(func: Callable[[T], R], items: Sequence[T], max_workers: int | None) -> list[R]:
    """``[func(x) for x in items]`` on a thread pool; NumPy's sorts and searches release the GIL,
    so numeric columns run in parallel."""
    workers = max_workers or min(len(items), os.cpu_count() or 1)
    if workers <= 1 or len(items) <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))
