"""Jobs: the monthly checks (partitioned), the reference, and retraining."""

from dagster import AssetKey, AssetSelection, define_asset_job

MONTHLY = ["current_data", "data_quality_report", "reference_profile", "drift_report",
           "model_performance"]

monthly_drift_job = define_asset_job(
    "monthly_drift_job",
    selection=AssetSelection.assets(*(AssetKey(k) for k in MONTHLY)),
    description="Load one month, check its quality, its drift and the production model's error.",
)
reference_job = define_asset_job(
    "reference_job",
    selection=AssetSelection.assets(AssetKey("reference_table")),
    description="Rebuild the reference table from the configured reference months.",
)
training_job = define_asset_job(
    "training_job",
    selection=AssetSelection.assets(AssetKey("trained_model")),
    description="Retrain the demand model and store it as a new version.",
)
