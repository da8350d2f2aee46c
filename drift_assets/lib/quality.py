"""Data quality of one month against the reference: a per-column profile and its rules."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from drift_assets.lib.schema import LABEL_COLUMNS, NUMERIC_FEATURES

ERROR = "ERROR"
WARN = "WARN"

# Column -> (lowest, highest) value a day of the bike-sharing table can hold, in the table's own
# units (the public table's Readme, UCI Bike Sharing Dataset, whose two versions give two
# normalisations). A value beyond is not weather or demand but a broken feed, and the month is
# blocked. The bounds are physical, not the public table's observed range: a real day colder or
# windier than any of 2011-2012 passes.
#   codes: season 1..4, mnth 1..12, weekday 0..6, holiday and workingday 0/1, weathersit 1..4
#     (the four situations; the public table has no 4), yr the year since 2011 (0..1 in the
#     public table; 100 is 2111), instant a row index from 1.
#   temp = t/41 (t in Celsius; or (t+8)/47) and atemp = t/50 (or (t+16)/66):
#     +-2.5 is beyond +-100 C in every one of these scalings, and no air temperature on Earth
#     reaches that (the records are -89.2 C and 56.7 C).
#   hum = relative humidity / 100: 0..1 by definition.
#   windspeed = km/h / 67: 6.1 is 408 km/h, the strongest gust ever measured (Barrow Island,
#     1996), which no daily mean can exceed.
#   casual, registered, cnt: riders in a day, never negative; 1,000,000 is over a hundred times
#     the public table's busiest day (8,714).
POSSIBLE_RANGES: dict[str, tuple[float, float]] = {
    "instant": (1, np.inf),
    "season": (1, 4),
    "yr": (0, 100),
    "mnth": (1, 12),
    "holiday": (0, 1),
    "weekday": (0, 6),
    "workingday": (0, 1),
    "weathersit": (1, 4),
    "temp": (-2.5, 2.5),
    "atemp": (-2.5, 2.5),
    "hum": (0, 1),
    "windspeed": (0, 6.1),
    "casual": (0, 1_000_000),
    "registered": (0, 1_000_000),
    "cnt": (0, 1_000_000),
}
# Measurements and counts are also held to the reference: a value more than this many reference
# ranges (max - min) beyond the reference's minimum or maximum is no season's weather or demand.
# (Codes have exact domains above; instant and yr grow with time.) For the weather the possible
# ranges above are the tighter bound; this one catches a count a deployment cannot reach though
# a larger one could (a station-day of 100,000 riders). On the generated data, every month of
# 2011-2014 for seeds 0..8 (one and four rows a day) against any single month of 2011-2012 as
# the reference, the farthest value is 9.7 ranges beyond (casual: March 2011 against October
# 2014, after two years of growth); demand grows several-fold over years, so 10 would block
# real months: 100 leaves an order of magnitude.
FAR_FROM_REFERENCE = 100
HELD_TO_REFERENCE = NUMERIC_FEATURES + LABEL_COLUMNS


# rule -> (severity, what it means). ERROR rules stop the month's drift check downstream.
RULES: dict[str, tuple[str, str]] = {
    "missing_values": (ERROR, "share of missing values above the limit"),
    "schema": (ERROR, "column missing, entirely empty or of another type than in the reference"),
    "stuck_values": (ERROR, "a measurement (a float column) with a single value all month "
                     "that varies in the reference: a stuck sensor"),
    "impossible_values": (ERROR, "a value no sensor or counter can produce, in any column: "
                          "outside the column's possible range, not a finite number, or a "
                          f"measurement or count more than {FAR_FROM_REFERENCE} reference "
                          "ranges beyond the reference's minimum or maximum"),
    "constant_columns": (WARN, "a code or count with a single value that varies in the "
                         "reference (a month can have one season, or no holiday)"),
    "value_ranges": (WARN, "values outside every value seen before: the reference's and the "
                     "earlier months' minimum and maximum"),
}


@dataclass(frozen=True)
class Finding:
    rule: str
    column: str
    message: str
    value: float | None = None

    @property
    def severity(self) -> str:
        return RULES[self.rule][0]


@dataclass
class QualityReport:
    profile: pd.DataFrame
    findings: list[Finding] = field(default_factory=list)

    def findings_for(self, rule: str) -> list[Finding]:
        return [f for f in self.findings if f.rule == rule]

    @property
    def passed(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def summary(self) -> str:
        return "; ".join(f.message for f in self.findings) or "no findings"


def _dtype_kind(dtype) -> str | None:
    """'int', 'float' or 'date' from the dtype alone; None when the values must be looked at."""
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    return None


def kind_of(values: pd.Series) -> str:
    """'empty', 'int', 'float', 'date' or 'text': the type a person would name."""
    present = values.dropna()
    if present.empty:
        return "empty"
    kind = _dtype_kind(values.dtype)
    if kind:
        return kind
    sample = present.iloc[0]
    if hasattr(sample, "isoformat"):
        return "date"
    return "text"


def _std(numeric: pd.Series) -> float:
    """The standard deviation; inf or NaN, without a warning, when a value is too large to
    square or infinite (the ``impossible_values`` rule names it)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return numeric.std()


