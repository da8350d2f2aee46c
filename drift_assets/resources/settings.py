"""The knobs of the pipeline, as one resource so that every asset reads the same values."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from drift_assets.lib.schema import DEFAULT_DRIFT_FEATURES

# Setting -> the environment variable that overrides it.
ENV = {
    "reference_months": "DRIFT_REFERENCE_MONTHS",
    "features": "DRIFT_FEATURES",
    "drift_share": "DRIFT_SHARE",
    "promotion_tolerance": "DRIFT_PROMOTION_TOLERANCE",
    "max_rmsle": "DRIFT_MAX_RMSLE",
    "error_n_std": "DRIFT_ERROR_N_STD",
    "retrain_cooldown_hours": "DRIFT_RETRAIN_COOLDOWN_HOURS",
}


class DriftSettings(ConfigurableResource):
    """Reference window, monitored features, thresholds and where reports are written."""

    reference_months: list[str] = Field(
        default=["2011-01"], description="months (YYYY-MM) that make up the reference"
    )
    features: list[str] = Field(
        default=list(DEFAULT_DRIFT_FEATURES), description="columns checked for drift and quality"
    )
    drift_share: float = Field(
        default=0.5, description="dataset drift when the drifted share of columns reaches this"
    )
    max_missing_share: float = Field(default=0.1, description="missing share above this fails")
    max_out_of_range_share: float = Field(
        default=0.05, description="share of values outside the reference range above this warns"
    )
    holdout_share: float = Field(default=0.2, description="newest share of rows held out")
    promotion_tolerance: float = Field(
        default=0.0, description="a candidate may be this much (relative) worse and still promote"
    )
    max_rmsle: float | None = Field(
        default=None, description="fixed monthly RMSLE bound; unset: learned from history"
    )
    error_n_std: float = Field(
        default=3.0, description="learned bound: mean + this many std of earlier months' RMSLE"
    )
    retrain_cooldown_hours: float = Field(
        default=24.0, description="at most one drift-triggered retrain in this many hours"
    )
    reports_dir: str = Field(description="folder for reports and charts")
    html_max_rows: int = Field(
        default=100_000, description="above this many rows the HTML report renders from a sample"
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str], folder: Path) -> DriftSettings:
        """Defaults, overridden by the ``DRIFT_*`` variables that are set (see ``ENV``)."""
        values: dict = {"reports_dir": str(folder / "reports")}
        for name, variable in ENV.items():
            raw = env.get(variable)
            if not raw:
                continue
            if name in ("reference_months", "features"):
                values[name] = [v.strip() for v in raw.split(",") if v.strip()]
            else:
                values[name] = float(raw)
        return cls(**values)
