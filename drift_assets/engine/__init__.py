"""Drift statistics engine: Evidently 0.7 DataDriftPreset's tests and defaults, vectorised.

Plain NumPy/pandas/SciPy; no Dagster here. Evidently itself is only imported by the
``run_evidently``/``save_evidently_html`` helpers, when called.

    profile = build_profile(reference_df, columns)      # once per reference, picklable
    result = detect_drift(profile, current_df)          # per month/partition
    result.dataset_drift, result.drifted_columns, result.to_dict()
"""

from drift_assets.engine.drift import ColumnDrift, DriftResult, detect_drift
from drift_assets.engine.evidently_report import (
    evidently_column_results,
    run_evidently,
    save_evidently_html,
)
from drift_assets.engine.profile import (
    CategoricalSummary,
    NumericSummary,
    ReferenceProfile,
    build_profile,
    infer_column_types,
)

__all__ = [
    "CategoricalSummary",
    "ColumnDrift",
    "DriftResult",
    "NumericSummary",
    "ReferenceProfile",
    "build_profile",
    "detect_drift",
    "evidently_column_results",
    "infer_column_types",
    "run_evidently",
    "save_evidently_html",
]
