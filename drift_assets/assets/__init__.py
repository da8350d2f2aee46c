"""The asset graph of one dataset by stage: ingest, quality, drift, model."""

from dagster import AssetsDefinition

from drift_assets.assets.drift import build_drift_assets
from drift_assets.assets.ingest import build_ingest_assets
from drift_assets.assets.model import build_model_assets
from drift_assets.assets.quality import build_quality_asset
from drift_assets.monitored import Monitored
from drift_assets.resources.settings import DriftSettings


def build_assets(monitored: Monitored, settings: DriftSettings) -> list[AssetsDefinition]:
    """Every asset of one dataset, keyed ``<dataset>/<asset>`` in the dataset's group; the drift
    assets follow the settings (reference choice, code versions); the model's assets exist
    only for a dataset that declares a model."""
    model = build_model_assets(monitored) if monitored.dataset.model is not None else []
    return [*build_ingest_assets(monitored), build_quality_asset(monitored),
            *build_drift_assets(monitored, settings), *model]
