"""The knobs of the pipeline, as one resource so that every asset reads the same values."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

from drift_assets.lib.schema import DEFAULT_DRIFT_FEATURES


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
    reports_dir: str = Field(description="folder for the Evidently HTML reports")
    html_max_rows: int = Field(
        default=100_000, description="above this many rows the HTML report renders from a sample"
    )
