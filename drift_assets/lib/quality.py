"""Data quality of one month against the reference: a per-column profile and four rules."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ERROR = "ERROR"
WARN = "WARN"

# rule -> (severity, what it means). ERROR rules stop the month's drift check downstream.
RULES: dict[str, tuple[str, str]] = {
    "missing_values": (ERROR, "share of missing values above the limit"),
    "schema": (ERROR, "column missing, entirely empty or of another type than in the reference"),
    "stuck_values": (ERROR, "a measurement (a float column) with a single value all month "
                     "that varies in the reference: a stuck sensor"),
    "constant_columns": (WARN, "a code or count with a single value that varies in the "
                         "reference (a month can have one season, or no holiday)"),
    "value_ranges": (WARN, "values outside the reference's minimum and maximum"),
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
            "std": numeric.std() if numeric is not None else np.nan,
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


def assess(current: pd.DataFrame, reference: pd.DataFrame, columns: list[str], **limits
           ) -> QualityReport:
    """Profile every column of ``current`` and apply the rules to ``columns`` (``limits``:
    those of :func:`apply_rules`)."""
    ref_profile = profile(reference)
    return apply_rules(profile(current, reference_bounds(ref_profile)), ref_profile, columns,
                       **limits)


def apply_rules(
    cur_profile: pd.DataFrame,
    ref_profile: pd.DataFrame,
    columns: list[str],
    max_missing_share: float = 0.1,
    max_out_of_range_share: float = 0.0,
) -> QualityReport:
    """The rules on ``columns``, from the month's profile (with its ``outside_share``, against
    the reference's bounds) and the reference's."""
    cur_profile, ref_profile = cur_profile.set_index("column"), ref_profile.set_index("column")
    findings: list[Finding] = []
    for column in columns:
        if column not in cur_profile.index:
            findings.append(Finding("schema", column, f"{column}: missing from the month"))
            continue
        cur, ref = cur_profile.loc[column], ref_profile.loc[column]
        if cur["missing_share"] > max_missing_share:
            findings.append(Finding(
                "missing_values", column,
                f"{column}: {cur['missing_share']:.0%} missing (limit {max_missing_share:.0%})",
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
            findings.append(Finding(
                "value_ranges", column,
                f"{column}: {outside:.0%} outside the reference range "
                f"[{ref['min']:.4g}, {ref['max']:.4g}]",
                float(outside),
            ))
    return QualityReport(cur_profile.reset_index(), findings)
