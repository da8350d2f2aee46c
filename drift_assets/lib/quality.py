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
    "constant_columns": (WARN, "a column with a single value that varies in the reference"),
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


def kind_of(values: pd.Series) -> str:
    """'empty', 'int', 'float', 'date' or 'text': the type a person would name."""
    present = values.dropna()
    if present.empty:
        return "empty"
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_integer_dtype(values):
        return "int"
    if pd.api.types.is_float_dtype(values):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date"
    sample = present.iloc[0]
    if hasattr(sample, "isoformat"):
        return "date"
    return "text"


def profile(frame: pd.DataFrame) -> pd.DataFrame:
    """Per column: rows, type, missing count and share, distinct values, mean, std, min, max."""
    rows = []
    for column in frame.columns:
        values = frame[column]
        kind = kind_of(values)
        numeric = pd.to_numeric(values, errors="coerce").astype("float64") if kind in (
            "int", "float") else None
        missing = int(values.isna().sum())
        rows.append(
            {
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
        )
    return pd.DataFrame(rows)


def assess(
    current: pd.DataFrame,
    reference: pd.DataFrame,
    columns: list[str],
    max_missing_share: float = 0.1,
    max_out_of_range_share: float = 0.0,
) -> QualityReport:
    """Profile every column of ``current`` and apply the rules to ``columns``."""
    cur_profile = profile(current).set_index("column")
    ref_profile = profile(reference).set_index("column")
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
            only = current[column].dropna().iloc[0]
            findings.append(Finding("constant_columns", column, f"{column}: every value is {only}"))
        if cur["dtype"] in ("int", "float"):
            values = pd.to_numeric(current[column], errors="coerce").dropna()
            outside = ((values < ref["min"]) | (values > ref["max"])).mean() if len(values) else 0
            if outside > max_out_of_range_share:
                findings.append(Finding(
                    "value_ranges", column,
                    f"{column}: {outside:.0%} outside the reference range "
                    f"[{ref['min']:.4g}, {ref['max']:.4g}]",
                    float(outside),
                ))
    return QualityReport(cur_profile.reset_index(), findings)
