"""The asset graph by stage: ingest, quality, drift, model."""

from dagster import AssetsDefinition

from drift_assets.assets.drift import build_drift_assets
from drift_assets.assets.ingest import current_data, reference_table
from drift_assets.assets.model import model_performance, trained_model
from drift_assets.assets.quality import data_quality_report
from drift_assets.resources.settings import DriftSettings


def build_assets(settings: DriftSettings) -> list[AssetsDefinition]:
    """Every asset; the drift assets follow the settings (reference choice, code versions)."""
    return [reference_table, current_data, data_quality_report,
            *build_drift_assets(settings), trained_model, model_performance]