def profile(frame: pd.DataFrame, bounds: dict[str, tuple[float, float]] | None = None
            ) -> pd.DataFrame:
    """Per column: rows, type, missing count and share, distinct values, mean, std, min, max;
    with ``bounds`` (column -> reference min, max) also the share of its values outside them."""
    rows = []
    for column in frame.columns:
        values = frame[column]
        kind = kind_of(values)
        numeric = pd.to_numeric(values, errors="coerce").astype("float64") if kind in (
            "int", "float") else None
        missing = int(values.isna().sum())
        row = {
            "column": column,
            "rows": len(values),
            "dtype": kind,
            "missing": missing,
            "missing_share": missing / len(values) if len(values) else 0.0,
            "unique": int(values.nunique(dropna=True)),
            "mean": numeric.mean() if numeric is not None else np.nan,
            "std": _std(numeric) if numeric is not None else np.nan,
            "min": numeric.min() if numeric is not None else np.nan,
            "max": numeric.max() if numeric is not None else np.nan,
        }
        if bounds is not None:
            row["outside_share"] = np.nan
            if column in bounds and numeric is not None and numeric.notna().any():
                low, high = bounds[column]
                present = numeric.dropna()
                row["outside_share"] = float(((present < low) | (present > high)).mean())
        rows.append(row)
    return pd.DataFrame(rows)


