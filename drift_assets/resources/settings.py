"""The knobs of the pipeline, as one resource so that every asset reads the same values."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

from drift_assets.lib.reference import ReferenceChoice


class DriftSettings(ConfigurableResource):
    """Reference window, monitored features, thresholds and where reports are written."""

    reference_months: list[str] = Field(
        default=[],
        description="months (YYYY-MM) of the fixed reference table, unless DRIFT_REFERENCE "
        "names them (fixed:YYYY-MM,…); rolling and seasonal windows fall back to it; empty: "
        "the dataset's first month",
    )
    reference: str | None = Field(
        default=None,
        description="what a month is compared against: fixed:YYYY-MM[,…], rolling:N, "
        "seasonal; unset: the fixed reference months",
    )
    thresholds: str = Field(
        default="evidently",
        description="evidently (Evidently's tests and thresholds) or calibrated (effect sizes "
        "against thresholds learned from alike periods)",
    )
    min_effect: float = Field(
        default=0.2, description="calibrated: no column drifts below this effect size"
    )
    calibration_quantile: float = Field(
        default=0.999, description="calibrated: quantile of the effect sizes of alike periods"
    )
    fdr: float | None = Field(
        default=None, description="Benjamini-Hochberg false discovery rate across columns"
    )
    persistence: str = Field(
        default="1/1", description="k/n: a dataset alert needs drift in k of the last n months"
    )
    features: list[str] = Field(
        default=[], description="columns checked for drift and quality; empty: the dataset's "
        "declared features, else every column but its timestamp, key, labels and target"
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
    reports_url: str = Field(default="", description="where reports_dir is served (the links "
                             "in the UI and the alerts); empty: links are file paths")
    html_max_rows: int = Field(
        # the report is for looking at (binned histograms); the verdict uses every row
        default=20_000, description="above this many rows the HTML report renders from a sample"
    )

    @property
    def reference_choice(self) -> ReferenceChoice:
        """The parsed reference choice; its ``months`` are the fixed reference table's."""
        return ReferenceChoice.parse(self.reference, self.reference_months or None)
