"""Jobs: the monthly checks (partitioned), the reference, and retraining."""

from dagster import AssetSelection, define_asset_job

from drift_assets.assets import (
    current_data,
    data_quality_report,
    drift_report,
    model_performance,
    reference_table,
    trained_model,
)

monthly_drift_job = define_asset_job(
    "monthly_drift_job",
    selection=AssetSelection.assets(
        current_data, data_quality_report, drift_report, model_performance
    ),
    description="Load one month, check its quality, its drift and the production model's error.",
)
reference_job = define_asset_job(
    "reference_job",
    selection=AssetSelection.assets(reference_table),
    description="Rebuild the reference table from the configured reference months.",
)
training_job = define_asset_job(
    "training_job",
    selection=AssetSelection.assets(trained_model),
    description="Retrain the demand model and store it as a new version.",
)
