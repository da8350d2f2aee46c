"""The asset graph of the default settings, for tests that materialize part of it with
resources of their own (the resources' settings decide at run time; the graph's shape and code
versions follow the defaults)."""

from drift_assets.assets import build_assets
from drift_assets.resources import DriftSettings

ALL_ASSETS = build_assets(DriftSettings(reports_dir="reports"))
BY_NAME = {a.key.path[-1]: a for a in ALL_ASSETS}
reference_table, current_data, data_quality_report = (
    BY_NAME["reference_table"], BY_NAME["current_data"], BY_NAME["data_quality_report"])
reference_profile, drift_report = BY_NAME["reference_profile"], BY_NAME["drift_report"]
trained_model, model_performance = BY_NAME["trained_model"], BY_NAME["model_performance"]