def profile_on_cluster(frame, client, bounds: dict[str, tuple[float, float]] | None = None
                       ) -> pd.DataFrame:
    """:func:`profile` of a Dask frame, from Dask's own reductions on the workers."""
    # object columns: a person's name for the values, from the first one present
    kinds = {column: _dtype_kind(dtype)
             or kind_of(frame[column].dropna().head(1, npartitions=-1))
             for column, dtype in frame.dtypes.items()}
    numeric = [c for c, k in kinds.items() if k in ("int", "float")]
    values = frame[numeric].astype("float64")
    outside = {c: ((values[c] < low) | (values[c] > high)).sum()
               for c, (low, high) in (bounds or {}).items() if c in numeric}
    # a tree reduction to one partition: a column's distinct values are far fewer than its rows
    unique = [frame[c].nunique(split_out=1) for c in frame.columns]
    wanted = [frame.index.size, frame.isna().sum(), values.mean(), values.std(), values.min(),
              values.max(), *unique, *outside.values()]
    size, missing_counts, *got = client.gather(client.compute(wanted))
    stats = dict(zip(("mean", "std", "min", "max"), got[:4], strict=True))
    unique = got[4:4 + len(unique)]
    outside = dict(zip(outside, got[4 + len(unique):], strict=True))
    rows = []
    for i, column in enumerate(frame.columns):
        missing = int(missing_counts[column])
        present = size - missing
        row = {"column": column, "rows": int(size), "dtype": kinds[column] if present else "empty",
               "missing": missing, "missing_share": missing / size if size else 0.0,
               "unique": int(unique[i])}
        for name, values_of in stats.items():
            row[name] = float(values_of[column]) if column in numeric else np.nan
        if bounds is not None:
            row["outside_share"] = outside[column] / present if column in outside and present \
                else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def reference_bounds(reference_profile: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Column -> (min, max) of the numeric columns of a reference :func:`profile`."""
    numeric = reference_profile[reference_profile["dtype"].isin(["int", "float"])]
    return {r.column: (r.min, r.max) for r in numeric.itertuples()}


def _values_beyond(low: float, high: float, bottom: float, top: float) -> list[float]:
    """The month's minimum and maximum (``low``, ``high``) that lie outside [bottom, top]."""
    return [v for v in dict.fromkeys((low, high)) if not bottom <= v <= top]


def _said(values: list[float]) -> str:
    return ("value " if len(values) == 1 else "values ") + " and ".join(f"{v:g}" for v in values)


def impossible_values(cur_profile: pd.DataFrame, ref_profile: pd.DataFrame,
                      possible: dict[str, tuple[float, float]] | None = None,
                      held: tuple[str, ...] | list[str] | None = None) -> list[Finding]:
    """The ``impossible_values`` rule on every numeric column of a month's :func:`profile`
    (indexed by column), from its minimum and maximum alone, so that it runs alike on one
    process and on a Dask cluster: one finding per column, naming the value and the bound.
    ``possible``: column -> its possible range; ``held``: the columns held to the reference's
    range (None: the bike table's, :data:`POSSIBLE_RANGES` and :data:`HELD_TO_REFERENCE`)."""
    possible = POSSIBLE_RANGES if possible is None else possible
    held = HELD_TO_REFERENCE if held is None else held
    findings = []
    for column, cur in cur_profile.iterrows():
        low, high = cur["min"], cur["max"]
        if cur["dtype"] not in ("int", "float") or pd.isna(low) or pd.isna(high):
            continue  # no numbers: the schema rule's business
        extremes = [v for v in dict.fromkeys((low, high)) if not np.isfinite(v)]
        message = "is not a finite number" if len(extremes) == 1 else "are not finite numbers"
        if not extremes and column in possible:
            bottom, top = possible[column]
            extremes = _values_beyond(low, high, bottom, top)
            message = f"outside its possible range [{bottom:g}, {top:g}]"
        if not extremes and column in held and column in ref_profile.index:
            ref_low, ref_high = ref_profile.loc[column, ["min", "max"]].astype(float)
            span = ref_high - ref_low
            if np.isfinite(span) and span > 0:
                reach = FAR_FROM_REFERENCE * span
                extremes = _values_beyond(low, high, ref_low - reach, ref_high + reach)
                message = (f"more than {FAR_FROM_REFERENCE} reference ranges beyond the "
                           f"reference's [{ref_low:.4g}, {ref_high:.4g}]")
        if extremes:
            worst = max(extremes, key=abs)
            findings.append(Finding("impossible_values", column,
                                    f"{column}: {_said(extremes)} {message}", float(worst)))
    return findings


def widen(bounds: dict[str, tuple[float, float]],
          seen: dict[str, tuple[float, float]] | None) -> dict[str, tuple[float, float]]:
    """The reference's bounds widened by the range of the months seen since (column -> low,
    high): a July is held to every value seen before it, not to the January reference alone."""
    out = dict(bounds)
    for column, (low, high) in (seen or {}).items():
        if column in out:
            ref_low, ref_high = out[column]
            out[column] = (min(ref_low, low), max(ref_high, high))
    return out


def assess(current: pd.DataFrame, reference: pd.DataFrame, columns: list[str],
           allowed: dict[str, tuple[str, ...]] | None = None,
           seen: dict[str, tuple[float, float]] | None = None, **limits) -> QualityReport:
    """Profile every column of ``current`` and apply the rules to ``columns`` (``limits``:
    those of :func:`apply_rules`); ``allowed``: column -> the only values it may hold;
    ``seen``: column -> the range of earlier months, which widens the reference's for the
    ``value_ranges`` rule."""
    ref_profile = profile(reference)
    bounds = widen(reference_bounds(ref_profile), seen)
    report = apply_rules(profile(current, bounds), ref_profile, columns, bounds=bounds,
                         **limits)
    for column, values in (allowed or {}).items():
        if column not in current:
            continue
        present = current[column].dropna()
        text = present.astype(str).str.removesuffix(".0") if \
            pd.api.types.is_float_dtype(present) else present.astype(str)
        stray = sorted(set(text) - set(values))
        if stray:
            report.findings.append(Finding(
                "impossible_values", column, f"{column}: {len(stray)} value(s) not among the "
                f"declared ones ({', '.join(map(repr, stray[:3]))}"
                f"{', …' if len(stray) > 3 else ''})"))
    return report


def apply_rules(
    cur_profile: pd.DataFrame,
    ref_profile: pd.DataFrame,
    columns: list[str],
    max_missing_share: float = 0.1,
    max_out_of_range_share: float = 0.0,
    possible: dict[str, tuple[float, float]] | None = None,
    held: tuple[str, ...] | list[str] | None = None,
    missing_shares: dict[str, float] | None = None,
    bounds: dict[str, tuple[float, float]] | None = None,
) -> QualityReport:
    """The rules on ``columns``, from the month's profile (with its ``outside_share``, against
    ``bounds``: the reference's, or those :func:`widen` made of them) and the reference's;
    ``impossible_values`` on every column, since a label or a code that cannot be poisons the
    model as much as a feature."""
    cur_profile, ref_profile = cur_profile.set_index("column"), ref_profile.set_index("column")
    findings: list[Finding] = impossible_values(cur_profile, ref_profile, possible, held)
    for column in columns:
        if column not in cur_profile.index:
            findings.append(Finding("schema", column, f"{column}: missing from the month"))
            continue
        cur, ref = cur_profile.loc[column], ref_profile.loc[column]
        limit = (missing_shares or {}).get(column, max_missing_share)
        if cur["missing_share"] > limit:
            findings.append(Finding(
                "missing_values", column,
                f"{column}: {cur['missing_share']:.0%} missing (limit {limit:.0%})",
                float(cur["missing_share"]),
            ))
        if cur["dtype"] != ref["dtype"]:
            findings.append(Finding(
                "schema", column, f"{column}: type {ref['dtype']} in the reference, "
                f"{cur['dtype']} in the month",
            ))
            continue
        if cur["unique"] == 1 and ref["unique"] > 1:
            if cur["dtype"] == "float":
                findings.append(Finding("stuck_values", column, f"{column}: every value is "
                                        f"{cur['min']:g} (a stuck sensor?)"))
            else:
                only = f" {cur['min']:g}" if cur["dtype"] == "int" else " the same"
                findings.append(Finding("constant_columns", column, f"{column}: every value is"
                                        f"{only}"))
        outside = cur.get("outside_share", np.nan)
        if not pd.isna(outside) and outside > max_out_of_range_share:
            low, high = (bounds or {}).get(column, (ref["min"], ref["max"]))
            which = "the reference range" if (low, high) == (ref["min"], ref["max"]) else \
                "the range seen before (the reference and the earlier months)"
            findings.append(Finding(
                "value_ranges", column,
                f"{column}: {outside:.0%} outside {which} [{low:.4g}, {high:.4g}]",
                float(outside),
            ))
    return QualityReport(cur_profile.reset_index(), findings)
