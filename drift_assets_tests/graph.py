"""The bike-sharing dataset of the project's declaration and its asset graph under the default
settings, for tests that materialize part of it with resources of their own (the resources'
settings decide at run time; the graph's shape and code versions follow the defaults)."""

from dagster import AssetKey

from drift_assets.assets import build_assets
from drift_assets.lib.declaration import load_declarations
from drift_assets.monitored import Monitored
from drift_assets.resources import DriftSettings
from drift_assets.resources.warehouse import DatasetWarehouse
from drift_assets.settings import PROJECT_ROOT

DECLARED = load_declarations(PROJECT_ROOT / "drift_assets.yaml")
BIKE = Monitored(DECLARED["bike_sharing"])
TICKETS = Monitored(DECLARED["support_tickets"])

ALL_ASSETS = build_assets(BIKE, DriftSettings(reports_dir="reports"))
BY_NAME = {a.key.path[-1]: a for a in ALL_ASSETS}
reference_table, current_data, data_quality_report = (
    BY_NAME["reference_table"], BY_NAME["current_data"], BY_NAME["data_quality_report"])
reference_profile, drift_report = BY_NAME["reference_profile"], BY_NAME["drift_report"]
trained_model, model_performance = BY_NAME["trained_model"], BY_NAME["model_performance"]


def bike(warehouse) -> DatasetWarehouse:
    """The bike dataset's part of ``warehouse``: its tables, history, registry, cursors."""
    return BIKE.store(warehouse)


def key(asset: str) -> AssetKey:
    """The bike dataset's key of ``asset`` (``bike_sharing/drift_report``)."""
    return BIKE.key(asset)


def node(asset: str) -> str:
    """The op name of the bike dataset's ``asset``: what run config and results are keyed by."""
    return BIKE.key(asset).to_python_identifier()


def job(name: str) -> str:
    """The bike dataset's job (or sensor, schedule) ``name``: ``bike_sharing__<name>``."""
    return BIKE.job_name(name)
