"""The asset graph by stage: ingest, quality, drift, model."""

from drift_assets.assets.drift import drift_report
from drift_assets.assets.ingest import current_data, reference_table
from drift_assets.assets.model import model_performance, trained_model
from drift_assets.assets.quality import data_quality_report

ALL_ASSETS = [
    reference_table, current_data, data_quality_report, drift_report, trained_model,
    model_performance,
]
